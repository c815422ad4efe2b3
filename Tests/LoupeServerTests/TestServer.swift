import AsyncHTTPClient
import Foundation
import NIOSSL
import Logging
import Loupe
import LoupeFixtures
import NIOCore
import NIOFoundationCompat
import NIOHTTP1
import ServiceLifecycle
import Synchronization
@testable import LoupeServer

/// A real `LoupeServer` on an ephemeral loopback port over a freshly generated shapes library (indexed
/// with the trained shapes model), plus an HTTP client to talk to it.
final class TestServer: Sendable {
    static let modelDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/models/shapes-clip")

    let root: URL
    let mediaFolder: URL
    let pictures: [DemoLibrary.Picture]
    let library: MediaLibrary
    let server: LoupeServer
    let port: Int
    /// The Milvus gRPC port, when the configuration asked for one (`milvusPort = 0`).
    let milvusPort: Int?
    private let task: Task<Void, any Error>
    private let group: ServiceGroup
    let client: HTTPClient
    private let stopped = Mutex(false)

    /// Starts a server. `index` indexes the generated folder before the server starts.
    /// `root` reopens the data of an earlier server (its media folder is not generated again).
    /// In a suite with `.stopsTestServers` the server is stopped when the test ends.
    /// `model` is the model folder the library is indexed with (the trained shapes CLIP by default).
    static func start(index: Bool = true, perClass: Int = 2, video: Bool = true, root existing: URL? = nil,
                      model: URL = modelDirectory,
                      configure: (inout ServerConfiguration) -> Void = { _ in }) async throws -> TestServer
    {
        let root = existing ?? FileManager.default.temporaryDirectory.appendingPathComponent("loupe-server-\(UUID().uuidString)")
        let folder = root.appendingPathComponent("media")
        let pictures = existing == nil ? try DemoLibrary.generate(into: folder, perClass: perClass, video: video) : []
        let embedder = try CLIPEmbedder(directory: model)
        var libraryConfiguration = MediaLibrary.Configuration()
        libraryConfiguration.segmentation = .scenes(maxSeconds: 10)
        libraryConfiguration.remote.refusesPrivateAddresses = true
        let library = try await MediaLibrary.open(at: root.appendingPathComponent("data"), embedder: embedder,
                                                  configuration: libraryConfiguration)
        if index { _ = try await library.index([folder.path]) }
        var configuration = ServerConfiguration()
        configuration.port = 0
        configuration.jobsDirectory = root.appendingPathComponent("data/jobs")
        // No provider keys from the machine's environment: tests that generate give a stand-in's.
        configuration.providerEnvironment = [:]
        configure(&configuration)
        let server: TestServer
        do {
            server = try await TestServer(root: root, folder: folder, pictures: pictures, library: library,
                                          configuration: configuration)
        } catch {
            // A configuration the server refuses: leave nothing open or on disk behind.
            try? await library.close()
            if existing == nil { try? FileManager.default.removeItem(at: root) }
            throw error
        }
        StartedServers.current?.add(server)
        return server
    }

    private init(root: URL, folder: URL, pictures: [DemoLibrary.Picture], library: MediaLibrary,
                 configuration: ServerConfiguration) async throws
    {
        self.root = root
        mediaFolder = folder
        self.pictures = pictures
        self.library = library
        var logger = Logger(label: "loupe.test-server")
        logger.logLevel = .warning
        let server = try LoupeServer(library: library, configuration: configuration, logger: logger)
        self.server = server
        let (ports, continuation) = AsyncStream.makeStream(of: Int.self)
        let (milvusPorts, milvusContinuation) = AsyncStream.makeStream(of: Int.self)
        let application = try server.makeApplication(onRunning: { port in continuation.yield(port) },
                                                     onMilvusRunning: { port in milvusContinuation.yield(port) })
        let group = ServiceGroup(configuration: .init(services: [application], logger: logger))
        self.group = group
        task = Task { try await group.run() }
        var iterator = ports.makeAsyncIterator()
        guard let port = await iterator.next() else { throw ServerError.configuration("the test server did not start") }
        self.port = port
        if configuration.milvusPort != nil {
            var milvusIterator = milvusPorts.makeAsyncIterator()
            guard let milvusPort = await milvusIterator.next() else {
                throw ServerError.configuration("the test server's Milvus gRPC listener did not start")
            }
            self.milvusPort = milvusPort
        } else {
            milvusPort = nil
        }
        if let tls = configuration.tls {
            // Trust the server's own (self-signed) certificate, and nothing else.
            var tlsConfiguration = TLSConfiguration.makeClientConfiguration()
            tlsConfiguration.trustRoots = .file(tls.certificateChain)
            client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: .init(tlsConfiguration: tlsConfiguration))
            scheme = "https"
        } else {
            client = HTTPClient(eventLoopGroupProvider: .singleton)
            scheme = "http"
        }
    }

    /// `http`, or `https` when the server was started with TLS files.
    let scheme: String

    func url(_ path: String) -> String { "\(scheme)://127.0.0.1:\(port)\(path)" }

    /// Sends a request and returns the status, headers and whole body.
    func send(_ method: HTTPMethod = .GET, _ path: String, body: Data? = nil, headers: [(String, String)] = [])
        async throws -> (status: Int, headers: HTTPHeaders, body: Data)
    {
        var request = HTTPClientRequest(url: url(path))
        request.method = method
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        if let body {
            request.body = .bytes(ByteBuffer(data: body))
            if !headers.contains(where: { $0.0.lowercased() == "content-type" }) {
                request.headers.add(name: "Content-Type", value: "application/json")
            }
        }
        let response = try await client.execute(request, timeout: .seconds(60))
        let bytes = try await response.body.collect(upTo: 256 << 20)
        return (Int(response.status.code), response.headers, Data(buffer: bytes))
    }

    /// Sends JSON and decodes a JSON object answer.
    func json(_ method: HTTPMethod = .GET, _ path: String, _ object: Any? = nil, headers: [(String, String)] = [])
        async throws -> (status: Int, object: [String: Any])
    {
        let body = try object.map { try JSONSerialization.data(withJSONObject: $0) }
        let answer = try await send(method, path, body: body, headers: headers)
        let parsed = (try? JSONSerialization.jsonObject(with: answer.body)) as? [String: Any] ?? [:]
        return (answer.status, parsed)
    }

    /// Shuts the server down gracefully and waits until it has stopped, leaving this client open (so that
    /// a response still being read when the server finishes is not cut off by closing the client).
    func stopServing() async {
        await group.triggerGracefulShutdown()
        _ = try? await task.value
    }

    /// Stops the server with a graceful shutdown (in-flight requests finish, jobs stop at a batch
    /// boundary) and, unless `keepFiles`, removes its files. Stopping again only removes the files.
    func stop(keepFiles: Bool = false) async {
        let alreadyStopped = stopped.withLock { value in
            let was = value
            value = true
            return was
        }
        guard !alreadyStopped else {
            if !keepFiles { try? FileManager.default.removeItem(at: root) }
            return
        }
        await stopServing()
        try? await client.shutdown()
        try? await library.close()
        if !keepFiles { try? FileManager.default.removeItem(at: root) }
    }
}
