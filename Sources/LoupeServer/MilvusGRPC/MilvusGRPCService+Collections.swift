import Foundation
import GRPCCore
import LoupeMilvus
import LoupeStore

/// Collections, partitions, loading, indexes and flushing.
extension MilvusGRPCService {
    /// Creates a collection; an existing one with the same schema succeeds, as in Milvus.
    func createCollection(request: Milvus_Proto_Milvus_CreateCollectionRequest, context: ServerContext) async throws
        -> Milvus_Proto_Common_Status
    {
        await answer("CreateCollection") {
            try checkDatabase(request.dbName)
            let name = request.collectionName
            guard !name.isEmpty else { throw MilvusError.invalidParameter("collection name should not be empty") }
            let proto: Milvus_Proto_Schema_CollectionSchema
            do {
                proto = try Milvus_Proto_Schema_CollectionSchema(serializedBytes: request.schema)
            } catch {
                throw MilvusError.invalidParameter("the schema of collection \(name) cannot be read: \(error)")
            }
            let schema = try MilvusGRPCSchema.loupeSchema(proto)
            if await store.hasCollection(name) {
                let existing = try await store.describeCollection(name).schema
                guard Self.sameShape(existing, schema) else {
                    throw MilvusError.invalidParameter("create duplicate collection with different parameters, collection: \(name)")
                }
                return Milvus_Proto_Common_Status()
            }
            try await store.createCollection(name, schema: schema)
            return Milvus_Proto_Common_Status()
        }
    }

    /// Schemas equal but for the vector fields' metric and index, which `CreateIndex` sets later.
    static func sameShape(_ a: CollectionSchema, _ b: CollectionSchema) -> Bool {
        func plain(_ s: CollectionSchema) -> CollectionSchema {
            var s = s
            for i in s.fields.indices where s.fields[i].dataType == .floatVector {
                s.fields[i].metric = nil
                s.fields[i].index = nil
            }
            return s
        }
        return plain(a) == plain(b)
    }

    /// Drops a collection; one that does not exist succeeds, as in Milvus.
    func dropCollection(request: Milvus_Proto_Milvus_DropCollectionRequest, context: ServerContext) async throws
        -> Milvus_Proto_Common_Status
    {
        await answer("DropCollection") {
            try checkDatabase(request.dbName)
            try await rules.checkNotProtected(request.collectionName, action: "drop")
            if await store.hasCollection(request.collectionName) { try await store.dropCollection(request.collectionName) }
            return Milvus_Proto_Common_Status()
        }
    }

    func hasCollection(request: Milvus_Proto_Milvus_HasCollectionRequest, context: ServerContext) async throws
        -> Milvus_Proto_Milvus_BoolResponse
    {
        await answer("HasCollection") {
            try checkDatabase(request.dbName)
            var reply = Self.success(Milvus_Proto_Milvus_BoolResponse.self)
            reply.value = await store.hasCollection(request.collectionName)
            return reply
        }
    }

    func describeCollection(request: Milvus_Proto_Milvus_DescribeCollectionRequest, context: ServerContext) async throws
        -> Milvus_Proto_Milvus_DescribeCollectionResponse
    {
        await answer("DescribeCollection") {
            try checkDatabase(request.dbName)
            guard !request.collectionName.isEmpty else { throw MilvusError.invalidParameter("collection name should not be empty") }
            let description = try await store.describeCollection(request.collectionName)
            var reply = Self.success(Milvus_Proto_Milvus_DescribeCollectionResponse.self)
            reply.schema = MilvusGRPCSchema.proto(description)
            reply.collectionID = Self.id(of: description.name)
            reply.collectionName = description.name
            reply.aliases = description.aliases
            reply.dbName = "default"
            reply.shardsNum = 1
            reply.numPartitions = Int64(description.partitions.count)
            // Every read sees every write that returned before it.
            reply.consistencyLevel = .strong
            reply.virtualChannelNames = ["loupe-dml_0_\(reply.collectionID)v0"]
            reply.physicalChannelNames = ["loupe-dml_0"]
            return reply
        }
    }

    func showCollections(request: Milvus_Proto_Milvus_ShowCollectionsRequest, context: ServerContext) async throws
        -> Milvus_Proto_Milvus_ShowCollectionsResponse
    {
        await answer("ShowCollections") {
            try checkDatabase(request.dbName)
            var names = await store.listCollections()
            if !request.collectionNames.isEmpty {
                for name in request.collectionNames where !names.contains(name) { throw MilvusError.collectionNotFound(name) }
                names = request.collectionNames
            }
            var reply = Self.success(Milvus_Proto_Milvus_ShowCollectionsResponse.self)
            reply.collectionNames = names
            reply.collectionIds = names.map(Self.id(of:))
            reply.createdTimestamps = names.map { _ in 0 }
            reply.createdUtcTimestamps = names.map { _ in 0 }
            reply.inMemoryPercentages = names.map { _ in 100 }
            reply.queryServiceAvailable = names.map { _ in true }
            return reply
        }
    }

