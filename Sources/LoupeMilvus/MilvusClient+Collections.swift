import GRPCCore
import LoupeStore

@available(LoupeMilvus 1.0, *)
extension MilvusClient {
    /// Whether the collection exists.
    public func hasCollection(_ name: String) async throws -> Bool {
        try await connect()
        var request = Milvus_Proto_Milvus_HasCollectionRequest()
        request.collectionName = name
        request.dbName = configuration.database ?? ""
        return try await unary("HasCollection", collection: name) { service, md, options in
            try await service.hasCollection(request, metadata: md, options: options)
        }.value
    }

    /// The names of the collections in the database.
    public func listCollections() async throws -> [String] {
        try await connect()
        var request = Milvus_Proto_Milvus_ShowCollectionsRequest()
        request.dbName = configuration.database ?? ""
        return try await unary("ShowCollections") { service, md, options in
            try await service.showCollections(request, metadata: md, options: options)
        }.collectionNames
    }

    /// The collection's schema and settings; throws `.notFound` when it does not exist.
    public func describeCollection(_ name: String) async throws -> MilvusCollectionDescription {
        let (reply, schema) = try await describe(name)
        var types: [String: String] = [:]
        for f in schema.declared { types[f.name] = "\(f.type)" }
        return MilvusCollectionDescription(
            name: reply.collectionName.isEmpty ? name : reply.collectionName, schema: schema.loupeSchema,
            milvusTypes: types, collectionID: reply.collectionID, shards: Int(reply.shardsNum),
            consistency: MilvusConsistency(reply.consistencyLevel),
            properties: Dictionary(reply.properties.map { ($0.key, $0.value) }, uniquingKeysWith: { _, last in last }))
    }

    func describe(_ name: String) async throws -> (Milvus_Proto_Milvus_DescribeCollectionResponse, MilvusCollectionSchema) {
        try await connect()
        var request = Milvus_Proto_Milvus_DescribeCollectionRequest()
        request.collectionName = name
        request.dbName = configuration.database ?? ""
        let reply = try await unary("DescribeCollection", collection: name) { service, md, options in
            try await service.describeCollection(request, metadata: md, options: options)
        }
        let schema = MilvusCollectionSchema(reply.schema)
        schemaCache[name] = schema
        return (reply, schema)
    }

    /// The server's schema of `name`, described once and then cached.
    func schema(of name: String) async throws -> MilvusCollectionSchema {
        if let cached = schemaCache[name] { return cached }
        return try await describe(name).1
    }

    /// Creates a collection. Vector fields' metrics and indexes are not part of a Milvus schema: build
    /// them with `createIndex` (`MilvusIndex(field)` reads them off a LoupeStore field).
    ///
    /// - Parameters:
    ///   - shards: shards (virtual channels) to spread writes over.
    ///   - consistency: the collection's default consistency for searches and queries.
    ///   - properties: collection properties (key-value text the server keeps with the collection).
    public func createCollection(_ name: String, schema: CollectionSchema, shards: Int = 1,
                                 consistency: MilvusConsistency = .bounded,
                                 properties: [String: String] = [:]) async throws {
        try await connect()
        let proto = try MilvusCollectionSchema.proto(for: schema, name: name)
        var request = Milvus_Proto_Milvus_CreateCollectionRequest()
        request.collectionName = name
        request.dbName = configuration.database ?? ""
        request.schema = try proto.serializedBytes()
        request.shardsNum = Int32(shards)
        request.consistencyLevel = consistency.proto
        request.properties = properties.sorted { $0.key < $1.key }.map { .init(key: $0.key, value: $0.value) }
        schemaCache[name] = nil
        _ = try await unary("CreateCollection", collection: name) { service, md, options in
            try await service.createCollection(request, metadata: md, options: options)
        }
    }

    /// Drops the collection and its data.
    public func dropCollection(_ name: String) async throws {
        try await connect()
        var request = Milvus_Proto_Milvus_DropCollectionRequest()
        request.collectionName = name
        request.dbName = configuration.database ?? ""
        schemaCache[name] = nil
        _ = try await unary("DropCollection", collection: name) { service, md, options in
            try await service.dropCollection(request, metadata: md, options: options)
        }
    }

    // MARK: indexes and loading

