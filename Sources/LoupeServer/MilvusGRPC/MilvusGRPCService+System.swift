import Foundation
import GRPCCore
import LoupeMilvus
import LoupeStore

/// Connection, health, databases, timestamps and aliases.
extension MilvusGRPCService {
    func connect(request: Milvus_Proto_Milvus_ConnectRequest, context: ServerContext) async throws
        -> Milvus_Proto_Milvus_ConnectResponse
    {
        var reply = Self.success(Milvus_Proto_Milvus_ConnectResponse.self)
        var info = Milvus_Proto_Common_ServerInfo()
        info.buildTags = Self.milvusVersion
        info.deployMode = "STANDALONE"
        info.reserved = ["server": "loupe"]
        reply.serverInfo = info
        reply.identifier = Self.id(of: "\(request.clientInfo.host)/\(request.clientInfo.user)/\(Self.timestamp())")
        return reply
    }

    func getVersion(request: Milvus_Proto_Milvus_GetVersionRequest, context: ServerContext) async throws
        -> Milvus_Proto_Milvus_GetVersionResponse
    {
        var reply = Self.success(Milvus_Proto_Milvus_GetVersionResponse.self)
        reply.version = Self.milvusVersion
        return reply
    }

    func checkHealth(request: Milvus_Proto_Milvus_CheckHealthRequest, context: ServerContext) async throws
        -> Milvus_Proto_Milvus_CheckHealthResponse
    {
        var reply = Self.success(Milvus_Proto_Milvus_CheckHealthResponse.self)
        reply.isHealthy = true
        return reply
    }

    func getComponentStates(request: Milvus_Proto_Milvus_GetComponentStatesRequest, context: ServerContext) async throws
        -> Milvus_Proto_Milvus_ComponentStates
    {
        var reply = Self.success(Milvus_Proto_Milvus_ComponentStates.self)
        var info = Milvus_Proto_Milvus_ComponentInfo()
        info.role = "Proxy"
        info.stateCode = .healthy
        reply.state = info
        return reply
    }

    func allocTimestamp(request: Milvus_Proto_Milvus_AllocTimestampRequest, context: ServerContext) async throws
        -> Milvus_Proto_Milvus_AllocTimestampResponse
    {
        var reply = Self.success(Milvus_Proto_Milvus_AllocTimestampResponse.self)
        reply.timestamp = Self.timestamp()
        return reply
    }

    func dummy(request: Milvus_Proto_Milvus_DummyRequest, context: ServerContext) async throws -> Milvus_Proto_Milvus_DummyResponse {
        var reply = Milvus_Proto_Milvus_DummyResponse()
        reply.response = request.requestType
        return reply
    }

    // MARK: Databases: Loupe has one, `default`

    func listDatabases(request: Milvus_Proto_Milvus_ListDatabasesRequest, context: ServerContext) async throws
        -> Milvus_Proto_Milvus_ListDatabasesResponse
    {
        var reply = Self.success(Milvus_Proto_Milvus_ListDatabasesResponse.self)
        reply.dbNames = ["default"]
        reply.createdTimestamp = [0]
        return reply
    }

    func describeDatabase(request: Milvus_Proto_Milvus_DescribeDatabaseRequest, context: ServerContext) async throws
        -> Milvus_Proto_Milvus_DescribeDatabaseResponse
    {
        await answer("DescribeDatabase") {
            try checkDatabase(request.dbName)
            var reply = Self.success(Milvus_Proto_Milvus_DescribeDatabaseResponse.self)
            reply.dbName = "default"
            reply.dbID = 1
            return reply
        }
    }

    func createDatabase(request: Milvus_Proto_Milvus_CreateDatabaseRequest, context: ServerContext) async throws
        -> Milvus_Proto_Common_Status
    {
        Self.status(MilvusError(code: 10, "service unimplemented: Loupe keeps one database, 'default'; "
                                + "CreateDatabase '\(request.dbName)' is not supported (use collections or partitions)"))
    }

    func dropDatabase(request: Milvus_Proto_Milvus_DropDatabaseRequest, context: ServerContext) async throws
        -> Milvus_Proto_Common_Status
    {
        Self.status(MilvusError(code: 10, "service unimplemented: Loupe keeps one database, 'default'; "
                                + "DropDatabase '\(request.dbName)' is not supported"))
    }

    // MARK: Aliases

    /// Aliases are LoupeStore's own (they survive restarts and are seen by the REST surface and the CLI).
    /// An alias onto the library's collection is an admin action, as dropping it is.
    func createAlias(request: Milvus_Proto_Milvus_CreateAliasRequest, context: ServerContext) async throws
        -> Milvus_Proto_Common_Status
    {
        await answer("CreateAlias") {
            try checkDatabase(request.dbName)
            try checkAliasRequest(request.alias, collection: request.collectionName)
            try await rules.checkNotProtected(request.collectionName, action: "alias")
            try await store.createAlias(request.alias, collection: request.collectionName)
            return Milvus_Proto_Common_Status()
        }
    }

    func dropAlias(request: Milvus_Proto_Milvus_DropAliasRequest, context: ServerContext) async throws
        -> Milvus_Proto_Common_Status
    {
        await answer("DropAlias") {
            try checkDatabase(request.dbName)
            try checkAliasRequest(request.alias, collection: nil)
            try await store.dropAlias(request.alias)
            return Milvus_Proto_Common_Status()
        }
    }

    func alterAlias(request: Milvus_Proto_Milvus_AlterAliasRequest, context: ServerContext) async throws
        -> Milvus_Proto_Common_Status
    {
        await answer("AlterAlias") {
            try checkDatabase(request.dbName)
            try checkAliasRequest(request.alias, collection: request.collectionName)
            try await rules.checkNotProtected(request.collectionName, action: "alias")
            try await store.alterAlias(request.alias, collection: request.collectionName)
            return Milvus_Proto_Common_Status()
        }
    }

    func describeAlias(request: Milvus_Proto_Milvus_DescribeAliasRequest, context: ServerContext) async throws
        -> Milvus_Proto_Milvus_DescribeAliasResponse
    {
        await answer("DescribeAlias") {
            try checkDatabase(request.dbName)
            try checkAliasRequest(request.alias, collection: nil)
            // Milvus 2.3.5 leaves the database name out of this reply.
            var reply = Self.success(Milvus_Proto_Milvus_DescribeAliasResponse.self)
            reply.alias = request.alias
            reply.collection = try await store.describeAlias(request.alias)
            return reply
        }
    }

    func listAliases(request: Milvus_Proto_Milvus_ListAliasesRequest, context: ServerContext) async throws
        -> Milvus_Proto_Milvus_ListAliasesResponse
    {
        await answer("ListAliases") {
            try checkDatabase(request.dbName)
            let collection = request.collectionName.isEmpty ? nil : request.collectionName
            var reply = Self.success(Milvus_Proto_Milvus_ListAliasesResponse.self)
            reply.dbName = "default"
            reply.collectionName = request.collectionName
            reply.aliases = try await store.listAliases(collection: collection)
            return reply
        }
    }

    /// Milvus's 1100 for an empty alias or collection name, before the store is asked.
    private func checkAliasRequest(_ alias: String, collection: String?) throws(MilvusError) {
        guard !alias.isEmpty else { throw .invalidParameter("the alias should not be empty") }
        if let collection, collection.isEmpty { throw .invalidParameter("collection name should not be empty") }
    }
}
