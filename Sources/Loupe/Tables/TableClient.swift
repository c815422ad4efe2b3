import Foundation
import LoupeMedia
import LoupeStore

/// Your own collections ("tables", as pytidb calls them) whose vector fields fill themselves: a vector
/// field that declares a `VectorSource` is computed from another field of the row when a row leaves
/// it out, and searched with text, a picture's path or URL, its bytes or base64.
///
/// ```swift
/// let tables = TableClient(store: try LoupeClient(path: "loupe-data"), embedder: try CLIPEmbedder(directory: model))
/// let items = try await tables.createTable("image_items", schema: CollectionSchema(fields: [
///     .int64Primary("id", autoID: true),
///     .scalar("image_uri", .string, maxLength: 2048),
///     .sourcedVector("image_vec", from: "image_uri"),           // CLIP, dimension from the model
/// ]))
/// try await items.insert([["image_uri": "https://example.com/cat.jpg"], ["image_uri": "photos/dog.png"]])
/// let hits = try await items.search(.text("orange tabby cat"), limit: 3)
/// ```
///
/// Embedders are found by the name a source gives (`clip` by default): `embedders["clip"]` is the
/// library's CLIP model, and other embedders (remote providers) plug in under their own names, given up
/// front or made by a `Connector` the first time a table names them. A table remembers the model each
/// sourced field was made with, so vectors of two models never mix.
public final class TableClient: Sendable {
    /// Makes the embedder a source names (`jina:MODEL`, say) the first time a table uses it, or returns nil
    /// for a name it does not know.
    public typealias Connector = @Sendable (String) async throws -> (any Embedder)?

    /// How sources are read.
    public struct Configuration: Sendable {
        /// Limits for pictures fetched from http(s) URLs (size, time, redirects, private addresses).
        public var remote = RemoteFetcher.Limits()
        /// Whether image sources and queries may name files on this machine (a server answering other
        /// people's requests turns this off).
        public var readsFiles = true
        /// Pictures larger than this are refused (decompression bombs).
        public var maxPixels = 100_000_000
        /// Decode JPEGs at reduced size while they stay at least the model's input (see `MediaLibrary`).
        public var fastJPEGDecoding = true
        /// Sources read at once (downloads and decodes) while a call's rows are prepared.
        public var concurrentReads = 8
        /// Where decoding and model passes run.
        public var executor = ComputeExecutor.shared
        /// The memory budget decodes wait in (the process's, shared with the media library's searches,
        /// uploads and indexing).
        public var decodeBudget = DecodeBudget.shared
        /// Most rows one insert or upsert may carry.
        public var maxRowsPerCall = 16_384

        public init() {}
    }

    /// The database the tables live in.
    public let store: LoupeClient
    public let configuration: Configuration
    private let registry: EmbedderRegistry

    /// - Parameters:
    ///   - embedders: embedders by the name sources use.
    ///   - connect: makes the embedders `embedders` lacks when a table first names them (nil: none).
    public init(store: LoupeClient, embedders: [String: any Embedder], connect: Connector? = nil,
                configuration: Configuration = Configuration()) {
        self.store = store
        self.configuration = configuration
        registry = EmbedderRegistry(embedders: embedders, connect: connect)
    }

    /// A client whose `clip` embedder is `embedder`.
    public convenience init(store: LoupeClient, embedder: any Embedder, configuration: Configuration = Configuration()) {
        self.init(store: store, embedders: [VectorSource.defaultEmbedder: embedder], configuration: configuration)
    }

    /// The table called `name` (it is looked up when used).
    public func collection(_ name: String) -> Table { Table(name: name, tables: self) }