    /// Builds an index on a vector field and, with `wait`, returns once the server has indexed every
    /// row it had (within `configuration.longTimeout`).
    public func createIndex(_ collection: String, field: String, index: MilvusIndex, name: String? = nil,
                            wait: Bool = true) async throws {
        try await connect()
        var request = Milvus_Proto_Milvus_CreateIndexRequest()
        request.collectionName = collection
        request.dbName = configuration.database ?? ""
        request.fieldName = field
        request.indexName = name ?? ""
        request.extraParams = [
            .init(key: "index_type", value: index.typeName),
            .init(key: "metric_type", value: index.metric.rawValue),
            .init(key: "params", value: JSONText.encode(.object(index.params))),
        ]
        _ = try await unary("CreateIndex", collection: collection, long: true) { service, md, options in
            try await service.createIndex(request, metadata: md, options: options)
        }
        guard wait else { return }
        try await poll("CreateIndex", collection: collection, what: "index on '\(field)' to finish") {
            let indexes = try await self.describeIndex(collection, field: field)
            if let failed = indexes.first(where: { $0.state == "Failed" }) {
                throw MilvusError(.server, "index build failed: \(failed.failReason)", operation: "CreateIndex",
                                  collection: collection, field: field, server: self.configuration.address)
            }
            return indexes.contains { $0.state == "Finished" || ($0.state.isEmpty && $0.pendingRows == 0) }
        }
    }

    /// The collection's indexes (of one field when `field` is given).
    public func describeIndex(_ collection: String, field: String? = nil) async throws -> [MilvusIndexDescription] {
        try await connect()
        var request = Milvus_Proto_Milvus_DescribeIndexRequest()
        request.collectionName = collection
        request.dbName = configuration.database ?? ""
        request.fieldName = field ?? ""
        let reply = try await unary("DescribeIndex", collection: collection) { service, md, options in
            try await service.describeIndex(request, metadata: md, options: options)
        }
        return reply.indexDescriptions.map { d in
            let params = Dictionary(d.params.map { ($0.key, $0.value) }, uniquingKeysWith: { _, last in last })
            return MilvusIndexDescription(
                name: d.indexName, field: d.fieldName, type: params["index_type"] ?? "",
                metric: params["metric_type"] ?? "", params: params, indexedRows: d.indexedRows,
                totalRows: d.totalRows, pendingRows: d.pendingIndexRows, state: Self.indexStateName(d.state),
                failReason: d.indexStateFailReason)
        }
    }

    private static func indexStateName(_ s: Milvus_Proto_Common_IndexState) -> String {
        switch s {
        case .finished: return "Finished"
        case .inProgress: return "InProgress"
        case .failed: return "Failed"
        case .unissued: return "Unissued"
        case .retry: return "Retry"
        case .none: return ""
        case .UNRECOGNIZED(let n): return "state \(n)"
        }
    }

    /// Loads the collection into memory for search and query; with `wait`, returns once it is loaded.
    public func loadCollection(_ name: String, replicas: Int = 1, wait: Bool = true) async throws {
        try await connect()
        var request = Milvus_Proto_Milvus_LoadCollectionRequest()
        request.collectionName = name
        request.dbName = configuration.database ?? ""
        request.replicaNumber = Int32(replicas)
        _ = try await unary("LoadCollection", collection: name, long: true) { service, md, options in
            try await service.loadCollection(request, metadata: md, options: options)
        }
        guard wait else { return }
        try await poll("LoadCollection", collection: name, what: "the collection to load") {
            try await self.loadState(name) == .loaded
        }
    }

    /// Releases the collection from memory.
    public func releaseCollection(_ name: String) async throws {
        try await connect()
        var request = Milvus_Proto_Milvus_ReleaseCollectionRequest()
        request.collectionName = name
        request.dbName = configuration.database ?? ""
        _ = try await unary("ReleaseCollection", collection: name, long: true) { service, md, options in
            try await service.releaseCollection(request, metadata: md, options: options)
        }
    }

    /// Whether the collection is loaded.
    public func loadState(_ name: String) async throws -> MilvusLoadState {
        try await connect()
        var request = Milvus_Proto_Milvus_GetLoadStateRequest()
        request.collectionName = name
        request.dbName = configuration.database ?? ""
        let reply = try await unary("GetLoadState", collection: name) { service, md, options in
            try await service.getLoadState(request, metadata: md, options: options)
        }
        switch reply.state {
        case .loaded: return .loaded
        case .loading: return .loading
        case .notLoad: return .notLoaded
        default: return .notExist
        }
    }

    /// Polls `done` every 100-500 ms until it holds, or throws `.deadlineExceeded` after
    /// `configuration.longTimeout`.
    func poll(_ operation: String, collection: String, what: String,
              _ done: () async throws -> Bool) async throws {
        let clock = ContinuousClock()
        let deadline = clock.now + configuration.longTimeout
        var interval = Duration.milliseconds(100)
        while try await !done() {
            guard clock.now + interval < deadline else {
                throw MilvusError(.deadlineExceeded, "waited \(configuration.longTimeout) for \(what)",
                                  operation: operation, collection: collection, server: configuration.address)
            }
            try await Task.sleep(for: interval)
            interval = min(interval * 2, .milliseconds(500))
        }
    }
}

extension Milvus_Proto_Common_KeyValuePair {
    init(key: String, value: String) {
        self.init()
        self.key = key
        self.value = value
    }
}
