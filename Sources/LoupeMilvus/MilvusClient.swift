import GRPCCore
import GRPCNIOTransportHTTP2
import Logging

/// A client of one Milvus server (or cluster proxy) over Milvus's gRPC protocol
/// (`milvus.proto.milvus.MilvusService`), with Loupe's values: rows are `Row`s of `FieldValue`s,
/// schemas are LoupeStore's `CollectionSchema`.
///
/// ```swift
/// let client = try MilvusClient(configuration: MilvusConfiguration(
///     uri: "http://127.0.0.1:19530", credentials: .userPassword(user: "root", password: "Milvus")))
/// try await client.connect()
/// try await client.createCollection("media", schema: .quick(dimension: 512))
/// try await client.insert("media", rows: [["id": 1, "vector": .vector(v), "path": "a.jpg"]])
/// let hits = try await client.search("media", vectors: [q], options: SearchOptions(limit: 5))
/// await client.close()
/// ```
///
/// It connects on first use (or `connect()`): `Connect` registers the client and gives an identifier
/// sent with later calls, `GetVersion` tells which features the server has. Every call has a deadline
/// (`configuration.timeout`, or `longTimeout` for index builds, loads and flushes); calls that fail
/// because the server is unavailable or throttling are retried with exponential backoff within it.
/// Call `close()` when done.
@available(LoupeMilvus 1.0, *)
public actor MilvusClient {
    typealias Transport = HTTP2ClientTransport.Posix
    typealias Service = Milvus_Proto_Milvus_MilvusService.Client<Transport>

    public nonisolated let configuration: MilvusConfiguration
    let logger: Logger
    private let grpc: GRPCClient<Transport>
    let service: Service
    private var runner: Task<Void, Never>?
    private var closed = false
    private var identifier: Int64?
    private var serverVersion: ServerVersion?
    private var connecting: Task<ServerVersion, any Error>?
    /// Schemas of collections this client has written to or read from, by name.
    var schemaCache: [String: MilvusCollectionSchema] = [:]
    /// The timestamp of this client's last write to each collection (for `.session` reads).
    var lastWrite: [String: UInt64] = [:]

    /// A client for `configuration`; nothing is sent until the first call or `connect()`.
    public init(configuration: MilvusConfiguration, logger: Logger = Logger(label: "loupe.milvus")) throws {
        self.configuration = configuration
        self.logger = logger
        let security: HTTP2ClientTransport.Posix.TransportSecurity = switch (configuration.useTLS, configuration.trustedCertificates) {
        case (false, _): .plaintext
        case (true, nil): .tls
        case (true, let file?): .tls { $0.trustRoots = .certificates([.file(path: file, format: .pem)]) }
        }
        let target: any ResolvableTarget
        if configuration.host.contains(":") {
            target = .ipv6(address: configuration.host, port: configuration.port)
        } else if configuration.host.split(separator: ".").count == 4,
                  configuration.host.allSatisfy({ $0.isNumber || $0 == "." }) {
            target = .ipv4(address: configuration.host, port: configuration.port)
        } else {
            target = .dns(host: configuration.host, port: configuration.port)
        }
        let transport: Transport
        do {
            transport = try HTTP2ClientTransport.Posix(
                target: target, transportSecurity: security,
                config: .defaults { config in
                    // Fail over quickly to our own retry loop instead of waiting out long reconnect backoffs.
                    config.backoff = .init(initial: .milliseconds(100), max: .seconds(2), multiplier: 1.6, jitter: 0.2)
                })
        } catch {
            throw MilvusError(.invalidArgument, "cannot make a transport for \(configuration.address): \(error)",
                              server: configuration.address)
        }
        grpc = GRPCClient(transport: transport)
        service = Service(wrapping: grpc)
    }

    /// Connects (if not yet connected) and returns the server's version.
    @discardableResult
    public func connect() async throws -> ServerVersion {
        if let serverVersion { return serverVersion }
        guard !closed else { throw MilvusError(.unavailable, "the client is closed", server: configuration.address) }
        // Calls made while connecting wait for the same handshake instead of starting their own.
        if let connecting { return try await connecting.value }
        let task = Task { try await self.handshake() }
        connecting = task
        defer { connecting = nil }
        return try await task.value
    }

    private func handshake() async throws -> ServerVersion {
        if runner == nil {
            let grpc = self.grpc
            let logger = self.logger
            runner = Task {
                do { try await grpc.runConnections() } catch {
                    logger.debug("gRPC connections ended", metadata: ["error": "\(error)"])
                }
            }
        }
        var request = Milvus_Proto_Milvus_ConnectRequest()
        request.clientInfo.sdkType = "Swift (Loupe)"
        request.clientInfo.sdkVersion = "milvus-proto \(milvusProtoTag)"
        request.clientInfo.user = configuration.credentials?.user ?? ""
        do {
            let reply = try await unary("Connect") { service, md, options in
                try await service.connect(request, metadata: md, options: options)
            }
            identifier = reply.identifier
        } catch let error as MilvusError where error.code == .unsupportedFeature {
            // Servers before 2.2.9 have no Connect; GetVersion below still checks the credentials.
            logger.debug("server has no Connect rpc")
        }
        let version = try await unary("GetVersion") { service, md, options in
            try await service.getVersion(Milvus_Proto_Milvus_GetVersionRequest(), metadata: md, options: options)
        }
        let parsed = ServerVersion(parsing: version.version)
        serverVersion = parsed
        logger.debug("connected to Milvus", metadata: ["server": "\(configuration.address)", "version": "\(version.version)"])
        return parsed
    }

    /// The server's version (connecting first if needed).
    public var version: ServerVersion {
        get async throws { try await connect() }
    }

    /// Stops the connection; in-flight calls finish first. Later calls fail with `.unavailable`.
    public func close() async {
        closed = true
        grpc.beginGracefulShutdown()
        if let runner { await runner.value }
        runner = nil
    }

    /// Throws `.unsupportedFeature` when the server is older than the feature.
    func require(_ feature: MilvusFeature) async throws {
        let version = try await connect()
        // A version text with no number (0.0.0), or milvus-lite's own numbering, says nothing about
        // Milvus features; let the server decide.
        if version.major > 0, !version.isMilvusLite, version < feature.since {
            throw MilvusError.unsupported(feature.rawValue, needs: feature.since, server: version,
                                          address: configuration.address)
        }
    }

    // MARK: calls

    private var metadata: Metadata {
        var md: Metadata = [:]
        if let credentials = configuration.credentials { md.addString(credentials.headerValue, forKey: "authorization") }
        if let database = configuration.database, !database.isEmpty { md.addString(database, forKey: "dbname") }
        if let identifier { md.addString(String(identifier), forKey: "identifier") }
        return md
    }

    /// One call with a deadline, metadata, retries on unavailability and throttling, and the reply's
    /// `common.Status` checked. `operation` names the RPC in errors.
    func unary<Response: StatusCarrying>(
        _ operation: String, collection: String? = nil, long: Bool = false,
        _ body: (Service, Metadata, CallOptions) async throws -> Response
    ) async throws -> Response {
        guard !closed else { throw MilvusError(.unavailable, "the client is closed", server: configuration.address) }
        let clock = ContinuousClock()
        let budget = long ? configuration.longTimeout : configuration.timeout
        let deadline = clock.now + budget
        var backoff = configuration.retry.initialBackoff
        var attempt = 1
        while true {
            var options = CallOptions.defaults
            options.timeout = max(deadline - clock.now, .milliseconds(1))
            options.maxResponseMessageBytes = configuration.maxResponseBytes
            let error: MilvusError
            do {
                let response = try await body(service, metadata, options)
                if let failure = MilvusStatus.error(response.milvusStatus, operation: operation, collection: collection,
                                                    server: configuration.address) {
                    error = failure
                } else {
                    return response
                }
            } catch let e as MilvusError {
                error = e
            } catch let e as RPCError {
                error = MilvusStatus.error(e, operation: operation, collection: collection,
                                           server: configuration.address, budget: budget)
            } catch {
                throw MilvusError(.server, "\(error)", operation: operation, collection: collection,
                                  server: configuration.address)
            }
            let remaining = deadline - clock.now
            guard error.isRetriable, attempt < configuration.retry.maxAttempts, remaining > backoff else {
                throw error
            }
            logger.debug("retrying Milvus call", metadata: [
                "operation": "\(operation)", "attempt": "\(attempt)", "error": "\(error.code)",
            ])
            try await Task.sleep(for: backoff)
            attempt += 1
            backoff = min(backoff * configuration.retry.multiplier, configuration.retry.maxBackoff)
        }
    }
}
