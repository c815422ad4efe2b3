import Foundation
import LoupeStore

/// One search result of a table.
public struct TableHit: Sendable, Hashable {
    /// The row's primary key.
    public var id: FieldValue
    /// How close the row is: cosine similarity for COSINE fields (higher is closer), as Milvus's
    /// `distance` for other metrics.
    public var score: Float
    /// The requested output fields.
    public var fields: Row

    /// The fields with the primary key and `_score`, as pytidb's results read.
    public func row(primaryKey: String) -> Row {
        var row = fields
        row[primaryKey] = id
        row["_score"] = .double(Double(score))
        return row
    }
}

/// A table search beyond the query: which field, how many, which rows.
public struct TableSearchOptions: Sendable {
    /// The vector field searched (default: the first sourced vector field, else the first vector field).
    public var field: String?
    public var limit: Int
    public var offset = 0
    /// A Milvus filter expression over the table's fields.
    public var filter = ""
    /// Fields returned with each hit (default: every scalar and dynamic field).
    public var outputFields: [String] = ["*"]
    /// HNSW search breadth.
    public var ef: Int?

    public init(field: String? = nil, limit: Int = 10, offset: Int = 0, filter: String = "", outputFields: [String] = ["*"]) {
        self.field = field
        self.limit = limit
        self.offset = offset
        self.filter = filter
        self.outputFields = outputFields
    }
}

extension Table {
    /// Searches with a query of an explicit kind.
    public func search(_ query: TableQuery, limit: Int = 10) async throws -> [TableHit] {
        try await search(query, options: TableSearchOptions(limit: limit))
    }

    /// Searches with a plain string read as pytidb reads it (`TableQuery.guess`): an http(s) URL, a
    /// `data:` URI or an existing file is a picture, anything else text.
    public func search(_ string: String, limit: Int = 10) async throws -> [TableHit] {
        try await search(.guess(string, files: tables.configuration.readsFiles), options: TableSearchOptions(limit: limit))
    }

    /// Searches a vector field: the query is embedded by the field's embedder (in the executor's
    /// interactive lane), then the rows passing the filter are ranked.
    public func search(_ query: TableQuery, options: TableSearchOptions) async throws -> [TableHit] {
        let schema = try await tables.store.describeCollection(name).schema
        let field = try searchField(options.field, in: schema)
        let vector = try await queryVector(query, field: field)
        var search = SearchOptions(annsField: field.name, limit: options.limit, offset: options.offset, filter: options.filter,
                                   outputFields: options.outputFields)
        search.ef = options.ef
        let hits = try await tables.store.search(name, vectors: [vector], options: search)
        return hits.first?.map { TableHit(id: $0.id, score: $0.distance, fields: $0.fields) } ?? []
    }

    /// The field a search uses: the one named, else the first sourced vector field, else the first vector.
    public func searchField(_ named: String?, in schema: CollectionSchema) throws -> FieldSchema {
        if let named {
            guard let field = schema.field(named), field.dataType == .floatVector else {
                throw LoupeError(.invalidArgument, "'\(named)' is not a vector field of the table", input: name)
            }
            return field
        }
        guard let field = schema.sourcedVectorFields.first ?? schema.vectorFields.first else {
            throw LoupeError(.invalidArgument, "the table has no vector field", input: name)
        }
        return field
    }

    /// The vector a query stands for on `field`: embedded by the field's embedder, or the vector itself.
    public func queryVector(_ query: TableQuery, field: FieldSchema) async throws -> [Float] {
        if case .vector(let vector) = query {
            guard vector.count == field.dimension else {
                throw LoupeError(.dimensionMismatch,
                                 "a query vector of \(vector.count) values; '\(field.name)' has \(field.dimension ?? 0)", input: name)
            }
            return vector
        }
        guard field.source != nil else {
            throw LoupeError(.invalidQuery,
                             "'\(field.name)' has no source field, so only vectors can search it, not a \(query.kind) query", input: name)
        }
        let embedder = try await tables.embedder(for: field, table: name)
        let reader = SourceReader(configuration: tables.configuration)
        return try await ComputeExecutor.$lane.withValue(.interactive) {
            switch query {
            case .text(let text):
                guard !text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
                    throw LoupeError(.invalidQuery, "the search text is empty")
                }
                return try await embedder.embed(texts: [text])[0]
            case .imageFile(let url):
                return try await embedder.embed(images: [try await reader.picture(.file(url), for: embedder)])[0]
            case .imageURL(let url):
                return try await embedder.embed(images: [try await reader.picture(.url(url), for: embedder)])[0]
            case .imageData(let data):
                return try await embedder.embed(images: [try await reader.picture(.bytes(data, label: "uploaded image"), for: embedder)])[0]
            case .imageBase64(let text):
                let data = try SourceReader.base64(text)
                return try await embedder.embed(images: [try await reader.picture(.bytes(data, label: "base64 image"), for: embedder)])[0]
            case .vector(let vector):
                return vector
            }
        }
    }
}
