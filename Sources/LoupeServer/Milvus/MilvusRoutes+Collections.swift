import Hummingbird
import LoupeStore

/// `/v2/vectordb/collections/...`: create, describe, drop, has, list, statistics, load state.
extension MilvusRoutes {
    /// Creates a collection from the quick setup or a full schema. Creating an existing collection
    /// with the same schema succeeds, as in Milvus; with a different schema it is refused.
    func createCollection(_ call: Call) async throws -> Response {
        let name = try call.body.requiredString("collectionName")
        var schema = try MilvusSchema.collectionSchema(from: call.body)
        if !schema.sourcedVectorFields.isEmpty { schema = try await sourcedTables(name).resolved(schema, table: name) }
        if await store.hasCollection(name) {
            guard try await store.describeCollection(name).schema == schema else {
                throw MilvusError.invalidParameter("create duplicate collection with different parameters, collection: \(name)")
            }
            return MilvusReply.success()
        }
        try await store.createCollection(name, schema: schema)
        return MilvusReply.success()
    }

    func describeCollection(_ call: Call) async throws -> Response {
        let name = try call.body.requiredString("collectionName")
        let description = try await store.describeCollection(name)
        return MilvusReply.success(MilvusSchema.describe(description))
    }

    /// Drops a collection; dropping one that does not exist succeeds, as in Milvus.
    func dropCollection(_ call: Call) async throws -> Response {
        let name = try call.body.requiredString("collectionName")
        try await checkNotProtected(name, action: "drop")
        if await store.hasCollection(name) { try await store.dropCollection(name) }
        return MilvusReply.success()
    }

    func hasCollection(_ call: Call) async throws -> Response {
        let name = try call.body.requiredString("collectionName")
        return MilvusReply.success(["has": await store.hasCollection(name)])
    }

    func collectionStats(_ call: Call) async throws -> Response {
        let name = try call.body.requiredString("collectionName")
        return MilvusReply.success(["rowCount": try await store.stats(name).rowCount])
    }

    /// LoupeStore keeps every collection in memory, so the state is always loaded.
    func loadState(_ call: Call) async throws -> Response {
        let name = try call.body.requiredString("collectionName")
        guard await store.hasCollection(name) else { throw MilvusError.collectionNotFound(name) }
        return MilvusReply.success(["loadState": "LoadStateLoaded", "loadProgress": 100])
    }

    /// Load and release have nothing to do (collections are always loaded) but still name a collection
    /// that must exist.
    func loadOrRelease(_ call: Call, releasing: Bool) async throws -> Response {
        let name = try call.body.requiredString("collectionName")
        if releasing { try await checkNotProtected(name, action: "release") }
        guard await store.hasCollection(name) else { throw MilvusError.collectionNotFound(name) }
        return MilvusReply.success()
    }
}

/// `/v2/vectordb/aliases/...`: create, alter, drop, describe (list is registered inline).
extension MilvusRoutes {
    enum AliasAction { case create, alter, drop, describe }

    func aliasCall(_ call: Call, _ action: AliasAction) async throws -> Response {
        let alias = try call.body.requiredString("aliasName")
        switch action {
        case .create, .alter:
            let collection = try call.body.requiredString("collectionName")
            try await checkNotProtected(collection, action: "alias")
            if action == .create {
                try await store.createAlias(alias, collection: collection)
            } else {
                try await store.alterAlias(alias, collection: collection)
            }
            return MilvusReply.success()
        case .drop:
            try await store.dropAlias(alias)
            return MilvusReply.success()
        case .describe:
            let collection = try await store.describeAlias(alias)
            return MilvusReply.success(["aliasName": alias, "collectionName": collection, "dbName": "default"])
        }
    }
}
