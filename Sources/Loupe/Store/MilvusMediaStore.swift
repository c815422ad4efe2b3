import Foundation
import LoupeMilvus
import LoupeStore
import Synchronization

/// A `MediaStore` on a Milvus server or cluster, over Milvus's gRPC protocol (`LoupeMilvus`).
///
/// Any number of processes may write to one collection at once: Milvus assigns the ids, and each
/// indexer reads what is indexed already from the collection itself. What differs from the embedded store,
/// and why:
/// - **Nulls.** Milvus before 2.5 has no nullable fields: nullable scalars are kept in the dynamic `$meta`
///   JSON when set and absent otherwise, and read back as `.null` (`MilvusCollectionLayout`).
/// - **Consistency.** Every read is `Strong`: it sees every write acknowledged before it, this process's
///   and other indexers' alike, so each step of an indexing run reads what the previous one wrote.
/// - **`replace` is not atomic.** Milvus has no transactions: the old rows are deleted, then the new ones
///   inserted (the rows are checked first, so bad input deletes nothing). A reader in between sees the file
///   missing; a crash in between leaves it missing, and the next indexing run finds it new and adds it.
/// - **Group-by search** (one hit per video) is done here, not by the server: Milvus has `group_by_field`
///   from 2.4 only (and no `group_size` before 2.5). The search asks for more hits than groups (4 × groups ×
///   group size, at least 64), groups them in score order exactly as LoupeStore does, and asks again with 4
///   times as many while groups are missing and the server had more, up to Milvus's top-k cap of 16,384
///   hits: a collection whose best 16,384 hits fall in fewer groups than asked returns those groups.
/// - **Order.** Rows come back in primary-key order, which is insertion order for ids Milvus assigns.
/// - **Filters** are rendered as Milvus 2.3 text by `MilvusFilter`.
@available(LoupeMilvus 1.0, *)
public final class MilvusMediaStore: MediaStore {
    /// The client, for surfaces that speak Milvus directly.
    public let client: MilvusClient
    public let location: String

    private struct State {
        var layouts: [String: MilvusCollectionLayout] = [:]
        /// Collections written to since the last flush.
        var unflushed: Set<String> = []
    }

    private let state = Mutex(State())

    /// Milvus's cap on `limit + offset` of one search or query.
    static let maxTopK = 16_384
    /// Rows per insert request, and primary keys per delete or get request.
    static let rowsPerRequest = 1_000
    /// Milvus's dynamic field: asked for by name, it brings every undeclared key.
    static let dynamicField = "$meta"

    /// Rows per query page (Milvus's cap; smaller in tests, to read many pages).
    let pageRows: Int

    /// A store on the server `configuration` names; nothing is sent before the first call.
    public convenience init(configuration: MilvusConfiguration) throws {
        try self.init(configuration: configuration, pageRows: Self.maxTopK)
    }

    init(configuration: MilvusConfiguration, pageRows: Int) throws {
        client = try MilvusClient(configuration: configuration)
        location = "milvus://\(configuration.address)/\(configuration.database ?? "default")"
        self.pageRows = pageRows
    }

    // MARK: Collections

    /// The schema, or nil. When the collection exists it is also loaded if it is not (after a server
    /// restart, or when another tool released it): every other call needs it in memory.
    public func schema(of collection: String) async throws -> CollectionSchema? {
        guard try await client.hasCollection(collection) else { return nil }
        let layout = try await layout(of: collection)
        if try await client.loadState(collection) != .loaded { try await client.loadCollection(collection) }
        return layout.schema
    }

    /// Creates the collection with Strong consistency, builds the vector index Loupe's schema describes
    /// (HNSW with its M and efConstruction, or FLAT) and loads it. When another indexer created the same
    /// collection a moment before, that one is used.
    public func createCollection(_ collection: String, schema: CollectionSchema) async throws {
        let layout = try MilvusCollectionLayout(schema: schema, collection: collection)
        do {
            let milvusSchema = layout.milvusSchema
            try await client.createCollection(collection, schema: milvusSchema, consistency: .strong,
                                              properties: [MilvusCollectionLayout.property: milvusSchema.description])
        } catch {
            guard try await client.hasCollection(collection) else { throw error }
            state.withLock { _ = $0.layouts.removeValue(forKey: collection) }
            let existing = try await self.layout(of: collection)
            guard existing.schema.description == schema.description else { throw error }
        }
        for field in schema.vectorFields {
            if try await vectorIndex(collection, field: field.name) == nil {
                try await client.createIndex(collection, field: field.name, index: MilvusIndex(field))
            }
        }
        try await client.loadCollection(collection)
        state.withLock { $0.layouts[collection] = layout }
    }

