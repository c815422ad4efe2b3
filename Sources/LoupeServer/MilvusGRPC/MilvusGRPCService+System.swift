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

    // MARK: Aliases: LoupeStore has none

    func createAlias(request: Milvus_Proto_Milvus_CreateAliasRequest, context: ServerContext) async throws
        -> Milvus_Proto_Common_Status
    {
        unsupported("CreateAlias (collections have no aliases in Loupe)")
    }

    func dropAlias(request: Milvus_Proto_Milvus_DropAliasRequest, context: ServerContext) async throws
        -> Milvus_Proto_Common_Status
    {
        unsupported("DropAlias (collections have no aliases in Loupe)")
    }

    func alterAlias(request: Milvus_Proto_Milvus_AlterAliasRequest, context: ServerContext) async throws
        -> Milvus_Proto_Common_Status
    {
        unsupported("AlterAlias (collections have no aliases in Loupe)")
    }

    func describeAlias(request: Milvus_Proto_Milvus_DescribeAliasRequest, context: ServerContext) async throws
        -> Milvus_Proto_Milvus_DescribeAliasResponse
    {
        var reply = Milvus_Proto_Milvus_DescribeAliasResponse()
        reply.status = Self.status(MilvusError(code: 1600, "alias not found[database=default][alias=\(request.alias)]"))
        return reply
    }

    func listAliases(request: Milvus_Proto_Milvus_ListAliasesRequest, context: ServerContext) async throws
        -> Milvus_Proto_Milvus_ListAliasesResponse
    {
        await answer("ListAliases") {
            try checkDatabase(request.dbName)
            if !request.collectionName.isEmpty { _ = try await schema(request.collectionName) }
            var reply = Self.success(Milvus_Proto_Milvus_ListAliasesResponse.self)
            reply.dbName = "default"
            reply.collectionName = request.collectionName
            return reply
        }
    }
}
