/// JSON text for `FieldValue`s: rows are stored in SQLite as one JSON document each.
///
/// Hand-written rather than Foundation's coders because every insert and every row load goes through
/// it; integers stay integers (`1` decodes to `.int(1)`, `1.0` to `.double(1.0)`).
package enum JSONText {
    package static func encode(_ value: FieldValue) -> String {
        var out = ""
        write(value, to: &out)
        return out
    }

    static func write(_ value: FieldValue, to out: inout String) {
        switch value {
        case .null: out += "null"
        case .bool(let b): out += b ? "true" : "false"
        case .int(let i): out += String(i)
        case .double(let d):
            if d.isFinite {
                var s = String(d)
                if s.hasSuffix(".0") == false && !s.contains(".") && !s.contains("e") { s += ".0" }
                out += s
            } else {
                out += "null"
            }
        case .string(let s): writeString(s, to: &out)
        case .array(let a):
            out += "["
            for (i, x) in a.enumerated() {
                if i > 0 { out += "," }
                write(x, to: &out)
            }
            out += "]"
        case .vector(let v):
            out += "["
            for (i, x) in v.enumerated() {
                if i > 0 { out += "," }
                out += String(x)
            }
            out += "]"
        case .object(let o):
            out += "{"
            for (i, key) in o.keys.sorted().enumerated() {
                if i > 0 { out += "," }
                writeString(key, to: &out)
                out += ":"
                write(o[key]!, to: &out)
            }
            out += "}"
        }
    }

    static func writeString(_ s: String, to out: inout String) {
        out += "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if u.value < 0x20 {
                    let hex = String(u.value, radix: 16)
                    out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    out.unicodeScalars.append(u)
                }
            }
        }
        out += "\""
    }

    /// Parses JSON text; throws `StoreError(.invalidArgument)` naming the offset of the problem.
    package static func decode(_ text: String) throws -> FieldValue {
        var parser = Parser(bytes: Array(text.utf8))
        parser.skipSpace()
        let value = try parser.value()
        parser.skipSpace()
        guard parser.index == parser.bytes.count else { throw parser.error("trailing characters") }
        return value
    }

    private struct Parser {
        let bytes: [UInt8]
        var index = 0

        func error(_ message: String) -> StoreError {
            StoreError(.invalidArgument, "bad JSON at byte \(index): \(message)")
        }

        mutating func skipSpace() {
            while index < bytes.count, bytes[index] == 0x20 || bytes[index] == 0x0A || bytes[index] == 0x0D || bytes[index] == 0x09 {
                index += 1
            }
        }

        mutating func literal(_ word: String, _ value: FieldValue) throws -> FieldValue {
            let w = Array(word.utf8)
            guard index + w.count <= bytes.count, Array(bytes[index..<index + w.count]) == w else {
                throw error("expected \(word)")
            }
            index += w.count
            return value
        }

        mutating func value() throws -> FieldValue {
            guard index < bytes.count else { throw error("unexpected end") }
            switch bytes[index] {
            case UInt8(ascii: "n"): return try literal("null", .null)
            case UInt8(ascii: "t"): return try literal("true", .bool(true))
            case UInt8(ascii: "f"): return try literal("false", .bool(false))
            case UInt8(ascii: "\""): return .string(try string())
            case UInt8(ascii: "["):
                index += 1
                var items: [FieldValue] = []
                skipSpace()
                if index < bytes.count, bytes[index] == UInt8(ascii: "]") { index += 1; return .array(items) }
                while true {
                    skipSpace()
                    items.append(try value())
                    skipSpace()
                    guard index < bytes.count else { throw error("unterminated array") }
                    if bytes[index] == UInt8(ascii: ",") { index += 1; continue }
                    if bytes[index] == UInt8(ascii: "]") { index += 1; return .array(items) }
                    throw error("expected , or ]")
                }
            case UInt8(ascii: "{"):
                index += 1
                var object: [String: FieldValue] = [:]
                skipSpace()
                if index < bytes.count, bytes[index] == UInt8(ascii: "}") { index += 1; return .object(object) }
                while true {
                    skipSpace()
                    guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") else { throw error("expected a key") }
                    let key = try string()
                    skipSpace()
                    guard index < bytes.count, bytes[index] == UInt8(ascii: ":") else { throw error("expected :") }
                    index += 1
                    skipSpace()
                    object[key] = try value()
                    skipSpace()
                    guard index < bytes.count else { throw error("unterminated object") }
                    if bytes[index] == UInt8(ascii: ",") { index += 1; continue }
                    if bytes[index] == UInt8(ascii: "}") { index += 1; return .object(object) }
                    throw error("expected , or }")
                }
            default: return try number()
            }
        }

        mutating func number() throws -> FieldValue {
            let start = index
            var isInteger = true
            while index < bytes.count {
                let c = bytes[index]
                if (c >= 0x30 && c <= 0x39) || c == UInt8(ascii: "-") || c == UInt8(ascii: "+") {
                    index += 1
                } else if c == UInt8(ascii: ".") || c == UInt8(ascii: "e") || c == UInt8(ascii: "E") {
                    isInteger = false
                    index += 1
                } else {
                    break
                }
            }
            let text = String(decoding: bytes[start..<index], as: UTF8.self)
            if isInteger, let i = Int64(text) { return .int(i) }
            guard !text.isEmpty, let d = Double(text) else { index = start; throw error("expected a value") }
            return .double(d)
        }

        mutating func string() throws -> String {
            index += 1
            var runStart = index
            var out = ""
            while index < bytes.count {
                let c = bytes[index]
                if c == UInt8(ascii: "\"") {
                    out += String(decoding: bytes[runStart..<index], as: UTF8.self)
                    index += 1
                    return out
                }
                if c == UInt8(ascii: "\\") {
                    out += String(decoding: bytes[runStart..<index], as: UTF8.self)
                    index += 1
                    guard index < bytes.count else { break }
                    let e = bytes[index]
                    index += 1
                    switch e {
                    case UInt8(ascii: "n"): out += "\n"
                    case UInt8(ascii: "t"): out += "\t"
                    case UInt8(ascii: "r"): out += "\r"
                    case UInt8(ascii: "b"): out += "\u{08}"
                    case UInt8(ascii: "f"): out += "\u{0C}"
                    case UInt8(ascii: "u"):
                        guard index + 4 <= bytes.count,
                              var code = UInt32(String(decoding: bytes[index..<index + 4], as: UTF8.self), radix: 16)
                        else { throw error("bad \\u escape") }
                        index += 4
                        // A high surrogate pairs only with a low one (\uDC00-\uDFFF); anything else leaves it
                        // lone (U+FFFD) and the next escape to be read on its own. (Found by the row-loader fuzzer:
                        // "\ud83d\u0ed0" made `low - 0xDC00` underflow and trap.)
                        if code >= 0xD800 && code < 0xDC00, index + 6 <= bytes.count, bytes[index] == UInt8(ascii: "\\"),
                           bytes[index + 1] == UInt8(ascii: "u"),
                           let low = UInt32(String(decoding: bytes[index + 2..<index + 6], as: UTF8.self), radix: 16),
                           (0xDC00..<0xE000).contains(low) {
                            code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
                            index += 6
                        }
                        out.unicodeScalars.append(Unicode.Scalar(code) ?? "\u{FFFD}")
                    default: out.unicodeScalars.append(Unicode.Scalar(e))
                    }
                    runStart = index
                    continue
                }
                index += 1
            }
            throw error("unterminated string")
        }
    }
}