    private func layout(of collection: String) async throws -> MilvusCollectionLayout {
        if let known = state.withLock({ $0.layouts[collection] }) { return known }
        let described = try await client.describeCollection(collection)
        let layout = try MilvusCollectionLayout(milvus: described.schema, properties: described.properties,
                                                collection: collection)
        state.withLock { $0.layouts[collection] = layout }
        return layout
    }

    // MARK: Writes

    public func insert(_ collection: String, rows: [Row]) async throws {
        guard !rows.isEmpty else { return }
        let layout = try await layout(of: collection)
        try await write(collection, try encoded(rows, layout, collection))
    }

    /// Deletes the matching rows, then inserts `rows`: two steps, not one transaction (see the type's notes).
    public func replace(_ collection: String, matching filter: FilterExpression, with rows: [Row]) async throws -> Int {
        let layout = try await layout(of: collection)
        let encoded = try encoded(rows, layout, collection)
        let deleted = try await delete(collection, matching: filter)
        try await write(collection, encoded)
        return deleted
    }

    /// Deletes by primary key the rows the filter matches (read first, Strong), so the count is what was
    /// deleted on every server version.
    public func delete(_ collection: String, matching filter: FilterExpression) async throws -> Int {
        let layout = try await layout(of: collection)
        let pk = layout.schema.primaryField.name
        let keys = try await scan(collection, layout, filter: MilvusFilter(layout: layout).text(filter), fields: [pk],
                                  limit: nil, offset: 0).compactMap { $0[pk] }
        for start in stride(from: 0, to: keys.count, by: Self.rowsPerRequest) {
            let chunk = Array(keys[start..<min(start + Self.rowsPerRequest, keys.count)])
            try await client.delete(collection, filter: FilterExpression.oneOf(pk, chunk).description)
        }
        if !keys.isEmpty { state.withLock { _ = $0.unflushed.insert(collection) } }
        return keys.count
    }

    private func encoded(_ rows: [Row], _ layout: MilvusCollectionLayout, _ collection: String) throws -> [Row] {
        try rows.enumerated().map { i, row in try layout.milvusRow(row, index: i, collection: collection) }
    }

    private func write(_ collection: String, _ rows: [Row]) async throws {
        guard !rows.isEmpty else { return }
        for start in stride(from: 0, to: rows.count, by: Self.rowsPerRequest) {
            try await client.insert(collection, rows: Array(rows[start..<min(start + Self.rowsPerRequest, rows.count)]))
        }
        state.withLock { _ = $0.unflushed.insert(collection) }
    }

    // MARK: Reads

    public func query(_ collection: String, matching filter: FilterExpression?, fields: [String], limit: Int?, offset: Int)
        async throws -> [Row]
    {
        guard offset >= 0, (limit ?? 0) >= 0 else {
            throw StoreError(.invalidArgument, "limit and offset must not be negative", collection: collection)
        }
        let layout = try await layout(of: collection)
        return try await scan(collection, layout, filter: MilvusFilter(layout: layout).text(filter), fields: fields,
                              limit: limit, offset: offset)
    }

