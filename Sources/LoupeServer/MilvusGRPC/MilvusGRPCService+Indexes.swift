import Foundation
import GRPCCore
import LoupeMilvus
import LoupeStore

/// Indexes. Every vector field of a LoupeStore collection has exactly one index, named after the field,
/// fixed with its metric when rows arrive: `CreateIndex` sets them on an empty collection (as pymilvus's
/// quick setup does right after creating it) and accepts the same settings again later; changing them
/// once rows exist is refused. Scalar indexes are accepted and have no effect (filters scan rows in
/// memory).
extension MilvusGRPCService {
    func createIndex(request: Milvus_Proto_Milvus_CreateIndexRequest, context: ServerContext) async throws
        -> Milvus_Proto_Common_Status
    {
        await answer("CreateIndex") {
            try checkDatabase(request.dbName)
            let name = request.collectionName
            let description = try await store.describeCollection(name)
            var schema = description.schema
            guard let i = schema.fields.firstIndex(where: { $0.name == request.fieldName }) else {
                throw MilvusError.invalidParameter("cannot create index on non-exist field: \(request.fieldName)")
            }
            guard schema.fields[i].dataType == .floatVector else { return Milvus_Proto_Common_Status() }
            let (metric, index) = try Self.indexSettings(request.extraParams)
            if schema.fields[i].metric == metric && schema.fields[i].index == index { return Milvus_Proto_Common_Status() }
            guard try await store.stats(name).rowCount == 0 else {
                throw MilvusError.invalidParameter(
                    "Loupe fixes the index and metric of '\(request.fieldName)' (\(schema.fields[i].metric?.rawValue ?? "COSINE"), "
                        + "\(schema.fields[i].index?.kind.rawValue ?? "HNSW")) once the collection holds rows; create the index before inserting")
            }
            // Empty: make the collection again with the new settings (and its partitions).
            schema.fields[i].metric = metric
            schema.fields[i].index = index
            try await store.dropCollection(name)
            try await store.createCollection(name, schema: schema)
            for partition in description.partitions where partition != "_default" {
                try await store.createPartition(name, partition: partition)
            }
            return Milvus_Proto_Common_Status()
        }
    }

    /// The metric and LoupeStore index for `CreateIndex`'s parameters (`index_type`, `metric_type`,
    /// `params` as JSON), with the REST surface's mapping of Milvus index types.
    static func indexSettings(_ pairs: [Milvus_Proto_Common_KeyValuePair]) throws(MilvusError) -> (MetricType, IndexParams) {
        let body = parameters(pairs)
        var members = body.members
        if case .object(let nested)? = body["params"] { members.merge(nested) { top, _ in top } }
        let params = MilvusRequestBody(members: members)
        let metric = try MilvusSchema.metric(try params.string("metric_type"))
        let index = try MilvusSchema.index(try params.string("index_type") ?? "AUTOINDEX", params: params)
        return (metric, index)
    }

    func describeIndex(request: Milvus_Proto_Milvus_DescribeIndexRequest, context: ServerContext) async throws
        -> Milvus_Proto_Milvus_DescribeIndexResponse
    {
        await answer("DescribeIndex") {
            try checkDatabase(request.dbName)
            let name = request.collectionName
            let schema = try await store.describeCollection(name).schema
            let stats = try await store.stats(name)
            var reply = Self.success(Milvus_Proto_Milvus_DescribeIndexResponse.self)
            for f in schema.vectorFields {
                guard request.fieldName.isEmpty || request.fieldName == f.name,
                      request.indexName.isEmpty || request.indexName == f.name else { continue }
                var d = Milvus_Proto_Milvus_IndexDescription()
                d.indexName = f.name
                d.indexID = Self.id(of: name + "/" + f.name)
                d.fieldName = f.name
                let index = f.index ?? .hnsw
                var params: [String: Int] = [:]
                if index.kind == .hnsw {
                    params["M"] = index.m
                    params["efConstruction"] = index.efConstruction
                }
                let paramsJSON = params.isEmpty ? "{}" : "{" + params.keys.sorted().map { "\"\($0)\":\(params[$0]!)" }.joined(separator: ",") + "}"
                d.params = [
                    Self.pair("index_type", index.kind.rawValue.uppercased()),
                    Self.pair("metric_type", (f.metric ?? .cosine).rawValue),
                    Self.pair("params", paramsJSON),
                ]
                // Rows wait for the graph only while a background build catches up (Flush, LoadCollection
                // and searches start one); they are searched exactly meanwhile, as Milvus searches growing segments.
                let pending = stats.pendingRows[f.name] ?? 0
                d.totalRows = Int64(stats.rowCount)
                d.indexedRows = Int64(stats.rowCount - pending)
                d.pendingIndexRows = Int64(pending)
                d.state = stats.indexing.contains(f.name) ? .inProgress : .finished
                reply.indexDescriptions.append(d)
            }
            guard !reply.indexDescriptions.isEmpty else {
                throw MilvusError(code: 700, "index not found[collection=\(name)][indexName=\(request.indexName)]")
            }
            return reply
        }
    }

