import Foundation
import GRPCCore
import LoupeStore

@available(LoupeMilvus 1.0, *)
extension MilvusClient {
    /// Inserts rows. Keys no field declares go to the dynamic field (`$meta`) when the collection has
    /// one; the primary key is left out when the server assigns it (auto id).
    @discardableResult
    public func insert(_ collection: String, rows: [Row]) async throws -> MilvusMutationResult {
        try await write("Insert", collection, rows, upsert: false)
    }

    /// Inserts rows, replacing those with the same primary keys.
    @discardableResult
    public func upsert(_ collection: String, rows: [Row]) async throws -> MilvusMutationResult {
        try await write("Upsert", collection, rows, upsert: true)
    }

    private func write(_ operation: String, _ collection: String, _ rows: [Row], upsert: Bool) async throws
        -> MilvusMutationResult
    {
        try await connect()
        guard !rows.isEmpty else {
            return MilvusMutationResult(ids: [], insertCount: 0, upsertCount: 0, deleteCount: 0, timestamp: 0)
        }
        let schema = try await schema(of: collection)
        let columns = try FieldDataCodec.columns(for: rows, schema: schema, operation: operation,
                                                 collection: collection, upsert: upsert)
        func request<R: RowWriteRequest>(_ type: R.Type) -> R {
            var r = R()
            r.collectionName = collection
            r.dbName = configuration.database ?? ""
            r.fieldsData = columns
            r.numRows = UInt32(rows.count)
            return r
        }
        let reply: Milvus_Proto_Milvus_MutationResult
        if upsert {
            let upsert = request(Milvus_Proto_Milvus_UpsertRequest.self)
            reply = try await unary(operation, collection: collection) { service, md, options in
                try await service.upsert(upsert, metadata: md, options: options)
            }
        } else {
            let insert = request(Milvus_Proto_Milvus_InsertRequest.self)
            reply = try await unary(operation, collection: collection) { service, md, options in
                try await service.insert(insert, metadata: md, options: options)
            }
        }
        return recordWrite(reply, collection: collection)
    }

    /// Deletes the rows `filter` (a Milvus boolean expression, e.g. `id in [1, 2]` or `kind == "video"`)
    /// matches; returns what the server counted.
    @discardableResult
    public func delete(_ collection: String, filter: String) async throws -> MilvusMutationResult {
        try await connect()
        guard !filter.trimmingCharacters(in: .whitespaces).isEmpty else {
            throw MilvusError(.invalidArgument, "delete needs a filter; an empty one would match every row",
                              operation: "Delete", collection: collection)
        }
        var request = Milvus_Proto_Milvus_DeleteRequest()
        request.collectionName = collection
        request.dbName = configuration.database ?? ""
        request.expr = filter
        let reply = try await unary("Delete", collection: collection) { service, md, options in
            try await service.delete(request, metadata: md, options: options)
        }
        return recordWrite(reply, collection: collection)
    }

    private func recordWrite(_ reply: Milvus_Proto_Milvus_MutationResult, collection: String) -> MilvusMutationResult {
        if reply.timestamp > 0 { lastWrite[collection] = max(lastWrite[collection] ?? 0, reply.timestamp) }
        return MilvusMutationResult(ids: FieldDataCodec.ids(reply.ids), insertCount: reply.insertCnt,
                                    upsertCount: reply.upsertCnt, deleteCount: reply.deleteCnt,
                                    timestamp: reply.timestamp)
    }

    /// The rows `filter` matches, with `outputFields` (declared fields, dynamic keys, or `*`; the
    /// primary key always). An empty filter needs a `limit` on Milvus.
    public func query(_ collection: String, filter: String, outputFields: [String] = [], limit: Int? = nil,
                      offset: Int = 0, consistency: MilvusConsistency = .strong) async throws -> [Row] {
        try await connect()
        var request = Milvus_Proto_Milvus_QueryRequest()
        request.collectionName = collection
        request.dbName = configuration.database ?? ""
        request.expr = filter
        request.outputFields = outputFields
        if let limit { request.queryParams.append(.init(key: "limit", value: String(limit))) }
        if offset > 0 { request.queryParams.append(.init(key: "offset", value: String(offset))) }
        request.setConsistency(consistencyParameters(consistency, collection: collection))
        let reply = try await unary("Query", collection: collection) { service, md, options in
            try await service.query(request, metadata: md, options: options)
        }
        do {
            return try FieldDataCodec.rows(from: reply.fieldsData, wanted: outputFields)
        } catch var error as MilvusError {
            error.operation = "Query"
            error.collection = collection
            throw error
        }
    }