    /// Matching rows in primary-key order, page by page: each page asks for the rows after the last key
    /// seen, so any number of rows can be read within Milvus's cap of 16,384 per query. Milvus answers a
    /// query with a limit with the lowest keys; milvus-lite with the first rows inserted, which are the
    /// lowest keys too for the ids it assigns (Loupe's collections use auto ids).
    private func scan(_ collection: String, _ layout: MilvusCollectionLayout, filter: String?, fields: [String],
                      limit: Int?, offset: Int) async throws -> [Row] {
        let pk = layout.schema.primaryField
        let output = milvusOutputFields(fields, layout)
        let withVectors = output.contains { name in layout.schema.field(name)?.dataType == .floatVector }
        let pageSize = min(withVectors ? 2_048 : Self.maxTopK, pageRows)
        var out: [Row] = []
        var skipped = 0
        var cursor: FieldValue?
        while true {
            let wanted = limit.map { $0 + offset - skipped - out.count } ?? pageSize
            guard wanted > 0 else { break }
            let size = min(pageSize, wanted)
            let after = cursor.map { FilterExpression.compare(.greater, .field(pk.name), .literal($0)).description }
            var page = try await client.query(collection, filter: MilvusFilter.and(after, filter) ?? "",
                                              outputFields: output, limit: size)
            page.sort { Self.precedes($0[pk.name], $1[pk.name]) }
            for row in page {
                if skipped < offset { skipped += 1 } else { out.append(layout.loupeRow(row, asked: fields)) }
            }
            guard page.count == size, let last = page.last?[pk.name] else { break }
            cursor = last
        }
        return out
    }

    private static func precedes(_ a: FieldValue?, _ b: FieldValue?) -> Bool {
        switch (a, b) {
        case (.int(let x)?, .int(let y)?): return x < y
        case (.string(let x)?, .string(let y)?): return x.unicodeScalars.lexicographicallyPrecedes(y.unicodeScalars)
        default: return false
        }
    }

    /// The output fields to ask Milvus for: `*` is every declared scalar field and `$meta` (Milvus 2.3
    /// would add the vectors to a plain `*`); other names are passed on.
    private func milvusOutputFields(_ fields: [String], _ layout: MilvusCollectionLayout) -> [String] {
        var out: [String] = []
        for name in fields {
            if name == "*" {
                out += layout.scalarFieldNames
                if layout.milvusSchema.enableDynamicField { out.append(Self.dynamicField) }
            } else {
                out.append(name)
            }
        }
        var seen = Set<String>()
        return out.filter { seen.insert($0).inserted }
    }

    public func count(_ collection: String, matching filter: FilterExpression?) async throws -> Int {
        let layout = try await layout(of: collection)
        return try await client.count(collection, filter: MilvusFilter(layout: layout).text(filter) ?? "")
    }

    public func get(_ collection: String, ids: [Int64], fields: [String]) async throws -> [Row] {
        guard !ids.isEmpty else { return [] }
        let layout = try await layout(of: collection)
        let pk = layout.schema.primaryField.name
        let output = milvusOutputFields(fields, layout)
        var found: [Int64: Row] = [:]
        let unique = Array(Set(ids))
        for start in stride(from: 0, to: unique.count, by: Self.rowsPerRequest) {
            let chunk = unique[start..<min(start + Self.rowsPerRequest, unique.count)].map { FieldValue.int($0) }
            for row in try await client.query(collection, filter: FilterExpression.oneOf(pk, chunk).description,
                                              outputFields: output, limit: chunk.count) {
                if let id = row[pk]?.intValue { found[id] = layout.loupeRow(row, asked: fields) }
            }
        }
        return ids.compactMap { found[$0] }
    }

    // MARK: Search

