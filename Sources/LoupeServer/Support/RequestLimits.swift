/// Every bound the server puts on what one client can make it do, in one place (documented in the
/// README's "Limits" table). Body and upload sizes live beside them in `ServerConfiguration`
/// (`maxBodyBytes`, `maxUploadBytes`); filter expressions are bounded by the store itself (LoupeStore's
/// `FilterLimits`: length, nesting depth, operators, `like` pattern length, list items), whichever route
/// they come through.
///
/// ```swift
/// var configuration = ServerConfiguration()
/// configuration.limits.maxConnections = 256
/// ```
public struct RequestLimits: Sendable {
    /// Terms (text, pictures, items, with weights) in one `/api/search`.
    public var maxSearchTerms = 32
    /// Query vectors in one Milvus search.
    public var maxQueryVectors = 1_024
    /// Results one Milvus search may produce in all: query vectors x (limit + offset). Each result is a row
    /// read and encoded, so 300 vectors x 16,384 took 43 s and 4.5 GB before this bound.
    public var maxSearchResults = 100_000
    /// Parts in one multipart upload.
    public var maxMultipartParts = 64
    /// Paths in one `/api/index` request (after duplicates are dropped).
    public var maxIndexPaths = 1_000
    /// Generation jobs (`/api/generate`) queued or running at once; each is a paid call to the provider.
    public var maxActiveGenerations = 8
    /// Bytes of decoded pixels that pictures being decoded (uploads, image URLs, query files and indexing)
    /// may hold at once across all requests and jobs (a picture larger than this still decodes, but only by
    /// itself). Others wait their turn (`DecodeBudget.shared`, taken in `MediaLibrary`).
    public var decodeBudgetBytes = 768 << 20
    /// Open connections in all; past it, the oldest connection still waiting for its request header is closed.
    public var maxConnections = 1_024
    /// Open connections from one client address (same rule as `maxConnections`).
    public var maxConnectionsPerAddress = 256
    /// Seconds a new connection has to send a complete request header.
    public var headerTimeout = 10.0
    /// Seconds a kept-alive connection may sit idle between requests.
    public var idleTimeout = 30.0
    /// Seconds SIGTERM/SIGINT waits for in-flight work before the process exits anyway.
    public var shutdownDeadline = 30.0

    /// The defaults above.
    public init() {}
}
