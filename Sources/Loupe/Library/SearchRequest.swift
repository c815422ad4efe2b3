import Foundation
import LoupeStore

/// Something to search with. Several inputs with weights combine by query arithmetic.
public enum SearchInput: Sendable, Hashable {
    case text(String)
    /// A picture on disk (any format LoupeMedia decodes).
    case imageFile(URL)
    /// A picture on the web, fetched with size and time limits.
    case imageURL(URL)
    /// An encoded picture (JPEG, PNG, ...) in memory, e.g. an upload.
    case imageData(Data)
    /// A stretch of a video on disk: the mean of its frames, like an indexed moment.
    case videoClip(URL, start: Double, end: Double)
    /// An already indexed item ("more like this").
    case item(Int64)
    /// A raw embedding of the library's model.
    case vector([Float])
}

/// A search: weighted inputs, how many results, and which items qualify.
///
/// ```swift
/// var request = SearchRequest(.text("a red silk robe with gold trim"))
/// request.terms.append((-0.5, .text("a person")))   // move away from people
/// request.kind = .image
/// let results = try await library.search(request)
/// ```
public struct SearchRequest: Sendable {
    /// Inputs with weights; negative weights move results away from an input.
    public var terms: [(weight: Float, input: SearchInput)]
    public var limit = 10
    /// Results to skip before the first one returned (for paging through results).
    public var offset = 0
    /// How many moments of one video may appear (default 1: each video once, at its best moment;
    /// more finds every place a long video shows what was asked for).
    public var momentsPerVideo = 1
    /// A Milvus filter expression over the media fields (`width > 1000`, `name like "IMG%"`, ...).
    public var filter = ""
    /// Only images or only videos.
    public var kind: MediaKind?
    /// Drop results scoring below this cosine similarity.
    public var minScore: Float?
    /// Also consider whole-video rows, not only images and moments.
    public var includeWholeVideos = false
    /// HNSW search breadth; larger is slower and more exact.
    public var ef: Int?

    public init(_ input: SearchInput, limit: Int = 10) {
        terms = [(1, input)]
        self.limit = limit
    }

    public init(terms: [(weight: Float, input: SearchInput)], limit: Int = 10) {
        self.terms = terms
        self.limit = limit
    }
}

/// Filter clauses over the media fields, quoted and escaped for the store's Milvus expression syntax.
public enum MediaFilter {
    /// Every file under `folder` (at any depth): an exact path prefix, where `%` and `_` in the folder's
    /// name are characters, not `like` wildcards.
    public static func under(_ folder: String) -> String {
        let prefix = folder.hasSuffix("/") ? folder : folder + "/"
        var pattern = ""
        for character in prefix {
            if character == "%" || character == "_" || character == "\\" { pattern.append("\\") }
            pattern.append(character)
        }
        return "path like \(quoted(pattern + "%"))"
    }

    /// A caller's filter expression in parentheses, ready to join with other clauses by `and`; nil when
    /// it is empty. It must parse on its own, so that it cannot close the parenthesis and escape the
    /// clauses it is joined with (`1==1) or (scope=="clip"`).
    ///
    /// - Throws: `LoupeError.invalidQuery` naming the problem and where it is.
    public static func group(_ filter: String) throws -> String? {
        guard !filter.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else { return nil }
        do {
            _ = try FilterExpression.parse(filter)
        } catch {
            throw LoupeError(.invalidQuery, "the filter '\(filter)' is not a valid expression: \(error)")
        }
        return "(\(filter))"
    }

    /// `text` as a double-quoted string literal.
    public static func quoted(_ text: String) -> String {
        "\"" + text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
    }
}
