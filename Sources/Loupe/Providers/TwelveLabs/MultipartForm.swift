import Foundation

/// A `multipart/form-data` body (RFC 7578), as Twelve Labs' embedding endpoints take it: text fields and
/// files, each a part, between boundaries. A field name may repeat (`video_embedding_scope`).
struct MultipartForm {
    let boundary: String
    private var body = Data()

    /// - Parameter boundary: random by default; it must not occur in any part.
    init(boundary: String = "loupe-form-" + String(UInt64.random(in: 0...UInt64.max), radix: 16)
        + String(UInt64.random(in: 0...UInt64.max), radix: 16))
    {
        self.boundary = boundary
    }

    /// The `Content-Type` header that goes with the body.
    var contentType: String { "multipart/form-data; boundary=\(boundary)" }

    mutating func add(_ name: String, _ value: String) {
        body.append(Data("--\(boundary)\r\nContent-Disposition: form-data; name=\"\(Self.quoted(name))\"\r\n\r\n".utf8))
        body.append(Data(value.utf8))
        body.append(Data("\r\n".utf8))
    }

    mutating func add(_ name: String, filename: String, contentType: String, data: Data) {
        let header = "--\(boundary)\r\nContent-Disposition: form-data; name=\"\(Self.quoted(name))\"; "
            + "filename=\"\(Self.quoted(filename))\"\r\nContent-Type: \(contentType)\r\n\r\n"
        body.append(Data(header.utf8))
        body.append(data)
        body.append(Data("\r\n".utf8))
    }

    /// The body with its closing boundary; the form is finished after it. It is closed in place (a
    /// video's bytes are not copied once more).
    mutating func finished() -> Data {
        body.append(Data("--\(boundary)--\r\n".utf8))
        return body
    }

    /// A name or file name as it may stand between quotes: quotes and line breaks percent-encoded (as
    /// browsers do), so a file name cannot end its part's header.
    static func quoted(_ text: String) -> String {
        text.replacingOccurrences(of: "\"", with: "%22").replacingOccurrences(of: "\r", with: "%0D")
            .replacingOccurrences(of: "\n", with: "%0A")
    }
}
