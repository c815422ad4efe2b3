import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization

/// A cloud provider's stand-in on a loopback port, for the tests of every module that talks to one: each
/// request (head and body) is logged and answered by the test's `respond` closure, optionally after a delay
/// (simulated latency) or never (a hung server).
///
/// A plain `respond` runs on the channel's event loop, so the stand-in answers even while the test blocks
/// every cooperative thread (waiting on a `loupe` child process, say); an `async` one, which may await what
/// it likes (a gate the test opens), runs in a task.
public final class ProviderStandIn: Sendable {
    public struct Received: Sendable {
        public var method: HTTPMethod
        public var uri: String
        public var headers: HTTPHeaders
        public var body: Data

        public var path: String { uri.split(separator: "?").first.map(String.init) ?? uri }
        public func header(_ name: String) -> String? { headers.first(name: name) }
        /// The body as a JSON object (nil when it is not one).
        public var json: [String: Any]? { try? JSONSerialization.jsonObject(with: body) as? [String: Any] }
    }

    public struct Reply: Sendable {
        public var status: HTTPResponseStatus
        public var headers: [(String, String)] = []
        public var body = Data()
        /// Answer only after this long (the provider's latency).
        public var delay: TimeAmount?
        /// Never answer (the connection stays open until the client gives up).
        public var hang = false

        public init(status: HTTPResponseStatus, headers: [(String, String)] = [], body: Data = Data(), delay: TimeAmount? = nil,
                    hang: Bool = false) {
            self.status = status
            self.headers = headers
            self.body = body
            self.delay = delay
            self.hang = hang
        }

        public static func json(_ object: Any, status: HTTPResponseStatus = .ok, headers: [(String, String)] = []) -> Reply {
            let body = (try? JSONSerialization.data(withJSONObject: object)) ?? Data()
            return Reply(status: status, headers: [("Content-Type", "application/json")] + headers, body: body)
        }
    }

    private enum Responder {
        case onEventLoop(@Sendable (Received, Int) -> Reply)
        case async(@Sendable (Received, Int) async -> Reply)
    }

    private let respond: Responder
    private let log = Mutex<[Received]>([])
    private let channel = Mutex<Channel?>(nil)

    /// - Parameter respond: the answer to a request, given the request and its 0-based number, computed on
    ///   the event loop.
    public init(_ respond: @escaping @Sendable (Received, Int) -> Reply) {
        self.respond = .onEventLoop(respond)
    }

    /// A stand-in whose `respond` runs in a task, so it may await (a gate the test opens).
    public static func answeringInTasks(_ respond: @escaping @Sendable (Received, Int) async -> Reply) -> ProviderStandIn {
        ProviderStandIn(.async(respond))
    }

    private init(_ respond: Responder) {
        self.respond = respond
    }

    public var requests: [Received] { log.withLock { $0 } }

    /// Binds to an ephemeral loopback port; in a suite with `.stopsProviderStandIns` it stops when the test ends.
    public func start() async throws -> URL {
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

    public func stop() async {
        try? await channel.withLock { $0 }?.close()
    }

    /// Logs `request` and returns its number.
    fileprivate func record(_ request: Received) -> Int {
        log.withLock { log in
            log.append(request)
            return log.count - 1
        }
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
                let received = Received(method: head.method, uri: head.uri, headers: head.headers, body: body)
                let number = server.record(received)
                let version = head.version
                let loop = context.eventLoop
                let bound = NIOLoopBound(context, eventLoop: loop)
                // Runs on the channel's event loop, which owns the context.
                let send: @Sendable (Reply) -> Void = { reply in
                    guard !reply.hang else { return }
                    let write: @Sendable () -> Void = {
                        let context = bound.value
                        var headers = HTTPHeaders(reply.headers)
                        headers.add(name: "Content-Length", value: "\(reply.body.count)")
                        context.write(NIOAny(HTTPServerResponsePart.head(HTTPResponseHead(version: version, status: reply.status,
                                                                                           headers: headers))), promise: nil)
                        context.write(NIOAny(HTTPServerResponsePart.body(.byteBuffer(ByteBuffer(bytes: reply.body)))), promise: nil)
                        context.writeAndFlush(NIOAny(HTTPServerResponsePart.end(nil)), promise: nil)
                    }
                    if let delay = reply.delay { loop.scheduleTask(in: delay) { write() } } else { write() }
                }
                switch server.respond {
                case .onEventLoop(let respond):
                    send(respond(received, number))
                case .async(let respond):
                    Task {
                        let reply = await respond(received, number)
                        loop.execute { send(reply) }
                    }
                }
            }
        }
    }
}
