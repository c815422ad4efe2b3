import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization

/// A cloud provider's stand-in on a loopback port: every request (head and body) is logged and answered
/// by the test's `respond` closure, optionally after a delay (simulated latency) or never (a hung server).
final class ProviderStandIn: Sendable {
    struct Received: Sendable {
        var method: HTTPMethod
        var uri: String
        var headers: HTTPHeaders
        var body: Data

        var path: String { uri.split(separator: "?").first.map(String.init) ?? uri }
        func header(_ name: String) -> String? { headers.first(name: name) }
        /// The body as a JSON object (nil when it is not one).
        var json: [String: Any]? { try? JSONSerialization.jsonObject(with: body) as? [String: Any] }
    }

    struct Reply: Sendable {
        var status: HTTPResponseStatus
        var headers: [(String, String)] = []
        var body = Data()
        /// Answer only after this long (the provider's latency).
        var delay: TimeAmount?
        /// Never answer (the connection stays open until the client gives up).
        var hang = false

        static func json(_ object: Any, status: HTTPResponseStatus = .ok, headers: [(String, String)] = []) -> Reply {
            let body = (try? JSONSerialization.data(withJSONObject: object)) ?? Data()
            return Reply(status: status, headers: [("Content-Type", "application/json")] + headers, body: body)
        }
    }

    private let respond: @Sendable (Received, Int) -> Reply
    private let log = Mutex<[Received]>([])
    private let channel = Mutex<Channel?>(nil)

    /// - Parameter respond: the answer to a request, given the request and its 0-based number.
    init(_ respond: @escaping @Sendable (Received, Int) -> Reply) {
        self.respond = respond
    }

    var requests: [Received] { log.withLock { $0 } }

    /// Binds to an ephemeral loopback port; in a suite with `.stopsProviderStandIns` it stops when the test ends.
    func start() async throws -> URL {
        let bootstrap = ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                    try channel.pipeline.syncOperations.addHandler(Handler(server: self))
                }
            }
        let bound = try await bootstrap.bind(host: "127.0.0.1", port: 0).get()
        channel.withLock { $0 = bound }
        StartedStandIns.current?.add(self)
        return URL(string: "http://127.0.0.1:\(bound.localAddress!.port!)")!
    }

    func stop() async {
        try? await channel.withLock { $0 }?.close()
    }

    fileprivate func reply(to request: Received) -> Reply {
        let number = log.withLock { log in
            log.append(request)
            return log.count - 1
        }
        return respond(request, number)
    }

    private final class Handler: ChannelInboundHandler, @unchecked Sendable {
        typealias InboundIn = HTTPServerRequestPart
        typealias OutboundOut = HTTPServerResponsePart
        let server: ProviderStandIn
        var head: HTTPRequestHead?
        var body = Data()

        init(server: ProviderStandIn) { self.server = server }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            switch unwrapInboundIn(data) {
            case .head(let head):
                self.head = head
                body = Data()
            case .body(let buffer):
                body.append(contentsOf: buffer.readableBytesView)
            case .end:
                guard let head else { return }
                let reply = server.reply(to: Received(method: head.method, uri: head.uri, headers: head.headers, body: body))
                if reply.hang { return }
                let version = head.version
                let write: @Sendable (ChannelHandlerContext) -> Void = { context in
                    var headers = HTTPHeaders(reply.headers)
                    headers.add(name: "Content-Length", value: "\(reply.body.count)")
                    context.write(NIOAny(HTTPServerResponsePart.head(HTTPResponseHead(version: version, status: reply.status,
                                                                                       headers: headers))), promise: nil)
                    context.write(NIOAny(HTTPServerResponsePart.body(.byteBuffer(ByteBuffer(bytes: reply.body)))), promise: nil)
                    context.writeAndFlush(NIOAny(HTTPServerResponsePart.end(nil)), promise: nil)
                }
                if let delay = reply.delay {
                    let bound = NIOLoopBound(context, eventLoop: context.eventLoop)
                    context.eventLoop.scheduleTask(in: delay) { write(bound.value) }
                } else {
                    write(context)
                }
            }
        }
    }
}