    /// LoupeStore cannot search a vector field without its index: dropping one is refused.
    func dropIndex(request: Milvus_Proto_Milvus_DropIndexRequest, context: ServerContext) async throws
        -> Milvus_Proto_Common_Status
    {
        await answer("DropIndex") {
            try checkDatabase(request.dbName)
            let schema = try await store.describeCollection(request.collectionName).schema
            let target = request.indexName.isEmpty ? request.fieldName : request.indexName
            guard schema.vectorFields.contains(where: { $0.name == target }) || target.isEmpty else {
                throw MilvusError(code: 700, "index not found[collection=\(request.collectionName)][indexName=\(target)]")
            }
            throw MilvusError.unsupported("DropIndex (a vector field always has its index in Loupe; "
                                          + "CreateIndex on an empty collection changes it)")
        }
    }

    func getIndexState(request: Milvus_Proto_Milvus_GetIndexStateRequest, context: ServerContext) async throws
        -> Milvus_Proto_Milvus_GetIndexStateResponse
    {
        await answer("GetIndexState") {
            let schema = try await schema(request.collectionName)
            let stats = try await store.stats(request.collectionName)
            let fields = schema.vectorFields.map(\.name).filter {
                (request.fieldName.isEmpty || request.fieldName == $0) && (request.indexName.isEmpty || request.indexName == $0)
            }
            var reply = Self.success(Milvus_Proto_Milvus_GetIndexStateResponse.self)
            reply.state = fields.contains(where: stats.indexing.contains) ? .inProgress : .finished
            return reply
        }
    }

    func getIndexBuildProgress(request: Milvus_Proto_Milvus_GetIndexBuildProgressRequest, context: ServerContext)
        async throws -> Milvus_Proto_Milvus_GetIndexBuildProgressResponse
    {
        await answer("GetIndexBuildProgress") {
            let stats = try await store.stats(request.collectionName)
            let target = request.indexName.isEmpty ? request.fieldName : request.indexName
            let pending = target.isEmpty ? stats.pendingRows.values.max() ?? 0 : stats.pendingRows[target] ?? 0
            var reply = Self.success(Milvus_Proto_Milvus_GetIndexBuildProgressResponse.self)
            reply.totalRows = Int64(stats.rowCount)
            reply.indexedRows = Int64(stats.rowCount - pending)
            return reply
        }
    }

    func getIndexStatistics(request: Milvus_Proto_Milvus_GetIndexStatisticsRequest, context: ServerContext)
        async throws -> Milvus_Proto_Milvus_GetIndexStatisticsResponse
    {
        await answer("GetIndexStatistics") {
            var describe = Milvus_Proto_Milvus_DescribeIndexRequest()
            describe.dbName = request.dbName
            describe.collectionName = request.collectionName
            describe.indexName = request.indexName
            let described = try await describeIndex(request: describe, context: context)
            guard described.status.code == 0 else { throw MilvusError(code: Int(described.status.code), described.status.reason) }
            var reply = Self.success(Milvus_Proto_Milvus_GetIndexStatisticsResponse.self)
            reply.indexDescriptions = described.indexDescriptions
            return reply
        }
    }
}
