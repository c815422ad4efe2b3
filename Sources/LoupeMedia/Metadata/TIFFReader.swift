import Foundation

/// Reads the entries of TIFF image file directories (IFDs): the structure of TIFF files and of the
/// EXIF block inside JPEG, PNG and WebP files.
///
/// Every offset is bounds-checked; a damaged directory yields fewer entries, never a crash.
struct TIFFReader {
    /// One directory entry with its value decoded where the type is one Loupe uses.
    struct Entry {
        let tag: UInt16
        let type: UInt16
        let count: Int
        /// Offset of the value bytes in the buffer (inline values point into the entry).
        let valueOffset: Int
    }

    let bytes: UnsafeRawBufferPointer
    let littleEndian: Bool

    /// Recognises the `II*\0` / `MM\0*` header; nil when `bytes` is not a TIFF structure.
    init?(_ bytes: UnsafeRawBufferPointer) {
        guard bytes.count >= 8 else { return nil }
        if bytes[0] == 0x49 && bytes[1] == 0x49 && bytes[2] == 0x2A && bytes[3] == 0 {
            littleEndian = true
        } else if bytes[0] == 0x4D && bytes[1] == 0x4D && bytes[2] == 0 && bytes[3] == 0x2A {
            littleEndian = false
        } else {
            return nil
        }
        self.bytes = bytes
    }

    /// Offset of the first IFD.
    var firstDirectory: Int? { uint32(at: 4).map(Int.init) }

    func uint16(at offset: Int) -> UInt16? {
        guard offset >= 0, offset + 2 <= bytes.count else { return nil }
        let a = UInt16(bytes[offset]), b = UInt16(bytes[offset + 1])
        return littleEndian ? a | b << 8 : a << 8 | b
    }

    func uint32(at offset: Int) -> UInt32? {
        guard offset >= 0, offset + 4 <= bytes.count else { return nil }
        let b = (0..<4).map { UInt32(bytes[offset + $0]) }
        return littleEndian ? b[0] | b[1] << 8 | b[2] << 16 | b[3] << 24 : b[0] << 24 | b[1] << 16 | b[2] << 8 | b[3]
    }

    /// The entries of the directory at `offset` (at most 1,000, as a guard against garbage).
    func entries(at offset: Int) -> [Entry] {
        guard let count = uint16(at: offset), count <= 1000 else { return [] }
        var entries: [Entry] = []
        for index in 0..<Int(count) {
            let start = offset + 2 + index * 12
            guard let tag = uint16(at: start), let type = uint16(at: start + 2), let n = uint32(at: start + 4) else {
                break
            }
            let size = Self.size(ofType: type) * Int(n)
            let valueOffset: Int
            if size <= 4 {
                valueOffset = start + 8
            } else {
                guard let pointer = uint32(at: start + 8), Int(pointer) + size <= bytes.count else { continue }
                valueOffset = Int(pointer)
            }
            entries.append(Entry(tag: tag, type: type, count: Int(n), valueOffset: valueOffset))
        }
        return entries
    }

    /// Bytes per value of a TIFF field type (0 for unknown types).
    static func size(ofType type: UInt16) -> Int {
        switch type {
        case 1, 2, 6, 7: 1
        case 3, 8: 2
        case 4, 9, 11: 4
        case 5, 10, 12: 8
        default: 0
        }
    }

    /// The first integer of a BYTE, SHORT or LONG entry.
    func integer(_ entry: Entry) -> Int? {
        switch entry.type {
        case 1: entry.valueOffset < bytes.count ? Int(bytes[entry.valueOffset]) : nil
        case 3: uint16(at: entry.valueOffset).map(Int.init)
        case 4: uint32(at: entry.valueOffset).map(Int.init)
        default: nil
        }
    }

    /// An ASCII entry without its trailing NULs and spaces.
    func string(_ entry: Entry) -> String? {
        guard entry.type == 2, entry.count > 0, entry.valueOffset + entry.count <= bytes.count else { return nil }
        let raw = bytes[entry.valueOffset..<(entry.valueOffset + entry.count)].prefix { $0 != 0 }
        let text = String(decoding: raw, as: UTF8.self).trimmingCharacters(in: .whitespaces)
        return text.isEmpty ? nil : text
    }

    /// The `index`-th value of a RATIONAL entry.
    func rational(_ entry: Entry, index: Int = 0) -> Double? {
        guard entry.type == 5, index < entry.count else { return nil }
        let offset = entry.valueOffset + index * 8
        guard let numerator = uint32(at: offset), let denominator = uint32(at: offset + 4), denominator != 0 else {
            return nil
        }
        return Double(numerator) / Double(denominator)
    }
}
