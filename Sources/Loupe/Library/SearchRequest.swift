import Foundation
import LoupeMedia
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
    /// A stretch of an indexed video, by the item's id.
    case itemClip(Int64, start: Double, end: Double)
    /// An already indexed item ("more like this").
    case item(Int64)
    /// A raw embedding of the library's model.
    case vector([Float])
}

extension SearchInput {
    /// A term as a person types it: `clip.mp4@4-8` (a stretch of an existing video), an existing file, an
    /// http(s) URL (a picture), or else text.
    ///
    /// - Parameter image: the term must be a picture (a file or a URL); text is refused.
    /// - Throws: `LoupeError(.invalidQuery)` for an image term that is neither, or a clip whose times are
    ///   not finite and ordered.
    public static func parse(_ term: String, image: Bool = false) throws -> SearchInput {
        if let at = term.lastIndex(of: "@") {
            let path = String(term[..<at])
            let range = term[term.index(after: at)...].split(separator: "-", omittingEmptySubsequences: false)
            if FileManager.default.fileExists(atPath: path), range.count == 2,
               let start = Double(range[0]), let end = Double(range[1]) {
                guard start.isFinite, end.isFinite, start >= 0, end > start, end <= VideoDecoder.Configuration.maximumStartTime else {
                    throw LoupeError(.invalidQuery, "the clip needs seconds with 0 <= START < END <= 1e9", input: term)
                }
                return .videoClip(URL(fileURLWithPath: path), start: start, end: end)
            }
        }
        if FileManager.default.fileExists(atPath: term) { return .imageFile(URL(fileURLWithPath: term)) }
        if let url = URL(string: term), let scheme = url.scheme?.lowercased(), scheme == "http" || scheme == "https",
           url.host != nil {
            return .imageURL(url)
        }
        if image { throw LoupeError(.invalidQuery, "no such file, and not an http(s) URL", input: term) }
        return .text(term)
    }
}

/// Which items qualify: the kind of file, a folder, a time window on the file's modification time, and a
/// Milvus filter expression over the media fields. Compiled to the store's `FilterExpression` tree, so
/// nothing is ever spliced into filter text.
public struct MediaFilter: Sendable, Hashable {
    /// Only images or only videos.
    public var kind: MediaKind?
    /// Only files under this folder (at any depth).
    public var folder: String?
    /// Only files modified at or after this time.
    public var after: Date?
    /// Only files modified before this time.
    public var before: Date?
    /// A Milvus filter expression over the media fields (`width > 1000`, `name like "IMG%"`, ...).
    public var expression = ""

    public init(kind: MediaKind? = nil, folder: String? = nil, after: Date? = nil, before: Date? = nil,
                expression: String = "") {
        self.kind = kind
        self.folder = folder
        self.after = after
        self.before = before
        self.expression = expression
    }

    /// The filter as a tree, for rows of the given scopes.
    /// - Throws: `LoupeError(.invalidQuery)` naming the expression when it does not parse.
    public func compiled(scopes: [MediaScope]) throws -> FilterExpression {
        var clauses: [FilterExpression] = [.oneOf(MediaSchema.scope, scopes.map { .string($0.rawValue) })]
        if let kind { clauses.append(.equals(MediaSchema.kind, .string(kind.rawValue))) }
        if let folder, !folder.isEmpty { clauses.append(Self.under(folder)) }
        if let after { clauses.append(.field(MediaSchema.modified) >= .double(after.timeIntervalSince1970)) }
        if let before { clauses.append(.field(MediaSchema.modified) < .double(before.timeIntervalSince1970)) }
        if !expression.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
            do {
                clauses.append(try FilterExpression.parse(expression))
            } catch {
                throw LoupeError(.invalidQuery, "the filter '\(expression)' is not a valid expression: \(error)")
            }
        }
        return .all(clauses)
    }

    /// A date as people and APIs write it: `2024-05-01` (midnight UTC), a full ISO 8601 timestamp, or
    /// Unix seconds. Nil when `text` is none of these (or not finite).
    public static func date(_ text: String) -> Date? {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        if let seconds = Double(trimmed) { return seconds.isFinite && abs(seconds) < 1e12 ? Date(timeIntervalSince1970: seconds) : nil }
        if let date = try? Date(trimmed, strategy: .iso8601) { return date }
        if let date = try? Date(trimmed + "T00:00:00Z", strategy: .iso8601) { return date }
        return nil
    }

    /// Every file under `folder`, at any depth: an exact path prefix.
    static func under(_ folder: String) -> FilterExpression {
        .hasPrefix(MediaSchema.path, folder.hasSuffix("/") ? folder : folder + "/")
    }

    /// The rows of one file (a picture, or a video with all its moments).
    static func file(_ path: String) -> FilterExpression { .equals(MediaSchema.path, .string(path)) }

    /// The rows of several files.
    static func files(_ paths: [String]) -> FilterExpression { .oneOf(MediaSchema.path, paths.map { .string($0) }) }
}

/// A search: weighted inputs, how many results, and which items qualify.
///
/// ```swift
/// var request = SearchRequest(.text("a red silk robe with gold trim"))
/// request.terms.append((-0.5, .text("a person")))   // move away from people
/// request.filter.kind = .image
/// request.filter.folder = "/photos/2024"
/// let response = try await library.search(request)
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
    /// Which items qualify.
    public var filter = MediaFilter()
    /// Drop results scoring below this cosine similarity.
    public var minScore: Float?
    /// Drop results whose calibrated match probability (`SearchResult.probability`) is below this, strictly
    /// between 0 and 1. Only for a search by one text with a model that calibrates its scores (SigLIP).
    public var minProbability: Float?
    /// Also consider whole-video rows, not only images and moments.
    public var includeWholeVideos = false
    /// HNSW search breadth; larger is slower and more exact.
    public var ef: Int?
    /// Keep only the first N relevance groups: results end at the N-th score cliff (see `Autocut`), never
    /// below `Autocut.minimumKept` results. 0 (the default) keeps every result; at most `Autocut.maximum`.
    public var autocut = 0

    public init(_ input: SearchInput, limit: Int = 10) {
        terms = [(1, input)]
        self.limit = limit
    }

    public init(terms: [(weight: Float, input: SearchInput)], limit: Int = 10) {
        self.terms = terms
        self.limit = limit
    }

    /// The most terms one search may combine.
    public static let maxTerms = 64
}

/// What a search found, and where the time went.
public struct SearchResponse: Sendable {
    public var results: [SearchResult]
    /// Results of the requested page that autocut left out (0 when autocut is off or cut nothing there).
    public var cutByAutocut = 0
    public var timings: SearchTimings
}

/// Time spent in a search's stages.
public struct SearchTimings: Sendable {
    /// Embedding the query (decoding query pictures included).
    public var embedding: Duration
    /// The vector search and loading the results.
    public var search: Duration
    public var total: Duration
}
