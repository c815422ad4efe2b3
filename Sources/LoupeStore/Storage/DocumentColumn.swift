import Foundation

/// The scalar and dynamic fields of every slot: decoded rows, or rows still in their compact binary form
/// (as the row file holds them) and decoded on first use.
///
/// Opening a large collection from its row file leaves every document encoded: decoding 100k
/// dictionaries would cost more than everything else an open does. A filter reads only the fields it
/// names (`fields(_:of:)` walks the bytes without building the row); a hit's full document is decoded
/// once and kept. Used only while the owning client's actor is held, so the cache needs no lock.
final class DocumentColumn: @unchecked Sendable {
    private var rows: [Row?] = []
    /// Encoded documents of slots loaded from a row file, back to back.
    private var bytes: [UInt8] = []
    /// Per slot: its encoded document in `bytes` (empty once decoded, or for rows appended decoded).
    private var spans: [Range<Int>] = []

    /// One-field selections by name (group-by asks for the same field for every candidate).
    private var selections: [String: DocumentCodec.Selection] = [:]

    var count: Int { rows.count }

    /// The selection of the single field `name`.
    func selection(_ name: String) -> DocumentCodec.Selection {
        if let cached = selections[name] { return cached }
        let made = DocumentCodec.Selection([name])
        selections[name] = made
        return made
    }

    func append(_ row: Row) {
        rows.append(row)
        spans.append(0..<0)
    }

    /// Appends `count` encoded documents: `buffer` holds them back to back, `ends[i]` is where the i-th ends.
    func appendEncoded(_ buffer: [UInt8], ends: [Int]) {
        let base = bytes.count
        // The usual case, a fresh mirror, takes the buffer as it is (no second copy at open).
        if bytes.isEmpty { bytes = buffer } else { bytes.append(contentsOf: buffer) }
        var start = 0
        rows.reserveCapacity(rows.count + ends.count)
        spans.reserveCapacity(spans.count + ends.count)
        for end in ends {
            rows.append(nil)
            spans.append(base + start..<base + end)
            start = end
        }
    }

    /// The full document of `slot` (decoded and kept the first time).
    subscript(slot: Int) -> Row {
        if let row = rows[slot] { return row }
        let row = bytes.withUnsafeBytes { raw in
            (try? DocumentCodec.decode(UnsafeRawBufferPointer(rebasing: raw[spans[slot]]))) ?? [:]
        }
        rows[slot] = row
        return row
    }

    /// The selected top-level fields of `slot` (nil: every field), without decoding the others.
    func fields(_ selection: DocumentCodec.Selection?, of slot: Int) -> Row {
        if let row = rows[slot] { return row }
        guard let selection else { return self[slot] }
        return bytes.withUnsafeBytes { raw in
            (try? DocumentCodec.decode(UnsafeRawBufferPointer(rebasing: raw[spans[slot]]), only: selection)) ?? [:]
        }
    }

    /// The encoded document of `slot`, for writing a row file.
    func encoded(_ slot: Int, into out: inout [UInt8]) {
        if rows[slot] == nil {
            out.append(contentsOf: bytes[spans[slot]])
        } else {
            DocumentCodec.encode(rows[slot]!, into: &out)
        }
    }
}

/// A compact, self-delimiting binary form of a `Row`, for the row file.
///
/// A document is a u32 entry count and its entries; an entry is a u32 key length, the key's UTF-8 and a
/// value. A value is a tag byte and its payload: nothing (null, false, true), 8 bytes (int, double), a
/// u32 length and the bytes (string), a u32 payload length, a u32 count and the items (array, object),
/// or a u32 count and fp32s (vector). Lengths make every value skippable, so one field can be read
/// without the rest. All integers are little-endian. Decoding checks every length against the buffer.
enum DocumentCodec {
    enum Tag: UInt8 {
        case null = 0, `false`, `true`, int, double, string, array, object, vector
    }

    struct Damaged: Error {}

    /// Field names to decode, kept as UTF-8 so keys are compared without making strings.
    struct Selection: Sendable {
        let names: [(text: String, utf8: [UInt8])]

        init(_ names: some Sequence<String>) { self.names = names.map { ($0, Array($0.utf8)) } }

        /// The selected name whose UTF-8 is `key`, if any.
        func match(_ key: UnsafeRawBufferPointer) -> String? {
            for name in names where name.utf8.count == key.count {
                if name.utf8.withUnsafeBytes({ memcmp($0.baseAddress!, key.baseAddress!, key.count) == 0 }) { return name.text }
            }
            return nil
        }
    }

    static func encode(_ row: Row, into out: inout [UInt8]) {
        put(UInt32(row.count), &out)
        for (key, value) in row { putEntry(key, value, &out) }
    }

    private static func putEntry(_ key: String, _ value: FieldValue, _ out: inout [UInt8]) {
        put(UInt32(key.utf8.count), &out)
        out.append(contentsOf: key.utf8)
        encode(value, into: &out)
    }

