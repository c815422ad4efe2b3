import Foundation
import Hummingbird
import HummingbirdTLS
import HummingbirdCore
import Logging
import Loupe
import LoupeMedia
import LoupeStore
import NIOCore

/// The HTTP face of a library: Loupe's JSON API, Milvus's REST v2 surface over the same store, the web
/// page, health and metrics.
///
/// ```swift
/// let server = try LoupeServer(library: library, configuration: configuration)
/// try await server.run()                       // until SIGINT/SIGTERM, then drains in-flight requests
/// ```
public final class LoupeServer: Sendable {
    public let library: MediaLibrary
    public let configuration: ServerConfiguration
    let logger: Logger
    let metrics: ServerMetrics
    let jobs: IndexingJobs
    /// Image generation jobs (`POST /api/generate`).
    let generations: GenerationJobs
    /// The image model, when the environment has a key for it.
    let generator: GeminiImageGenerator?
    /// Why `generator` is nil, for the 503 and the page.
    let generationProblem: String?
    /// Where generated pictures are saved and served from.
    let generatedDirectory: URL
    let thumbnails: ThumbnailCache
    /// The embedded database under the library, when it runs on one (Milvus REST is served from it).
    let embeddedStore: LoupeClient?
    /// The user's own tables in the embedded database, filled by the library's embedder (`clip`) and the
    /// providers their sources name.
    let tables: TableClient?
    /// Open connections, with the caps and header deadline of `configuration.limits`.
    let connections: ConnectionGate

    public init(library: MediaLibrary, configuration: ServerConfiguration, logger: Logger = Logger(label: "loupe.server"))
        throws
    {
        try configuration.validate()
        self.library = library
        self.configuration = configuration
        self.logger = logger
        metrics = ServerMetrics()
        DecodeBudget.shared.capacity = configuration.limits.decodeBudgetBytes
        connections = ConnectionGate(maxConnections: configuration.limits.maxConnections,
                                     maxPerAddress: configuration.limits.maxConnectionsPerAddress)
        thumbnails = ThumbnailCache(library: library, directory: library.dataDirectory.appendingPathComponent("thumbnails"))
        embeddedStore = (library.store as? EmbeddedMediaStore)?.client
        tables = embeddedStore.map { store in
            var tableConfiguration = TableClient.Configuration()
            tableConfiguration.remote = library.configuration.remote
            tableConfiguration.maxPixels = library.configuration.maxPixels
            tableConfiguration.executor = library.configuration.executor
            tableConfiguration.readsFiles = configuration.allowsTableFiles
            // The library's model serves `clip`; a provider a table names connects on first use, with the
            // key and base URL from the provider environment.
            var remote = RemoteEmbedderSettings()
            remote.environment = configuration.providerEnvironment
            return TableClient(store: store, embedders: [VectorSource.defaultEmbedder: library.embedder],
                               connect: TableClient.remoteConnector(data: library.dataDirectory, settings: remote),
                               configuration: tableConfiguration)
        }
        jobs = try IndexingJobs(library: library, directory: configuration.jobsDirectory, metrics: metrics, logger: logger)
        generatedDirectory = configuration.generatedDirectory ?? library.dataDirectory.appendingPathComponent("generated")
        let imageModel = Self.imageGenerator(environment: configuration.providerEnvironment, logger: logger)
        generator = imageModel.0
        generationProblem = imageModel.1
        if let generationProblem { logger.info("\(generationProblem)") }
        generations = GenerationJobs(library: library, generator: generator, directory: generatedDirectory, logger: logger)
    }

    /// The image model for `POST /api/generate`, or why there is none (no key, a bad `GEMINI_BASE_URL`).
    static func imageGenerator(environment: [String: String], logger: Logger) -> (GeminiImageGenerator?, String?) {
        do {
            return (try GeminiImageGenerator.fromEnvironment(environment: environment, logger: logger), nil)
        } catch let error as ProviderError where error.code == .missingKey {
            return (nil, "image generation is off on this server: set GEMINI_API_KEY (or GOOGLE_API_KEY) in the "
                + "environment of `loupe serve` and restart it")
        } catch {
            return (nil, "image generation is off on this server: \(error)")
        }
    }

