/// A minimal pull reader for the JSON in tokenizer files.
///
/// `JSONSerialization` takes most of 100 ms to turn a 1–2 MB vocabulary into boxed
/// objects; reading strings straight into byte buffers takes a few milliseconds. The reader
/// accepts standard JSON, decodes string escapes (including surrogate pairs) to UTF-8, and
/// can skip any value it is not asked about.
struct JSONPullReader {
    /// A syntax error, with the byte offset where it was found.
    struct SyntaxError: Error, CustomStringConvertible {
        var message: String
        var offset: Int
        var description: String { "\(message) at byte \(offset)" }
    }

    private let bytes: [UInt8]
    private var index = 0

    init(_ bytes: [UInt8]) {
        self.bytes = bytes
        // Skip a UTF-8 byte order mark.
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { index = 3 }
    }

    /// What kind of value comes next.
    enum ValueKind { case object, array, string, number, literal }

    mutating func peekKind() throws -> ValueKind {
        skipWhitespace()
        guard index < bytes.count else { throw error("unexpected end of input") }
        switch bytes[index] {
        case UInt8(ascii: "{"): return .object
        case UInt8(ascii: "["): return .array
        case UInt8(ascii: "\""): return .string
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return .number
        case UInt8(ascii: "t"), UInt8(ascii: "f"), UInt8(ascii: "n"): return .literal
        default: throw error("unexpected character")
        }
    }

    /// Reads an object, calling `body` with each key; `body` must read or skip the value.
    mutating func readObject(_ body: (inout JSONPullReader, [UInt8]) throws -> Void) throws {
        try expect("{")
        var key: [UInt8] = []
        if consume("}") { return }
        repeat {
            key.removeAll(keepingCapacity: true)
            try readString(into: &key)
            try expect(":")
            try body(&self, key)
        } while consume(",")
        try expect("}")
    }

    /// Reads an array, calling `body` once per element; `body` must read or skip it.
    mutating func readArray(_ body: (inout JSONPullReader) throws -> Void) throws {
        try expect("[")
        if consume("]") { return }
        repeat {
            try body(&self)
        } while consume(",")
        try expect("]")
    }

    /// Reads a string, appending its UTF-8 bytes to `output`.
    mutating func readString(into output: inout [UInt8]) throws {
        try expect("\"")
        while true {
            guard index < bytes.count else { throw error("unterminated string") }
            let byte = bytes[index]
            index += 1
            switch byte {
            case UInt8(ascii: "\""):
                return
            case UInt8(ascii: "\\"):
                try readEscape(into: &output)
            case 0..<0x20:
                throw error("control character in string")
            default:
                output.append(byte)
            }
        }
    }

    mutating func readString() throws -> String {
        var buffer: [UInt8] = []
        try readString(into: &buffer)
        return String(decoding: buffer, as: UTF8.self)
    }

    /// Reads a number that must be an integer.
    mutating func readInteger() throws -> Int {
        skipWhitespace()
        let start = index
        if index < bytes.count, bytes[index] == UInt8(ascii: "-") { index += 1 }
        var value = 0
        var digits = 0
        while index < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[index]) {
            let (product, overflow) = value.multipliedReportingOverflow(by: 10)
            guard !overflow else { throw error("integer too large", at: start) }
            value = product + Int(bytes[index] - UInt8(ascii: "0"))
            digits += 1
            index += 1
        }
        guard digits > 0 else { throw error("expected an integer", at: start) }
        if index < bytes.count, [UInt8(ascii: "."), UInt8(ascii: "e"), UInt8(ascii: "E")].contains(bytes[index]) {
            throw error("expected an integer", at: start)
        }
        return bytes[start] == UInt8(ascii: "-") ? -value : value
    }

    /// Reads `true` or `false`.
    mutating func readBool() throws -> Bool {
        skipWhitespace()
        for (word, value) in [("true", true), ("false", false)] where bytes[index...].starts(with: word.utf8) {
            index += word.utf8.count
            return value
        }
        throw error("expected true or false")
    }

    /// Skips one value of any kind.
    mutating func skipValue() throws {
        switch try peekKind() {
        case .object:
            try readObject { reader, _ in try reader.skipValue() }
        case .array:
            try readArray { reader in try reader.skipValue() }
        case .string:
            var ignored: [UInt8] = []
            try readString(into: &ignored)
        case .number:
            let allowed = Array("+-.eE0123456789".utf8)
            while index < bytes.count, allowed.contains(bytes[index]) { index += 1 }
        case .literal:
            for word in ["true", "false", "null"] where bytes[index...].starts(with: word.utf8) {
                index += word.utf8.count
                return
            }
            throw error("unexpected character")
        }
    }

    /// Checks that only whitespace remains.
    mutating func expectEnd() throws {
        skipWhitespace()
        guard index == bytes.count else { throw error("unexpected data after the JSON value") }
    }

    // MARK: - Helpers

    private mutating func readEscape(into output: inout [UInt8]) throws {
        guard index < bytes.count else { throw error("unterminated string") }
        let byte = bytes[index]
        index += 1
        switch byte {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): output.append(byte)
        case UInt8(ascii: "b"): output.append(0x08)
        case UInt8(ascii: "f"): output.append(0x0C)
        case UInt8(ascii: "n"): output.append(0x0A)
        case UInt8(ascii: "r"): output.append(0x0D)
        case UInt8(ascii: "t"): output.append(0x09)
        case UInt8(ascii: "u"):
            var value = try readHexQuad()
            if (0xD800...0xDBFF).contains(value), bytes[index...].starts(with: Array("\\u".utf8)) {
                let resume = index
                index += 2
                let low = try readHexQuad()
                if (0xDC00...0xDFFF).contains(low) {
                    value = 0x10000 + ((value - 0xD800) << 10) + (low - 0xDC00)
                } else {
                    index = resume
                }
            }
            // A lone surrogate cannot be represented in UTF-8.
            let scalar = Unicode.Scalar(value) ?? "\u{FFFD}"
            UTF8.encode(scalar) { output.append($0) }
        default:
            throw error("invalid escape", at: index - 2)
        }
    }

    private mutating func readHexQuad() throws -> UInt32 {
        guard index + 4 <= bytes.count else { throw error("truncated \\u escape") }
        var value: UInt32 = 0
        for byte in bytes[index..<(index + 4)] {
            guard let digit = Character(Unicode.Scalar(byte)).hexDigitValue else {
                throw error("invalid \\u escape")
            }
            value = value << 4 | UInt32(digit)
        }
        index += 4
        return value
    }

    private mutating func skipWhitespace() {
        while index < bytes.count {
            switch bytes[index] {
            case 0x20, 0x09, 0x0A, 0x0D: index += 1
            default: return
            }
        }
    }

    private mutating func consume(_ character: Unicode.Scalar) -> Bool {
        skipWhitespace()
        guard index < bytes.count, bytes[index] == UInt8(ascii: character) else { return false }
        index += 1
        return true
    }

    private mutating func expect(_ character: Unicode.Scalar) throws {
        guard consume(character) else { throw error("expected \"\(character)\"") }
    }

    private func error(_ message: String, at offset: Int? = nil) -> SyntaxError {
        SyntaxError(message: message, offset: offset ?? index)
    }
}
