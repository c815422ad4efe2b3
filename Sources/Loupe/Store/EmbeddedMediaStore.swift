import Foundation
import LoupeStore

/// A `MediaStore` on LoupeStore: the embedded database in a local directory.
///
/// Opened as a writer (one process at a time) or as a reader (any number, beside the writer, each
/// seeing the writer's committed rows on its next call).
public final class EmbeddedMediaStore: MediaStore {
    /// The database, for surfaces that speak LoupeStore directly (Milvus REST over the same rows).
    public let client: LoupeClient

    public var location: String { client.path }

    public init(client: LoupeClient) {
        self.client = client
    }

    /// Opens the database directory `directory`.
    /// - Parameter readOnly: open as a reader; the directory must hold a database already.
    /// - Throws: `StoreError(.locked)` when another process writes to it and `readOnly` is false;
    ///   `StoreError(.notFound)` for a reader of a directory without a database.
    public convenience init(directory: URL, readOnly: Bool) throws {
        var configuration = LoupeClient.Configuration()
        configuration.readOnly = readOnly
        self.init(client: try LoupeClient(path: directory.path, configuration: configuration))
    }

    public func schema(of collection: String) async throws -> CollectionSchema? {
        guard await client.hasCollection(collection) else { return nil }
        return try await client.describeCollection(collection).schema
    }

    public func createCollection(_ collection: String, schema: CollectionSchema) async throws {
        try await client.createCollection(collection, schema: schema)
    }

    public func insert(_ collection: String, rows: [Row]) async throws {
        guard !rows.isEmpty else { return }
        try await client.insert(collection, rows)
    }

    public func replace(_ collection: String, matching filter: FilterExpression, with rows: [Row]) async throws -> Int {
        try await client.replace(collection, matching: filter, with: rows).deleted
    }

    public func delete(_ collection: String, matching filter: FilterExpression) async throws -> Int {
        try await client.delete(collection, expression: filter).count
    }

    public func query(_ collection: String, matching filter: FilterExpression?, fields: [String], limit: Int?, offset: Int)
        async throws -> [Row]
    {
        try await client.query(collection, expression: filter, outputFields: fields, limit: limit, offset: offset)
    }

    public func count(_ collection: String, matching filter: FilterExpression?) async throws -> Int {
        let rows = try await client.query(collection, expression: filter, outputFields: ["count(*)"])
        return Int(rows.first?["count(*)"]?.intValue ?? 0)
    }

    public func get(_ collection: String, ids: [Int64], fields: [String]) async throws -> [Row] {
        try await client.get(collection, ids: ids.map { .int($0) }, outputFields: fields)
    }

    public func search(_ collection: String, vector: [Float], options: SearchOptions) async throws -> [SearchHit] {
        try await client.search(collection, vectors: [vector], options: options).first ?? []
    }

    public func statistics(_ collection: String) async throws -> MediaStoreStatistics {
        let stats = try await client.stats(collection)
        return MediaStoreStatistics(rows: stats.rowCount, indexedRows: stats.indexedRows.values.min() ?? stats.rowCount)
    }

    public func flush() async throws { try await client.flush() }

    public func close() async throws { try await client.close() }
}
