import Foundation
import GRPCCore
import LoupeMilvus
import LoupeStore

/// Insert, upsert, delete and query.
extension MilvusGRPCService {
    /// Milvus's cap on offset + limit for one query or search.
    static let maxResultWindow = MilvusRoutes.maxResultWindow

    func insert(request: Milvus_Proto_Milvus_InsertRequest, context: ServerContext) async throws
        -> Milvus_Proto_Milvus_MutationResult
    {
        await answer("Insert") {
            try await write(request.dbName, request.collectionName, request.partitionName, request.fieldsData,
                            Int(request.numRows), replacing: false)
        }
    }

    func upsert(request: Milvus_Proto_Milvus_UpsertRequest, context: ServerContext) async throws
        -> Milvus_Proto_Milvus_MutationResult
    {
        await answer("Upsert") {
            try await write(request.dbName, request.collectionName, request.partitionName, request.fieldsData,
                            Int(request.numRows), replacing: true)
        }
    }

    /// The mutation result Milvus answers: the keys written (the assigned ones for auto id), every row's
    /// index as succeeded, and the write's timestamp.
    private func write(_ database: String, _ name: String, _ partition: String,
                       _ fieldsData: [Milvus_Proto_Schema_FieldData], _ count: Int, replacing: Bool) async throws
        -> Milvus_Proto_Milvus_MutationResult
    {
        try checkDatabase(database)
        // As on REST: the library's rows are the indexer's.
        try await rules.checkNotProtected(name, action: replacing ? "upsert into" : "insert into")
        let schema = try await schema(name)
        let columns = MilvusGRPCColumns(schema: schema)
        let rows = try columns.rows(fieldsData, count: count)
        let target = partition.isEmpty ? nil : partition
        let result = replacing ? try await store.upsert(name, rows, partition: target)
            : try await store.insert(name, rows, partition: target)
        var reply = Self.success(Milvus_Proto_Milvus_MutationResult.self)
        reply.ids = columns.ids(result.ids)
        reply.succIndex = (0..<UInt32(clamping: result.count)).map { $0 }
        if replacing { reply.upsertCnt = Int64(result.count) } else { reply.insertCnt = Int64(result.count) }
        reply.timestamp = Self.timestamp()
        return reply
    }

    /// Deletes by expression (pymilvus sends deletes by id as `pk in [...]`, as Milvus reads them too).
    func delete(request: Milvus_Proto_Milvus_DeleteRequest, context: ServerContext) async throws
        -> Milvus_Proto_Milvus_MutationResult
    {
        await answer("Delete") {
            try checkDatabase(request.dbName)
            try await rules.checkNotProtected(request.collectionName, action: "delete from")
            let schema = try await schema(request.collectionName)
            guard !request.expr.trimmingCharacters(in: .whitespaces).isEmpty else {
                throw MilvusError.invalidParameter("the expression of delete should not be empty")
            }
            let result = try await store.delete(request.collectionName, filter: request.expr,
                                                partitionNames: request.partitionName.isEmpty ? [] : [request.partitionName])
            var reply = Self.success(Milvus_Proto_Milvus_MutationResult.self)
            reply.deleteCnt = Int64(result.count)
            reply.ids = MilvusGRPCColumns(schema: schema).ids(result.ids)
            reply.timestamp = Self.timestamp()
            return reply
        }
    }

    /// Rows matching `expr`: limit and offset from `query_params`; `count(*)` alone counts; the primary
    /// key is always returned; dynamic keys come back in `$meta`.
    func query(request: Milvus_Proto_Milvus_QueryRequest, context: ServerContext) async throws
        -> Milvus_Proto_Milvus_QueryResults
    {
        await answer("Query") {
            try checkDatabase(request.dbName)
            let name = request.collectionName
            let schema = try await schema(name)
            let params = Self.parameters(request.queryParams)
            let limit = try params.int("limit")
            let offset = try params.int("offset") ?? 0
            let expr = request.expr.trimmingCharacters(in: .whitespaces)
            var reply = Self.success(Milvus_Proto_Milvus_QueryResults.self)
            reply.collectionName = name
            let partitions = request.partitionNames
            if request.outputFields.map({ $0.lowercased().replacingOccurrences(of: " ", with: "") }) == ["count(*)"] {
                let rows = try await store.query(name, filter: expr, outputFields: ["count(*)"], partitionNames: partitions)
                let count: Int64 = if case .int(let n)? = rows.first?["count(*)"] { n } else { 0 }
                var c = Milvus_Proto_Schema_FieldData()
                c.type = .int64
                c.fieldName = "count(*)"
                var long = Milvus_Proto_Schema_LongArray()
                long.data = [count]
                c.scalars.longData = long
                reply.fieldsData = [c]
                reply.outputFields = ["count(*)"]
                return reply
            }
            guard !expr.isEmpty || limit != nil else {
                throw MilvusError.invalidParameter("empty expression should be used with limit")
            }
            if let limit {
                guard limit >= 0, offset >= 0, limit + offset <= Self.maxResultWindow else {
                    throw MilvusError.invalidParameter(
                        "invalid max query result window, (offset+limit) should be in range [1, \(Self.maxResultWindow)], but got \(offset + limit)")
                }
            }
            let columns = MilvusGRPCColumns(schema: schema)
            let fields = try columns.outputFields(request.outputFields, withPrimary: true)
            let rows = try await store.query(name, filter: expr, outputFields: columns.storeOutputFields(fields),
                                             limit: limit, offset: offset, partitionNames: partitions)
            reply.fieldsData = try columns.columns(rows, fields: fields)
            reply.outputFields = fields.declared + fields.dynamic + (fields.all ? [MilvusGRPCSchema.dynamicFieldName] : [])
            return reply
        }
    }
}