    static func encode(_ value: FieldValue, into out: inout [UInt8]) {
        switch value {
        case .null: out.append(Tag.null.rawValue)
        case .bool(let b): out.append(b ? Tag.true.rawValue : Tag.false.rawValue)
        case .int(let i):
            out.append(Tag.int.rawValue)
            put(UInt64(bitPattern: i), &out)
        case .double(let d):
            out.append(Tag.double.rawValue)
            put(d.bitPattern, &out)
        case .string(let s):
            out.append(Tag.string.rawValue)
            let utf8 = s.utf8
            put(UInt32(utf8.count), &out)
            out.append(contentsOf: utf8)
        case .array(let items):
            out.append(Tag.array.rawValue)
            let mark = out.count
            put(UInt32(0), &out)
            put(UInt32(items.count), &out)
            for item in items { encode(item, into: &out) }
            patchLength(at: mark, &out)
        case .object(let fields):
            out.append(Tag.object.rawValue)
            let mark = out.count
            put(UInt32(0), &out)
            put(UInt32(fields.count), &out)
            for (key, value) in fields { putEntry(key, value, &out) }
            patchLength(at: mark, &out)
        case .vector(let v):
            out.append(Tag.vector.rawValue)
            put(UInt32(v.count), &out)
            for x in v { put(x.bitPattern, &out) }
        }
    }

    /// Writes the payload length (everything after the length word) at `mark`.
    private static func patchLength(at mark: Int, _ out: inout [UInt8]) {
        let length = UInt32(out.count - mark - 4)
        withUnsafeBytes(of: length.littleEndian) { for (i, b) in $0.enumerated() { out[mark + i] = b } }
    }

    private static func put<T: FixedWidthInteger>(_ value: T, _ out: inout [UInt8]) {
        withUnsafeBytes(of: value.littleEndian) { out.append(contentsOf: $0) }
    }

    /// A document's fields: all of them, or only those `only` selects.
    static func decode(_ raw: UnsafeRawBufferPointer, only: Selection? = nil) throws -> Row {
        var reader = Reader(raw: raw)
        let row = try reader.entries(only: only)
        guard reader.offset == raw.count else { throw Damaged() }
        return row
    }

    private struct Reader {
        let raw: UnsafeRawBufferPointer
        var offset = 0

        mutating func take<T: FixedWidthInteger>(_: T.Type) throws -> T {
            guard raw.count - offset >= MemoryLayout<T>.size else { throw Damaged() }
            let v = T(littleEndian: raw.loadUnaligned(fromByteOffset: offset, as: T.self))
            offset += MemoryLayout<T>.size
            return v
        }

        mutating func bytes(_ count: Int) throws -> UnsafeRawBufferPointer {
            guard count >= 0, raw.count - offset >= count else { throw Damaged() }
            defer { offset += count }
            return UnsafeRawBufferPointer(rebasing: raw[offset..<offset + count])
        }

        mutating func string(_ count: Int) throws -> String {
            String(decoding: try bytes(count), as: UTF8.self)
        }

        /// A u32 count and that many entries (keys `only` selects, or all).
        mutating func entries(only: Selection?) throws -> Row {
            let count = Int(try take(UInt32.self))
            guard count <= (raw.count - offset) / 5 else { throw Damaged() }  // an entry is at least 5 bytes
            var row = Row(minimumCapacity: only == nil ? count : 0)
            for _ in 0..<count {
                let keyBytes = try bytes(Int(try take(UInt32.self)))
                if let only {
                    if let key = only.match(keyBytes) { row[key] = try value() } else { try skipValue() }
                } else {
                    row[String(decoding: keyBytes, as: UTF8.self)] = try value()
                }
            }
            return row
        }

        mutating func value() throws -> FieldValue {
            guard let tag = Tag(rawValue: try take(UInt8.self)) else { throw Damaged() }
            switch tag {
            case .null: return .null
            case .false: return .bool(false)
            case .true: return .bool(true)
            case .int: return .int(Int64(bitPattern: try take(UInt64.self)))
            case .double: return .double(Double(bitPattern: try take(UInt64.self)))
            case .string: return .string(try string(Int(try take(UInt32.self))))
            case .array:
                let end = try payloadEnd()
                let count = Int(try take(UInt32.self))
                guard count <= end - offset else { throw Damaged() }  // an item is at least 1 byte
                var items: [FieldValue] = []
                items.reserveCapacity(count)
                for _ in 0..<count { items.append(try value()) }
                guard offset == end else { throw Damaged() }
                return .array(items)
            case .object:
                let end = try payloadEnd()
                let fields = try entries(only: nil)
                guard offset == end else { throw Damaged() }
                return .object(fields)
            case .vector:
                let count = Int(try take(UInt32.self))
                let floats = try bytes(count * 4)
                return .vector((0..<count).map { Float(bitPattern: UInt32(littleEndian: floats.loadUnaligned(fromByteOffset: $0 * 4, as: UInt32.self))) })
            }
        }

        /// Reads a payload length; returns where the payload ends.
        mutating func payloadEnd() throws -> Int {
            let length = Int(try take(UInt32.self))
            guard length <= raw.count - offset else { throw Damaged() }
            return offset + length
        }

        mutating func skipValue() throws {
            guard let tag = Tag(rawValue: try take(UInt8.self)) else { throw Damaged() }
            switch tag {
            case .null, .false, .true: break
            case .int, .double: _ = try bytes(8)
            case .string: _ = try bytes(Int(try take(UInt32.self)))
            case .array, .object: offset = try payloadEnd()
            case .vector: _ = try bytes(Int(try take(UInt32.self)) * 4)
            }
        }
    }
}