    /// How many rows `filter` matches (all rows when empty), by `count(*)`.
    public func count(_ collection: String, filter: String = "", consistency: MilvusConsistency = .strong)
        async throws -> Int
    {
        let rows = try await query(collection, filter: filter, outputFields: ["count(*)"], consistency: consistency)
        guard let n = rows.first?["count(*)"]?.intValue else {
            throw MilvusError(.protocolError, "the count(*) query returned no count", operation: "Query",
                              collection: collection, server: configuration.address)
        }
        return Int(n)
    }

    /// Seals the collections' growing segments and waits until they are persisted.
    public func flush(_ collections: [String]) async throws {
        try await connect()
        var request = Milvus_Proto_Milvus_FlushRequest()
        request.collectionNames = collections
        request.dbName = configuration.database ?? ""
        let label = collections.count == 1 ? collections[0] : nil
        let reply = try await unary("Flush", collection: label, long: true) { service, md, options in
            try await service.flush(request, metadata: md, options: options)
        }
        for name in collections {
            var state = Milvus_Proto_Milvus_GetFlushStateRequest()
            state.collectionName = name
            state.dbName = configuration.database ?? ""
            state.segmentIds = (reply.collSegIds[name]?.data ?? []) + (reply.flushCollSegIds[name]?.data ?? [])
            state.flushTs = reply.collFlushTs[name] ?? 0
            guard !state.segmentIds.isEmpty || state.flushTs > 0 else { continue }
            try await poll("Flush", collection: name, what: "the flush to finish") {
                do {
                    return try await self.unary("GetFlushState", collection: name) { service, md, options in
                        try await service.getFlushState(state, metadata: md, options: options)
                    }.flushed
                } catch let error as MilvusError where error.code == .unsupportedFeature {
                    return true  // a server without GetFlushState flushes synchronously
                }
            }
        }
    }

    /// The level and guarantee timestamp a read sends: `.session` waits for this client's last write to
    /// the collection, `.eventually` for nothing, `.strong` and `.bounded` leave the timestamp to the server.
    func consistencyParameters(_ level: MilvusConsistency, collection: String)
        -> (Milvus_Proto_Common_ConsistencyLevel, UInt64)
    {
        switch level {
        case .session: return (level.proto, lastWrite[collection] ?? 1)
        case .eventually: return (level.proto, 1)
        case .strong, .bounded: return (level.proto, 0)
        }
    }
}

/// Insert and upsert requests: the same fields, two messages.
protocol RowWriteRequest: Sendable {
    init()
    var collectionName: String { get set }
    var dbName: String { get set }
    var fieldsData: [Milvus_Proto_Schema_FieldData] { get set }
    var numRows: UInt32 { get set }
}

extension Milvus_Proto_Milvus_InsertRequest: RowWriteRequest {}
extension Milvus_Proto_Milvus_UpsertRequest: RowWriteRequest {}

/// Query, search and hybrid search requests: reads with a consistency level.
protocol ConsistentReadRequest {
    var consistencyLevel: Milvus_Proto_Common_ConsistencyLevel { get set }
    var guaranteeTimestamp: UInt64 { get set }
    var useDefaultConsistency: Bool { get set }
}

extension ConsistentReadRequest {
    mutating func setConsistency(_ parameters: (Milvus_Proto_Common_ConsistencyLevel, UInt64)) {
        consistencyLevel = parameters.0
        guaranteeTimestamp = parameters.1
        useDefaultConsistency = false
    }
}

extension Milvus_Proto_Milvus_QueryRequest: ConsistentReadRequest {}
extension Milvus_Proto_Milvus_SearchRequest: ConsistentReadRequest {}
extension Milvus_Proto_Milvus_HybridSearchRequest: ConsistentReadRequest {}