    /// The router with every route and middleware, for `Application` or for tests.
    func makeRouter() -> Router<LoupeRequestContext> {
        let router = Router(context: LoupeRequestContext.self)
        router.add(middleware: RequestLogMiddleware(logger: logger))
        router.add(middleware: MetricsMiddleware(metrics: metrics))
        router.add(middleware: ErrorShapeMiddleware())
        if !configuration.corsOrigins.isEmpty {
            router.add(middleware: CORSAllowListMiddleware(origins: Set(configuration.corsOrigins)))
        }
        router.add(middleware: AuthMiddleware(token: configuration.token))
        SystemRoutes(server: self).register(on: router)
        WebRoutes().register(on: router)
        APIRoutes(server: self).register(on: router)
        GenerateRoutes(server: self).register(on: router)
        if let tables {
            TableRoutes(tables: tables, maxBodyBytes: configuration.maxBodyBytes,
                        libraryCollection: library.configuration.collection).register(on: router)
        }
        if let embeddedStore {
            var milvus = MilvusRoutes(store: embeddedStore, maxBodyBytes: configuration.maxBodyBytes)
            milvus.protectedCollections = [library.configuration.collection]
            milvus.allowsLibraryAdmin = configuration.allowsLibraryAdmin
            milvus.tables = tables
            milvus.maxSearchResults = configuration.limits.maxSearchResults
            milvus.maxQueryVectors = configuration.limits.maxQueryVectors
            milvus.register(on: router)
        } else {
            MilvusRoutes.registerForwardingRefusal(on: router, location: library.store.location)
        }
        return router
    }

    /// An application bound to the configured address; `onRunning` receives the bound port, and
    /// `onMilvusRunning` the Milvus gRPC port when `configuration.milvusPort` is set.
    public func makeApplication(onRunning: @escaping @Sendable (Int) async -> Void = { _ in },
                                onMilvusRunning: @escaping @Sendable (Int) async -> Void = { _ in }) throws
        -> some ApplicationProtocol
    {
        let limits = configuration.limits
        let gate = connections
        let http = HTTP1Channel.Configuration(
            additionalChannelHandlers: [
                ConnectionGuardHandler(gate: gate, headerTimeout: .nanoseconds(Int64(limits.headerTimeout * 1e9)))
            ],
            idleTimeout: .nanoseconds(Int64(limits.idleTimeout * 1e9)))
        let server: HTTPServerBuilder = if let tls = configuration.tls {
            try .tls(.http1(configuration: http), tlsConfiguration: try tls.serverConfiguration())
        } else {
            .http1(configuration: http)
        }
        var app = Application(
            router: makeRouter(),
            server: server,
            configuration: .init(address: .hostname(configuration.host, port: configuration.port),
                                 serverName: "loupe"),
            onServerRunning: { channel in await onRunning(channel.localAddress?.port ?? 0) },
            logger: logger)
        app.addServices(jobs, generations)
        if let milvusPort = configuration.milvusPort {
            app.addServices(try makeMilvusListener(port: milvusPort, onRunning: onMilvusRunning))
        }
        return app
    }

    /// The Milvus gRPC listener over the embedded store, with the Milvus REST surface's rules.
    func makeMilvusListener(port: Int, onRunning: @escaping @Sendable (Int) async -> Void) throws -> MilvusGRPCListener {
        guard let embeddedStore else {
            throw ServerError.configuration("--milvus-port needs the embedded store; this library is on the Milvus server "
                + "\(library.store.location): point Milvus clients at that server")
        }
        var rules = MilvusRoutes(store: embeddedStore, maxBodyBytes: configuration.maxBodyBytes)
        rules.protectedCollections = [library.configuration.collection]
        rules.allowsLibraryAdmin = configuration.allowsLibraryAdmin
        rules.maxSearchResults = configuration.limits.maxSearchResults
        rules.maxQueryVectors = configuration.limits.maxQueryVectors
        let service = MilvusGRPCService(store: embeddedStore, rules: rules, logger: logger)
        return MilvusGRPCListener(service: service, host: configuration.host, port: port, token: configuration.token,
                                  tls: configuration.tls, logger: logger, onRunning: onRunning)
    }

    /// Serves until SIGINT or SIGTERM; in-flight requests finish and running jobs stop at a batch
    /// boundary (they resume on the next start).
    public func run(onRunning: @escaping @Sendable (Int) async -> Void = { _ in },
                    onMilvusRunning: @escaping @Sendable (Int) async -> Void = { _ in }) async throws {
        try await makeApplication(onRunning: onRunning, onMilvusRunning: onMilvusRunning).runService()
    }
}