    func renameCollection(request: Milvus_Proto_Milvus_RenameCollectionRequest, context: ServerContext) async throws
        -> Milvus_Proto_Common_Status
    {
        await answer("RenameCollection") {
            try checkDatabase(request.dbName)
            try checkDatabase(request.newDbname)
            try await rules.checkNotProtected(request.oldName, action: "rename")
            guard !request.newName.isEmpty else { throw MilvusError.invalidParameter("the new collection name should not be empty") }
            try await store.renameCollection(request.oldName, to: request.newName)
            return Milvus_Proto_Common_Status()
        }
    }

    func getCollectionStatistics(request: Milvus_Proto_Milvus_GetCollectionStatisticsRequest, context: ServerContext)
        async throws -> Milvus_Proto_Milvus_GetCollectionStatisticsResponse
    {
        await answer("GetCollectionStatistics") {
            try checkDatabase(request.dbName)
            let stats = try await store.stats(request.collectionName)
            var reply = Self.success(Milvus_Proto_Milvus_GetCollectionStatisticsResponse.self)
            reply.stats = [Self.pair("row_count", String(stats.rowCount))]
            return reply
        }
    }

    static func pair(_ key: String, _ value: String) -> Milvus_Proto_Common_KeyValuePair {
        var kv = Milvus_Proto_Common_KeyValuePair()
        kv.key = key
        kv.value = value
        return kv
    }

    // MARK: Loading: LoupeStore keeps every collection loaded

    func loadCollection(request: Milvus_Proto_Milvus_LoadCollectionRequest, context: ServerContext) async throws
        -> Milvus_Proto_Common_Status
    {
        await answer("LoadCollection") {
            try checkDatabase(request.dbName)
            _ = try await schema(request.collectionName)
            // Loading is where Milvus readies a collection for search: start indexing what waits.
            try await store.indexPendingRows(request.collectionName)
            return Milvus_Proto_Common_Status()
        }
    }

    func releaseCollection(request: Milvus_Proto_Milvus_ReleaseCollectionRequest, context: ServerContext) async throws
        -> Milvus_Proto_Common_Status
    {
        await answer("ReleaseCollection") {
            try checkDatabase(request.dbName)
            try await rules.checkNotProtected(request.collectionName, action: "release")
            _ = try await schema(request.collectionName)
            return Milvus_Proto_Common_Status()
        }
    }

    func loadPartitions(request: Milvus_Proto_Milvus_LoadPartitionsRequest, context: ServerContext) async throws
        -> Milvus_Proto_Common_Status
    {
        await answer("LoadPartitions") {
            try await checkPartitions(request.collectionName, request.partitionNames)
            return Milvus_Proto_Common_Status()
        }
    }

    func releasePartitions(request: Milvus_Proto_Milvus_ReleasePartitionsRequest, context: ServerContext) async throws
        -> Milvus_Proto_Common_Status
    {
        await answer("ReleasePartitions") {
            try await checkPartitions(request.collectionName, request.partitionNames)
            return Milvus_Proto_Common_Status()
        }
    }

    private func checkPartitions(_ collection: String, _ partitions: [String]) async throws {
        let existing = try await store.listPartitions(collection)
        for p in partitions where !existing.contains(p) {
            throw MilvusError.partitionNotFound("partition=\(p)")
        }
    }

    func getLoadState(request: Milvus_Proto_Milvus_GetLoadStateRequest, context: ServerContext) async throws
        -> Milvus_Proto_Milvus_GetLoadStateResponse
    {
        await answer("GetLoadState") {
            try checkDatabase(request.dbName)
            try await checkPartitions(request.collectionName, request.partitionNames)
            var reply = Self.success(Milvus_Proto_Milvus_GetLoadStateResponse.self)
            reply.state = .loaded
            return reply
        }
    }

    func getLoadingProgress(request: Milvus_Proto_Milvus_GetLoadingProgressRequest, context: ServerContext) async throws
        -> Milvus_Proto_Milvus_GetLoadingProgressResponse
    {
        await answer("GetLoadingProgress") {
            try checkDatabase(request.dbName)
            try await checkPartitions(request.collectionName, request.partitionNames)
            var reply = Self.success(Milvus_Proto_Milvus_GetLoadingProgressResponse.self)
            reply.progress = 100
            reply.refreshProgress = 100
            return reply
        }
    }

    // MARK: Partitions

    func createPartition(request: Milvus_Proto_Milvus_CreatePartitionRequest, context: ServerContext) async throws
        -> Milvus_Proto_Common_Status
    {
        await answer("CreatePartition") {
            try checkDatabase(request.dbName)
            try await store.createPartition(request.collectionName, partition: request.partitionName)
            return Milvus_Proto_Common_Status()
        }
    }

