import Foundation
import HTTPTypes
import Hummingbird
import Loupe
import LoupeStore

/// Milvus REST v2 (`/v2/vectordb/...`) over the embedded store, so a program written against Milvus's
/// RESTful API works against `loupe serve` unchanged for the calls registered here.
///
/// Every call is a POST with a JSON body. Answers are HTTP 200 with `{"code": 0, "data": ...}`, or
/// `{"code": N, "message": ...}` with Milvus's error codes; handlers never throw into Loupe's own error
/// middleware. Authentication (`Authorization: Bearer <token>` or `user:password`) is checked by
/// `AuthMiddleware` before a call gets here.
struct MilvusRoutes {
    let store: LoupeClient
    let maxBodyBytes: Int
    /// Fills and searches vector fields that schema functions compute (nil: such fields are refused).
    var tables: TableClient?
    /// Collections the server itself needs (the library's): drop and release are refused unless
    /// `allowsLibraryAdmin`.
    var protectedCollections: Set<String> = []
    /// `--allow-library-admin`: lets Milvus clients drop or release the protected collections.
    var allowsLibraryAdmin = false
    /// Most results one search may return in all (query vectors x (limit + offset)).
    var maxSearchResults = RequestLimits().maxSearchResults
    /// Most query vectors in one search.
    var maxQueryVectors = RequestLimits().maxQueryVectors

    /// Refuses a search whose result count (vectors x (limit + offset)) is past the bound, before any work.
    func checkSearchSize(vectors: Int, limit: Int, offset: Int) throws(MilvusError) {
        guard vectors <= maxQueryVectors else {
            throw .invalidParameter("\(vectors) query vectors; the limit is \(maxQueryVectors) per search")
        }
        let (total, overflow) = vectors.multipliedReportingOverflow(by: max(0, limit) + max(0, offset))
        guard !overflow, total <= maxSearchResults else {
            throw .invalidParameter(
                "\(vectors) query vectors x (limit \(limit) + offset \(offset)) results is more than \(maxSearchResults); split the search")
        }
    }

    func register(on router: Router<LoupeRequestContext>) {
        let collections = router.group("v2/vectordb/collections")
        post(collections, "create") { try await createCollection($0) }
        post(collections, "describe") { try await describeCollection($0) }
        post(collections, "drop") { try await dropCollection($0) }
        post(collections, "has") { try await hasCollection($0) }
        post(collections, "list") { _ in MilvusReply.success(await store.listCollections()) }
        post(collections, "get_stats") { try await collectionStats($0) }
        post(collections, "get_load_state") { try await loadState($0) }
        post(collections, "load") { try await loadOrRelease($0, releasing: false) }
        post(collections, "release") { try await loadOrRelease($0, releasing: true) }

        let aliases = router.group("v2/vectordb/aliases")
        post(aliases, "create") { try await aliasCall($0, .create) }
        post(aliases, "alter") { try await aliasCall($0, .alter) }
        post(aliases, "drop") { try await aliasCall($0, .drop) }
        post(aliases, "describe") { try await aliasCall($0, .describe) }
        post(aliases, "list") { call in
            MilvusReply.success(try await store.listAliases(collection: try call.body.string("collectionName")))
        }

        let entities = router.group("v2/vectordb/entities")
        post(entities, "insert") { try await write($0, replacing: false) }
        post(entities, "upsert") { try await write($0, replacing: true) }
        post(entities, "delete") { try await delete($0) }
        post(entities, "get") { try await get($0) }
        post(entities, "query") { try await query($0) }
        post(entities, "search") { try await search($0) }
        post(entities, "hybrid_search") { try await hybridSearch($0) }
    }

    /// For a library on a Milvus cluster: every Milvus REST call is answered with Milvus's "unimplemented"
    /// code and where to send it instead. Loupe does not forward them: the cluster speaks REST itself
    /// (from Milvus 2.4), with its own authentication, which Loupe's token must not stand in for.
    static func registerForwardingRefusal(on router: Router<LoupeRequestContext>, location: String) {
        router.post("v2/vectordb/**") { _, _ in
            MilvusReply.failure(code: 10, message: "this Loupe server keeps its library on the Milvus server \(location); "
                                + "it does not answer Milvus REST calls: send them to that server")
        }
    }

    /// One parsed Milvus request.
    struct Call: Sendable {
        let body: MilvusRequestBody
        /// False when the client sent `Accept-Type-Allow-Int64: false`.
        let int64AsNumber: Bool
    }

    static let allowInt64Header = HTTPField.Name("Accept-Type-Allow-Int64")!

    /// Registers a POST handler that collects and parses the body and turns every failure into
    /// Milvus's error shape.
    private func post(_ group: RouterGroup<LoupeRequestContext>, _ path: RouterPath,
                      _ handler: @escaping @Sendable (Call) async throws -> Response)
    {
        let limit = maxBodyBytes
        group.post(path) { request, context in
            do {
                let data: Data
                do {
                    data = Data(try await request.body.collect(upTo: limit).readableBytesView)
                } catch let error as any HTTPResponseError where error.status == .contentTooLarge {
                    // NIO's `NIOTooManyBytesError` and Hummingbird's own limit both answer 413.
                    throw MilvusError.tooLarge(limit)
                }
                let body = try MilvusRequestBody(data: data)
                // Loupe has one database; Milvus names it "default".
                if let database = try body.string("dbName"), !database.isEmpty, database != "default" {
                    throw MilvusError.databaseNotFound(database)
                }
                let allowInt64 = request.headers[Self.allowInt64Header].map { $0.lowercased() != "false" } ?? true
                return try await handler(Call(body: body, int64AsNumber: allowInt64))
            } catch {
                let answer = MilvusError.from(error)
                // The request log line says 200 (as Milvus answers); this one says what went wrong.
                context.logger.notice("milvus error", metadata: [
                    "path": .string(request.uri.path), "code": .stringConvertible(answer.code),
                    "message": .string(answer.message),
                ])
                return MilvusReply.failure(code: answer.code, message: answer.message)
            }
        }
    }

    /// Refuses `action` on a protected collection (named directly or by an alias) unless the server runs
    /// with `--allow-library-admin`.
    func checkNotProtected(_ name: String, action: String) async throws(MilvusError) {
        guard !protectedCollections.isEmpty, !allowsLibraryAdmin else { return }
        let collection = await store.resolveCollectionName(name) ?? name
        guard protectedCollections.contains(collection) else { return }
        throw MilvusError.libraryCollection(collection, action: action)
    }

    /// The row converter for a collection (throws Milvus's 100 when it does not exist).
    func rows(_ collection: String, _ call: Call) async throws -> MilvusRows {
        let schema = try await store.describeCollection(collection).schema
        return MilvusRows(schema: schema, int64AsNumber: call.int64AsNumber)
    }

    /// The tables client for a schema with function fields.
    func sourcedTables(_ collection: String) throws(MilvusError) -> TableClient {
        guard let tables else {
            throw .invalidParameter("collection \(collection) has function fields, and this server has no embedder to compute them")
        }
        return tables
    }
}
