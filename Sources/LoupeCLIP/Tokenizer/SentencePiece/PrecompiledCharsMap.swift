/// SentencePiece's compiled normalisation rules (`normalizer_spec.precompiled_charsmap`, or the
/// `Precompiled` normalizer of a `tokenizer.json`): a darts-clone double-array trie from UTF-8
/// input prefixes to offsets in a blob of NUL-terminated replacement strings.
///
/// Layout: a little-endian `UInt32` byte size of the trie, the trie's 32-bit units, then the
/// replacement strings.
struct PrecompiledCharsMap: Sendable {
    private let units: [UInt32]
    private let replacements: [UInt8]

    init(_ blob: [UInt8]) throws(CLIPError) {
        guard blob.count >= 4 else { throw CLIPError(.invalidTokenizer, "the precompiled charsmap is truncated") }
        let trieSize = Int(blob[0]) | Int(blob[1]) << 8 | Int(blob[2]) << 16 | Int(blob[3]) << 24
        guard trieSize % 4 == 0, trieSize >= 4, 4 + trieSize <= blob.count else {
            throw CLIPError(
                .invalidTokenizer, "the precompiled charsmap's trie size \(trieSize) does not fit its \(blob.count) bytes")
        }
        var units = [UInt32](repeating: 0, count: trieSize / 4)
        for index in units.indices {
            let base = 4 + 4 * index
            units[index] =
                UInt32(blob[base]) | UInt32(blob[base + 1]) << 8 | UInt32(blob[base + 2]) << 16
                | UInt32(blob[base + 3]) << 24
        }
        self.units = units
        replacements = Array(blob[(4 + trieSize)...])
    }

    // darts-clone's unit encoding.
    private static func hasLeaf(_ unit: UInt32) -> Bool { (unit >> 8) & 1 == 1 }
    private static func value(_ unit: UInt32) -> Int { Int(unit & 0x7FFF_FFFF) }
    private static func label(_ unit: UInt32) -> UInt32 { unit & (0x8000_0000 | 0xFF) }
    private static func offset(_ unit: UInt32) -> Int { Int((unit >> 10) << ((unit & (1 << 9)) >> 6)) }

    /// The longest rule matching a prefix of `bytes[start...]`: its length in bytes and its
    /// replacement, or nil if no rule matches.
    func longestMatch(in bytes: [UInt8], from start: Int) -> (length: Int, replacement: ArraySlice<UInt8>)? {
        guard !units.isEmpty else { return nil }
        var position = Self.offset(units[0])
        var best: (length: Int, value: Int)?
        var index = start
        while index < bytes.count {
            let byte = bytes[index]
            position ^= Int(byte)
            guard position >= 0, position < units.count else { break }
            let unit = units[position]
            guard Self.label(unit) == UInt32(byte) else { break }
            position ^= Self.offset(unit)
            guard position >= 0, position < units.count else { break }
            if Self.hasLeaf(unit) {
                best = (index - start + 1, Self.value(units[position]))
            }
            index += 1
        }
        guard let best, best.value < replacements.count else { return nil }
        let end = replacements[best.value...].firstIndex(of: 0) ?? replacements.count
        return (best.length, replacements[best.value..<end])
    }
}

/// SentencePiece's normaliser (`normalizer.cc`): the precompiled rules, then whitespace handling.
struct SentencePieceNormalizer: Sendable {
    var charsMap: PrecompiledCharsMap?
    var addDummyPrefix: Bool
    var removeExtraWhitespaces: Bool
    var escapeWhitespaces: Bool

    private static let spaceSymbol: [UInt8] = Array("\u{2581}".utf8)
    private static let replacementCharacter: [UInt8] = [0xEF, 0xBF, 0xBD]

    /// One normalised prefix of `bytes[start...]` and how many input bytes it consumed.
    private func normalizePrefix(_ bytes: [UInt8], _ start: Int) -> (ArraySlice<UInt8>, Int) {
        if let charsMap, let match = charsMap.longestMatch(in: bytes, from: start) {
            return (match.replacement, match.length)
        }
        let length = UTF8Scalar.length(bytes, start)
        guard length > 0 else { return (Self.replacementCharacter[...], 1) }
        return (bytes[start..<(start + length)], length)
    }

    /// Normalises UTF-8 text the way `SentencePieceProcessor::Encode` does before segmenting.
    func normalize(_ input: [UInt8]) -> [UInt8] {
        var start = 0
        if removeExtraWhitespaces {
            while start < input.count {
                let (piece, consumed) = normalizePrefix(input, start)
                guard piece.elementsEqual([UInt8(ascii: " ")]) else { break }
                start += consumed
            }
        }
        guard start < input.count else { return [] }
        var output: [UInt8] = []
        output.reserveCapacity(input.count * 3 / 2 + 3)
        if addDummyPrefix { output += escapeWhitespaces ? Self.spaceSymbol : [UInt8(ascii: " ")] }
        var previousWasSpace = removeExtraWhitespaces
        while start < input.count {
            var (piece, consumed) = normalizePrefix(input, start)
            if previousWasSpace {
                while piece.first == UInt8(ascii: " ") { piece = piece.dropFirst() }
            }
            if !piece.isEmpty {
                for byte in piece {
                    if escapeWhitespaces, byte == UInt8(ascii: " ") {
                        output += Self.spaceSymbol
                    } else {
                        output.append(byte)
                    }
                }
                previousWasSpace = piece.last == UInt8(ascii: " ")
            }
            start += consumed
            if !removeExtraWhitespaces { previousWasSpace = false }
        }
        if removeExtraWhitespaces {
            let space = escapeWhitespaces ? Self.spaceSymbol : [UInt8(ascii: " ")]
            while output.count >= space.count, output.suffix(space.count).elementsEqual(space) {
                output.removeLast(space.count)
            }
        }
        return output
    }
}

/// UTF-8 scalar boundaries in byte buffers.
enum UTF8Scalar {
    /// The byte length of the well-formed scalar starting at `bytes[start]`, or 0 if malformed.
    static func length(_ bytes: [UInt8], _ start: Int) -> Int {
        let lead = bytes[start]
        let length: Int
        switch lead {
        case 0..<0x80: return 1
        case 0xC2...0xDF: length = 2
        case 0xE0...0xEF: length = 3
        case 0xF0...0xF4: length = 4
        default: return 0
        }
        guard start + length <= bytes.count else { return 0 }
        for offset in 1..<length where bytes[start + offset] & 0xC0 != 0x80 { return 0 }
        return length
    }
}
