import LoupeStore

/// Where a library keeps its rows and vectors: the seam between `MediaLibrary` and a vector database.
///
/// `EmbeddedMediaStore` runs on LoupeStore in a local directory; other databases (a Milvus cluster)
/// implement the same calls. Rows are LoupeStore `Row`s (field name to `FieldValue`), filters are
/// `FilterExpression` trees (never strings built by hand), and every call names its collection, so one
/// store can hold several libraries. Nothing above this protocol knows which store it runs on.
public protocol MediaStore: Sendable {
    /// The directory or server the rows live in, for messages.
    var location: String { get }

    /// The schema of `collection`, or nil when there is none.
    func schema(of collection: String) async throws -> CollectionSchema?
    /// Creates `collection` with `schema`.
    func createCollection(_ collection: String, schema: CollectionSchema) async throws

    /// Adds rows (auto ids are assigned by the store).
    func insert(_ collection: String, rows: [Row]) async throws
    /// Deletes the rows matching `filter` and adds `rows`, as one write where the store can: readers see
    /// the old rows or the new ones. Returns how many rows were deleted.
    @discardableResult
    func replace(_ collection: String, matching filter: FilterExpression, with rows: [Row]) async throws -> Int
    /// Deletes the rows matching `filter`; returns how many.
    @discardableResult
    func delete(_ collection: String, matching filter: FilterExpression) async throws -> Int

    /// Rows matching `filter` (all when nil), in insertion order, with `fields` (`*`: every scalar field).
    func query(_ collection: String, matching filter: FilterExpression?, fields: [String], limit: Int?, offset: Int)
        async throws -> [Row]
    /// How many rows match `filter` (all when nil).
    func count(_ collection: String, matching filter: FilterExpression?) async throws -> Int
    /// Rows by primary key, in the order asked; missing ones are skipped.
    func get(_ collection: String, ids: [Int64], fields: [String]) async throws -> [Row]

    /// The rows nearest to `vector` with the options' filter (`options.expression`), grouping and fields.
    func search(_ collection: String, vector: [Float], options: SearchOptions) async throws -> [SearchHit]

    /// Rows and how many of them the vector index covers.
    func statistics(_ collection: String) async throws -> MediaStoreStatistics

    /// Makes the work done so far cheap to reopen (index files written, data flushed).
    func flush() async throws
    /// Flushes and releases the store. It cannot be used afterwards.
    func close() async throws
}

/// Counts a store reports about a collection.
public struct MediaStoreStatistics: Sendable, Equatable {
    public var rows: Int
    /// Rows the vector index covers; the rest are searched exactly.
    public var indexedRows: Int

    public init(rows: Int, indexedRows: Int) {
        self.rows = rows
        self.indexedRows = indexedRows
    }
}
