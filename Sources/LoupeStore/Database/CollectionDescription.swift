/// What `describeCollection` returns.
public struct CollectionDescription: Sendable, Hashable {
    public var name: String
    public var schema: CollectionSchema
    public var partitions: [String]
    /// The collection's aliases, sorted.
    public var aliases: [String] = []
}

/// What `stats` returns.
public struct CollectionStats: Sendable, Hashable {
    /// Live rows.
    public var rowCount: Int
    /// Rows per vector field that its HNSW graph covers (the rest are searched exactly until the next build).
    public var indexedRows: [String: Int]
    /// Memory per vector of each HNSW graph, in bytes.
    public var indexBytesPerVector: [String: Double]
    /// Live rows per vector field that wait for its graph (searched exactly meanwhile).
    public var pendingRows: [String: Int] = [:]
    /// Vector fields whose graph is being grown in the background now.
    public var indexing: Set<String> = []
}

/// What insert, upsert and delete return.
public struct MutationResult: Sendable, Hashable {
    /// Rows written or deleted.
    public var count: Int
    /// Primary keys of the rows written (assigned ones for auto id) or deleted.
    public var ids: [FieldValue]
}
