/// GPT-2's `bytes_to_unicode`: a reversible map from the 256 byte values to printable
/// Unicode scalars, so that byte-level BPE symbols can be written as ordinary strings in
/// `vocab.json` and `merges.txt`.
///
/// Printable Latin-1 bytes (`!`...`~`, `¡`...`¬`, `®`...`ÿ`) map to themselves; the other
/// 68 bytes map, in increasing order, to U+0100, U+0101, and so on.
enum ByteLevelAlphabet {
    /// The scalar standing for each byte value.
    static let scalars: [Unicode.Scalar] = {
        var next: UInt32 = 0x100
        return (0...255).map { (byte: UInt32) -> Unicode.Scalar in
            switch byte {
            case 0x21...0x7E, 0xA1...0xAC, 0xAE...0xFF:
                return Unicode.Scalar(byte)!
            default:
                defer { next += 1 }
                return Unicode.Scalar(next)!
            }
        }
    }()

    /// The suffix CLIP's BPE appends to the last symbol of every word.
    static let endOfWordSuffix = "</w>"
}