    func dropPartition(request: Milvus_Proto_Milvus_DropPartitionRequest, context: ServerContext) async throws
        -> Milvus_Proto_Common_Status
    {
        await answer("DropPartition") {
            try checkDatabase(request.dbName)
            try await store.dropPartition(request.collectionName, partition: request.partitionName)
            return Milvus_Proto_Common_Status()
        }
    }

    func hasPartition(request: Milvus_Proto_Milvus_HasPartitionRequest, context: ServerContext) async throws
        -> Milvus_Proto_Milvus_BoolResponse
    {
        await answer("HasPartition") {
            try checkDatabase(request.dbName)
            var reply = Self.success(Milvus_Proto_Milvus_BoolResponse.self)
            reply.value = try await store.hasPartition(request.collectionName, partition: request.partitionName)
            return reply
        }
    }

    func showPartitions(request: Milvus_Proto_Milvus_ShowPartitionsRequest, context: ServerContext) async throws
        -> Milvus_Proto_Milvus_ShowPartitionsResponse
    {
        await answer("ShowPartitions") {
            try checkDatabase(request.dbName)
            var names = try await store.listPartitions(request.collectionName)
            // Milvus lists `_default` first, then the others in creation order (Loupe: by name).
            if let i = names.firstIndex(of: "_default") { names.insert(names.remove(at: i), at: 0) }
            var reply = Self.success(Milvus_Proto_Milvus_ShowPartitionsResponse.self)
            reply.partitionNames = names
            reply.partitionIds = names.map { Self.id(of: request.collectionName + "/" + $0) }
            reply.createdTimestamps = names.map { _ in 0 }
            reply.createdUtcTimestamps = names.map { _ in 0 }
            reply.inMemoryPercentages = names.map { _ in 100 }
            return reply
        }
    }

    func getPartitionStatistics(request: Milvus_Proto_Milvus_GetPartitionStatisticsRequest, context: ServerContext)
        async throws -> Milvus_Proto_Milvus_GetPartitionStatisticsResponse
    {
        await answer("GetPartitionStatistics") {
            try checkDatabase(request.dbName)
            try await checkPartitions(request.collectionName, [request.partitionName])
            let count = try await store.query(request.collectionName, outputFields: ["count(*)"],
                                              partitionNames: [request.partitionName])
            var reply = Self.success(Milvus_Proto_Milvus_GetPartitionStatisticsResponse.self)
            let n: Int64 = if case .int(let i)? = count.first?["count(*)"] { i } else { 0 }
            reply.stats = [Self.pair("row_count", String(n))]
            return reply
        }
    }

    // MARK: Flush

    /// A write is durable in SQLite when Insert returns, and searches see it at once (rows not yet in a
    /// graph are scanned exactly). What Flush adds, as sealing segments does in Milvus, is that the rows
    /// waiting for the graph start going into it now, however few; DescribeIndex shows the progress.
    /// Index files are written when the server stops.
    func flush(request: Milvus_Proto_Milvus_FlushRequest, context: ServerContext) async throws
        -> Milvus_Proto_Milvus_FlushResponse
    {
        await answer("Flush") {
            try checkDatabase(request.dbName)
            for name in request.collectionNames { _ = try await schema(name) }
            for name in request.collectionNames { try await store.indexPendingRows(name) }
            var reply = Self.success(Milvus_Proto_Milvus_FlushResponse.self)
            reply.dbName = "default"
            let ts = Self.timestamp()
            for name in request.collectionNames {
                reply.collSegIds[name] = Milvus_Proto_Schema_LongArray()
                reply.flushCollSegIds[name] = Milvus_Proto_Schema_LongArray()
                reply.collSealTimes[name] = Int64(Date().timeIntervalSince1970)
                reply.collFlushTs[name] = ts
            }
            return reply
        }
    }

    func getFlushState(request: Milvus_Proto_Milvus_GetFlushStateRequest, context: ServerContext) async throws
        -> Milvus_Proto_Milvus_GetFlushStateResponse
    {
        var reply = Self.success(Milvus_Proto_Milvus_GetFlushStateResponse.self)
        reply.flushed = true
        return reply
    }

    func flushAll(request: Milvus_Proto_Milvus_FlushAllRequest, context: ServerContext) async throws
        -> Milvus_Proto_Milvus_FlushAllResponse
    {
        await answer("FlushAll") {
            var reply = Self.success(Milvus_Proto_Milvus_FlushAllResponse.self)
            reply.flushAllTs = Self.timestamp()
            return reply
        }
    }

    func getFlushAllState(request: Milvus_Proto_Milvus_GetFlushAllStateRequest, context: ServerContext) async throws
        -> Milvus_Proto_Milvus_GetFlushAllStateResponse
    {
        var reply = Self.success(Milvus_Proto_Milvus_GetFlushAllStateResponse.self)
        reply.flushed = true
        return reply
    }
}