    public func search(_ collection: String, vector: [Float], options: SearchOptions) async throws -> [SearchHit] {
        let layout = try await layout(of: collection)
        let milvusFilter = MilvusFilter(layout: layout)
        var written = options.expression
        if !options.filter.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
            let parsed = try FilterExpression.parse(options.filter, parameters: options.filterParameters)
            written = written.map { .and(parsed, $0) } ?? parsed
        }
        var request = options
        request.filter = milvusFilter.text(written) ?? ""
        request.expression = nil
        request.filterParameters = [:]
        request.groupByField = nil
        request.groupSize = 1
        request.outputFields = milvusOutputFields(options.outputFields, layout)
        let pk = layout.schema.primaryField.name
        func hits(limit: Int, offset: Int) async throws -> [SearchHit] {
            request.limit = limit
            request.offset = offset
            // Milvus's HNSW needs ef >= top-k; LoupeStore searches with at least 64 as well.
            request.ef = max(options.ef ?? 64, limit + offset)
            let found = try await client.search(collection, vectors: [vector], options: request).first ?? []
            return found.map { hit in
                var fields = layout.loupeRow(hit.fields, asked: options.outputFields)
                if !options.outputFields.contains(pk) { fields[pk] = nil }
                return SearchHit(id: hit.id, distance: hit.distance, fields: fields)
            }
        }
        guard let groupField = options.groupByField else {
            return try await hits(limit: options.limit, offset: options.offset)
        }
        // Group-by, client side (see the type's notes); the key must come back with each hit.
        guard options.limit >= 1, options.offset >= 0, options.groupSize >= 1 else {
            throw StoreError(.invalidArgument, "limit and group size must be at least 1 and offset not negative",
                             collection: collection)
        }
        let askedForKey = options.outputFields.contains(groupField) || options.outputFields.contains("*")
        if !askedForKey { request.outputFields.append(groupField) }
        let groups = options.limit + options.offset
        var k = min(max(groups * options.groupSize * 4, 64), Self.maxTopK)
        var picked: [SearchHit] = []
        while true {
            var found = try await hits(limit: k, offset: 0)
            if !askedForKey {
                // The key read back under its name (`$meta` keys too); dropped again below.
                found = found.map { hit in
                    var h = hit
                    if h.fields[groupField] == nil { h.fields[groupField] = .null }
                    return h
                }
            }
            picked = Self.group(found, by: groupField, groups: groups, size: options.groupSize)
            let complete = Set(picked.map { $0.fields[groupField] ?? .null }).count >= groups
            if complete || found.count < k || k >= Self.maxTopK { break }
            k = min(k * 4, Self.maxTopK)
        }
        var order: [FieldValue] = []
        for hit in picked where !order.contains(hit.fields[groupField] ?? .null) { order.append(hit.fields[groupField] ?? .null) }
        let dropped = Set(order.prefix(options.offset))
        return picked.filter { !dropped.contains($0.fields[groupField] ?? .null) }.map { hit in
            var h = hit
            if !askedForKey { h.fields[groupField] = nil }
            return h
        }
    }

    /// Hits in score order, at most `size` per value of `field` and `groups` values in all (LoupeStore's rule).
    static func group(_ hits: [SearchHit], by field: String, groups: Int, size: Int) -> [SearchHit] {
        GroupBy.take(hits, groups: groups, size: size) { $0.fields[field] ?? .null }
    }

    // MARK: Upkeep

    /// The index on a vector field, or nil when it has none.
    private func vectorIndex(_ collection: String, field: String) async throws -> MilvusIndexDescription? {
        do {
            return try await client.describeIndex(collection, field: field).first
        } catch let error as MilvusError where error.code == .notFound {
            return nil
        }
    }

    /// All rows (Strong), and how many of them the vector index covers (Milvus indexes sealed segments;
    /// growing ones are searched exactly, as LoupeStore's pending rows are). Milvus counts rows deleted but
    /// not yet compacted away as indexed, so the index count is capped at the rows.
    public func statistics(_ collection: String) async throws -> MediaStoreStatistics {
        let layout = try await layout(of: collection)
        let rows = try await client.count(collection)
        var indexed = rows
        for field in layout.schema.vectorFields {
            if let index = try await vectorIndex(collection, field: field.name) {
                indexed = min(indexed, Int(index.indexedRows))
            }
        }
        return MediaStoreStatistics(rows: rows, indexedRows: indexed)
    }

    /// Milvus `Flush` of the collections written since the last flush: their growing segments are sealed
    /// and persisted (and get indexed). Nothing is sent when nothing was written.
    public func flush() async throws {
        let written = state.withLock { $0.unflushed }
        guard !written.isEmpty else { return }
        try await client.flush(written.sorted())
        state.withLock { $0.unflushed.subtract(written) }
    }

    /// Flushes what was written, then closes the connection.
    public func close() async throws {
        do {
            try await flush()
        } catch {
            await client.close()
            throw error
        }
        await client.close()
    }
}