    /// Creates a table. A sourced vector field without a dimension gets its embedder's; one with a
    /// dimension must match it. Each sourced field records its embedder's model.
    ///
    /// - Throws: `LoupeError(.invalidArgument)` naming the field for an unknown embedder or a dimension
    ///   that differs from the embedder's; `StoreError` for the rest of the schema (a missing source field,
    ///   a source that is not a VARCHAR, an existing table).
    @discardableResult
    public func createTable(_ name: String, schema: CollectionSchema) async throws -> Table {
        try await store.createCollection(name, schema: try await resolved(schema, table: name))
        return collection(name)
    }

    /// `schema` as `createTable` stores it: sourced vector fields with their embedder's dimension and
    /// model, COSINE and HNSW unless given (for comparing a requested schema with a stored one).
    public func resolved(_ schema: CollectionSchema, table name: String) async throws -> CollectionSchema {
        var schema = schema
        for (i, field) in schema.fields.enumerated() {
            guard var source = field.source, field.dataType == .floatVector else { continue }
            let embedder = try await embedder(named: source.embedder, table: name, field: field.name)
            if let dimension = field.dimension, dimension != embedder.dimension {
                throw LoupeError(.invalidArgument,
                                 "the vector field '\(field.name)' has \(dimension) dimensions; its \(source.embedder) embedder "
                                 + "(\(embedder.modelName)) gives \(embedder.dimension)", input: name)
            }
            source.model = source.model ?? embedder.modelName
            schema.fields[i].dimension = embedder.dimension
            schema.fields[i].metric = field.metric ?? .cosine
            schema.fields[i].index = field.index ?? .hnsw
            schema.fields[i].source = source
        }
        return schema
    }

    /// Every collection of the database, sorted (tables are ordinary collections).
    public func listTables() async -> [String] { await store.listCollections() }

    /// The schema (sources included) and partitions of a table.
    public func describeTable(_ name: String) async throws -> CollectionDescription {
        try await store.describeCollection(name)
    }

    /// Deletes a table and its rows.
    public func dropTable(_ name: String) async throws { try await store.dropCollection(name) }

    /// The embedder a source names, checked against the model and dimension the field was made with.
    func embedder(for field: FieldSchema, table: String) async throws -> any Embedder {
        guard let source = field.source else {
            throw LoupeError(.invalidArgument, "the vector field '\(field.name)' has no source field", input: table)
        }
        let embedder = try await embedder(named: source.embedder, table: table, field: field.name)
        if let model = source.model, model != embedder.modelName {
            throw LoupeError(.invalidArgument,
                             "the vector field '\(field.name)' was made with the model \(model); the \(source.embedder) "
                             + "embedder here is \(embedder.modelName), whose vectors would not compare", input: table)
        }
        guard field.dimension == embedder.dimension else {
            throw LoupeError(.dimensionMismatch,
                             "the vector field '\(field.name)' has \(field.dimension ?? 0) dimensions; the \(source.embedder) "
                             + "embedder gives \(embedder.dimension)", input: table)
        }
        return embedder
    }

    private func embedder(named name: String, table: String, field: String) async throws -> any Embedder {
        guard let embedder = try await registry.embedder(named: name) else {
            let known = await registry.names.joined(separator: ", ")
            throw LoupeError(.invalidArgument,
                             "the vector field '\(field)' uses the embedder '\(name)', which is not available here (available: \(known.isEmpty ? "none" : known))",
                             input: table)
        }
        return embedder
    }
}

extension FieldSchema {
    /// A vector field computed from the VARCHAR field `source` by the embedder `embedder` (CLIP by
    /// default) when a row leaves it out; its dimension is the embedder's, filled in by
    /// `TableClient.createTable`.
    public static func sourcedVector(_ name: String, from source: String, kind: VectorSource.Kind = .image,
                                     embedder: String = VectorSource.defaultEmbedder, metric: MetricType = .cosine,
                                     index: IndexParams = .hnsw) -> FieldSchema {
        FieldSchema(name: name, dataType: .floatVector, metric: metric, index: index,
                    source: VectorSource(field: source, kind: kind, embedder: embedder))
    }
}
