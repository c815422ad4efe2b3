import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2
import Logging
import LoupeMilvus
import LoupeStore
import ServiceLifecycle

/// `loupe serve --milvus-port`: Milvus's gRPC protocol over HTTP/2 (grpc-swift-2), run as a `Service`
/// beside the HTTP server, so it starts and stops with it (graceful shutdown lets calls in flight finish).
final class MilvusGRPCListener: Service {
    private let server: GRPCServer<HTTP2ServerTransport.Posix>
    private let transport: HTTP2ServerTransport.Posix
    private let onRunning: @Sendable (Int) async -> Void
    private let logger: Logger

    /// Largest request accepted, in bytes: 10k rows of 512-d vectors are 20 MB; Milvus's proxy accepts 64 MB.
    static let maxRequestBytes = 64 << 20

    /// - Parameter tls: serve gRPC over TLS with these files (checked beforehand by the HTTP server's start).
    init(service: MilvusGRPCService, host: String, port: Int, token: String?, tls: TLSFiles?, logger: Logger,
         onRunning: @escaping @Sendable (Int) async -> Void)
    {
        let address: GRPCNIOTransportCore.SocketAddress = host.contains(":") ? .ipv6(host: host, port: port)
            : .ipv4(host: host == "localhost" ? "127.0.0.1" : host, port: port)
        let security: HTTP2ServerTransport.Posix.TransportSecurity = if let tls {
            .tls(certificateChain: [.file(path: tls.certificateChain, format: .pem)],
                 privateKey: .file(path: tls.privateKey, format: .pem))
        } else {
            .plaintext
        }
        transport = HTTP2ServerTransport.Posix(
            address: address, transportSecurity: security,
            config: .defaults { $0.rpc.maxRequestPayloadSize = Self.maxRequestBytes })
        var router = RPCRouter<HTTP2ServerTransport.Posix>()
        service.registerMethods(with: &router)
        Self.registerNewerMethods(with: &router)
        if let token, !token.isEmpty {
            router.registerInterceptors(pipeline: [.apply(MilvusGRPCAuthInterceptor(token: token), to: .all)])
        }
        server = GRPCServer(transport: transport, router: router)
        self.onRunning = onRunning
        self.logger = logger
    }

    func run() async throws {
        try await withGracefulShutdownHandler {
            try await withThrowingDiscardingTaskGroup { group in
                group.addTask { try await self.server.serve() }
                let address = try await transport.listeningAddress
                await onRunning(address.ipv4?.port ?? address.ipv6?.port ?? 0)
            }
        } onGracefulShutdown: {
            self.server.beginGracefulShutdown()
        }
    }

    /// RPCs newer protos define and the pinned stubs lack: each answers "service unimplemented" as a
    /// Milvus status, encoded by hand (a bare status, or a reply whose field 1 is the status).
    private static func registerNewerMethods(with router: inout RPCRouter<HTTP2ServerTransport.Posix>) {
        for (name, replyIsStatus) in MilvusGRPCService.newerUnsupportedMethods {
            let method = MethodDescriptor(fullyQualifiedService: "milvus.proto.milvus.MilvusService", method: name)
            guard !router.hasHandler(forMethod: method) else { continue }
            let status = MilvusGRPCService.status(.unsupported(name))
            let reply: [UInt8]
            do {
                let encoded: [UInt8] = try status.serializedBytes()
                reply = replyIsStatus ? encoded : [1 << 3 | 2] + MilvusGRPCWire.varint(UInt64(encoded.count)) + encoded
            } catch {
                continue
            }
            router.registerHandler(forMethod: method, deserializer: RawBytes(), serializer: RawBytes()) { request, _ in
                for try await _ in request.messages {}
                return StreamingServerResponse(single: ServerResponse(message: reply))
            }
        }
    }
}

/// Messages passed through as their bytes.
private struct RawBytes: MessageSerializer, MessageDeserializer {
    func serialize<Bytes: GRPCContiguousBytes>(_ message: [UInt8]) throws -> Bytes { Bytes(message) }
    func deserialize<Bytes: GRPCContiguousBytes>(_ serializedMessageBytes: Bytes) throws -> [UInt8] {
        serializedMessageBytes.withUnsafeBytes { Array($0) }
    }
}

/// The HTTP side's token rules for gRPC: `authorization` metadata holds base64 of the token or of
/// `user:token` (pymilvus's `token="root:TOKEN"` or `user`/`password`). Anything else fails as Milvus's
/// proxy fails it: gRPC `UNAUTHENTICATED` with its message, which pymilvus reports when connecting.
struct MilvusGRPCAuthInterceptor: ServerInterceptor {
    let token: String

    func intercept<Input: Sendable, Output: Sendable>(
        request: StreamingServerRequest<Input>, context: ServerContext,
        next: @Sendable (StreamingServerRequest<Input>, ServerContext) async throws -> StreamingServerResponse<Output>
    ) async throws -> StreamingServerResponse<Output> {
        let accepted = request.metadata[stringValues: "authorization"].contains { value in
            guard let data = Data(base64Encoded: value.trimmingCharacters(in: .whitespaces)),
                  let credential = String(data: data, encoding: .utf8) else { return false }
            return AuthMiddleware.accepts(credential: credential, token: token)
        }
        guard accepted else {
            return StreamingServerResponse(error: RPCError(
                code: .unauthenticated,
                message: "auth check failure, please check username, password or api key are correct"))
        }
        return try await next(request, context)
    }
}
