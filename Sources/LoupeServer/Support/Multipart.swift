import Foundation

/// A `multipart/form-data` body split into its parts (RFC 7578). Only what uploads need: each part's
/// name, optional file name, content type and bytes.
struct MultipartForm {
    struct Part {
        var name: String
        var filename: String?
        var contentType: String?
        var body: Data
    }

    var parts: [Part]

    /// The boundary from a `Content-Type: multipart/form-data; boundary=...` header, or nil.
    static func boundary(contentType: String) -> String? {
        let pieces = contentType.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) }
        guard pieces.first?.lowercased() == "multipart/form-data" else { return nil }
        for piece in pieces.dropFirst() where piece.lowercased().hasPrefix("boundary=") {
            var value = String(piece.dropFirst("boundary=".count))
            if value.hasPrefix("\""), value.hasSuffix("\""), value.count >= 2 { value = String(value.dropFirst().dropLast()) }
            return (1...70).contains(value.count) ? value : nil
        }
        return nil
    }

    /// Splits `body` in one pass: each search starts where the last one ended (KMP over the bytes), so
    /// the cost is linear in the body, and more than `maxParts` parts are refused.
    init(body: Data, boundary: String, maxParts: Int = RequestLimits().maxMultipartParts) throws {
        let bytes = [UInt8](body)
        let delimiter = Array("--\(boundary)".utf8)
        let closing = Array("\r\n--\(boundary)".utf8)
        let headerEnd = Array("\r\n\r\n".utf8)
        // Knuth-Morris-Pratt: linear in the bytes searched, whatever the boundary and the body hold.
        func failureTable(_ needle: [UInt8]) -> [Int] {
            var table = [Int](repeating: 0, count: needle.count)
            var k = 0
            for i in 1..<max(needle.count, 1) {
                while k > 0 && needle[i] != needle[k] { k = table[k - 1] }
                if needle[i] == needle[k] { k += 1 }
                table[i] = k
            }
            return table
        }
        let tables = [delimiter, closing, headerEnd].map { ($0, failureTable($0)) }
        func find(_ needle: [UInt8], from start: Int) -> Int? {
            guard let table = tables.first(where: { $0.0 == needle })?.1, !needle.isEmpty else { return nil }
            var k = 0
            var i = start
            while i < bytes.count {
                while k > 0 && bytes[i] != needle[k] { k = table[k - 1] }
                if bytes[i] == needle[k] { k += 1 }
                if k == needle.count { return i - needle.count + 1 }
                i += 1
            }
            return nil
        }
        func starts(_ prefix: String, at index: Int) -> Bool {
            let p = Array(prefix.utf8)
            return index + p.count <= bytes.count && Array(bytes[index..<(index + p.count)]) == p
        }
        guard let first = find(delimiter, from: 0) else {
            throw APIError.badRequest("multipart body has no part starting with its boundary")
        }
        var cursor = first + delimiter.count
        var parts: [Part] = []
        while true {
            // After a delimiter: "--" ends the body, CRLF starts a part.
            if starts("--", at: cursor) { break }
            guard starts("\r\n", at: cursor) else {
                throw APIError.badRequest("multipart boundary is not followed by CRLF")
            }
            guard parts.count < maxParts else {
                throw APIError.badRequest("the multipart body has more than \(maxParts) parts")
            }
            cursor += 2
            guard let headersEnd = find(headerEnd, from: cursor) else {
                throw APIError.badRequest("multipart part has no end of headers")
            }
            guard headersEnd - cursor <= 16 * 1024 else { throw APIError.badRequest("multipart part headers are longer than 16 KB") }
            let headerText = String(decoding: bytes[cursor..<headersEnd], as: UTF8.self)
            let bodyStart = headersEnd + headerEnd.count
            guard let next = find(closing, from: bodyStart) else {
                throw APIError.badRequest("multipart part is not closed by the boundary (truncated upload?)")
            }
            var part = Part(name: "", filename: nil, contentType: nil, body: Data(bytes[bodyStart..<next]))
            for line in headerText.components(separatedBy: "\r\n") {
                guard let colon = line.firstIndex(of: ":") else { continue }
                let key = line[..<colon].trimmingCharacters(in: .whitespaces).lowercased()
                let value = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
                if key == "content-disposition" {
                    part.name = Self.parameter("name", in: value) ?? ""
                    part.filename = Self.parameter("filename", in: value)
                } else if key == "content-type" {
                    part.contentType = value
                }
            }
            guard !part.name.isEmpty else { throw APIError.badRequest("multipart part without a name") }
            parts.append(part)
            cursor = next + closing.count
        }
        self.parts = parts
    }

    private static func parameter(_ name: String, in header: String) -> String? {
        for piece in header.split(separator: ";").dropFirst() {
            let trimmed = piece.trimmingCharacters(in: .whitespaces)
            guard let equals = trimmed.firstIndex(of: "="),
                  trimmed[..<equals].lowercased() == name
            else { continue }
            var value = String(trimmed[trimmed.index(after: equals)...])
            if value.hasPrefix("\""), value.hasSuffix("\""), value.count >= 2 { value = String(value.dropFirst().dropLast()) }
            return value
        }
        return nil
    }
}
