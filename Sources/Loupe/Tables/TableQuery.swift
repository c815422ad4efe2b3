import Foundation

/// What a table search looks for: a text, a picture (a file, an http(s) URL, bytes or base64), or a
/// raw vector. The query is embedded by the searched field's embedder.
public enum TableQuery: Sendable, Hashable {
    case text(String)
    /// A picture on this machine.
    case imageFile(URL)
    /// A picture on the web, fetched with the client's size, time and address limits.
    case imageURL(URL)
    /// An encoded picture (JPEG, PNG, WebP, ...) in memory.
    case imageData(Data)
    /// An encoded picture as base64, bare or as a `data:` URI.
    case imageBase64(String)
    /// A vector of the field's dimension, used as it is.
    case vector([Float])

    /// pytidb's reading of a plain string: a `data:` URI, an http(s) URL or an existing file is a
    /// picture; anything else is text.
    ///
    /// - Parameter files: whether an existing file path counts as a picture (off where files of this
    ///   machine may not be read, e.g. for a server's users).
    public static func guess(_ string: String, files: Bool = true) -> TableQuery {
        let trimmed = string.trimmingCharacters(in: .whitespacesAndNewlines)
        if trimmed.lowercased().hasPrefix("data:") { return .imageBase64(trimmed) }
        if let url = URL(string: trimmed), let scheme = url.scheme?.lowercased(), scheme == "http" || scheme == "https",
           url.host?.isEmpty == false {
            return .imageURL(url)
        }
        if files, !trimmed.isEmpty, FileManager.default.fileExists(atPath: trimmed) {
            return .imageFile(URL(fileURLWithPath: trimmed))
        }
        return .text(string)
    }

    /// The query's kind as the surfaces name it: `text`, `image_path`, `image_url`, `image_bytes`,
    /// `image_base64` or `vector`.
    public var kind: String {
        switch self {
        case .text: return "text"
        case .imageFile: return "image_path"
        case .imageURL: return "image_url"
        case .imageData: return "image_bytes"
        case .imageBase64: return "image_base64"
        case .vector: return "vector"
        }
    }

    /// A query of an explicit kind (the names of `kind`, plus `auto` for `guess`) from its text form.
    /// - Throws: `LoupeError(.invalidQuery)` for an unknown kind, a URL that is not http(s) or bad base64.
    public static func parse(_ value: String, kind: String, files: Bool = true) throws -> TableQuery {
        switch kind.lowercased() {
        case "auto", "": return guess(value, files: files)
        case "text": return .text(value)
        case "image_path", "image_file", "file", "path":
            return .imageFile(URL(fileURLWithPath: value))
        case "image_url", "url":
            guard let url = URL(string: value), let scheme = url.scheme?.lowercased(), scheme == "http" || scheme == "https",
                  url.host?.isEmpty == false else {
                throw LoupeError(.invalidQuery, "an image_url query must be an http(s) URL", input: value)
            }
            return .imageURL(url)
        case "image_base64", "base64", "image_bytes", "bytes": return .imageBase64(value)
        default:
            throw LoupeError(.invalidQuery, "unknown query kind '\(kind)' (auto, text, image_path, image_url, image_base64)",
                             input: value)
        }
    }
}
