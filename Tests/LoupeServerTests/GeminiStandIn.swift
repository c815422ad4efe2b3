import Foundation
import LoupeFixtures
import LoupeMedia
import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization

/// Gemini's `generateContent` on a loopback port for the server's tests (LoupeTests' `ProviderStandIn`
/// lives in another test target): every request is logged, and the test's `respond` answers it, after
/// awaiting whatever it likes (a gate the test opens once it has seen the job's progress).
final class GeminiStandIn: Sendable {
    struct Received: Sendable {
        var uri: String
        var headers: HTTPHeaders
        var body: Data

        var json: [String: Any] { (try? JSONSerialization.jsonObject(with: body)) as? [String: Any] ?? [:] }
        /// The parts of the first content: the prompt, then the references.
        var parts: [[String: Any]] {
            let contents = json["contents"] as? [[String: Any]] ?? []
            return contents.first?["parts"] as? [[String: Any]] ?? []
        }
        var prompt: String? { parts.first?["text"] as? String }
        /// The inline pictures sent, decoded from base64, with their MIME types.
        var pictures: [(mimeType: String, data: Data)] {
            parts.compactMap { part in
                guard let inline = part["inline_data"] as? [String: Any], let encoded = inline["data"] as? String,
                      let data = Data(base64Encoded: encoded) else { return nil }
                return (inline["mime_type"] as? String ?? "", data)
            }
        }
        var generationConfig: [String: Any] { json["generationConfig"] as? [String: Any] ?? [:] }
    }

    struct Reply: Sendable {
        var status: HTTPResponseStatus = .ok
        var body: Data

        static func json(_ object: Any, status: HTTPResponseStatus = .ok) -> Reply {
            Reply(status: status, body: (try? JSONSerialization.data(withJSONObject: object)) ?? Data())
        }
    }

    /// A small PNG, the "generated" picture: a green square on 64 × 48.
    static let picture: Data = {
        let pixels = ShapePainter(width: 64, height: 48).paint(.square, .green)
        return (try? ImageEncoder.encode(pixels: pixels, width: 64, height: 48, as: .png)) ?? Data()
    }()

    /// Text and one picture, in the REST API's camelCase.
    static var imageAnswer: [String: Any] { [
        "candidates": [["content": ["role": "model", "parts": [
            ["text": "Here is your picture."],
            ["inlineData": ["mimeType": "image/png", "data": picture.base64EncodedString()]],
        ]], "finishReason": "STOP", "index": 0]],
    ] }
    static var blockedAnswer: [String: Any] { ["promptFeedback": ["blockReason": "SAFETY"]] }
    static var textOnlyAnswer: [String: Any] { [
        "candidates": [["content": ["parts": [["text": "I can only describe it."]]], "finishReason": "STOP"]],
    ] }

    private let respond: @Sendable (Received) async -> Reply
    private let log = Mutex<[Received]>([])
    private let channel = Mutex<Channel?>(nil)

    init(_ respond: @escaping @Sendable (Received) async -> Reply) {
        self.respond = respond
    }

    var requests: [Received] { log.withLock { $0 } }

    /// Binds an ephemeral loopback port and returns its base URL.
    func start() async throws -> URL {
        let bootstrap = ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                    try channel.pipeline.syncOperations.addHandler(Handler(standIn: self))
                }
            }
        let bound = try await bootstrap.bind(host: "127.0.0.1", port: 0).get()
        channel.withLock { $0 = bound }
        return URL(string: "http://127.0.0.1:\(bound.localAddress!.port!)")!
    }

    func stop() async {
        try? await channel.withLock { $0 }?.close()
    }

    /// The server environment pointing `POST /api/generate` here.
    func environment(_ base: URL, key: String = GenerateAPITests.key) -> [String: String] {
        ["GEMINI_BASE_URL": base.absoluteString, "GEMINI_API_KEY": key]
    }

    fileprivate func answer(_ request: Received) async -> Reply {
        log.withLock { $0.append(request) }
        return await respond(request)
    }

    private final class Handler: ChannelInboundHandler, @unchecked Sendable {
        typealias InboundIn = HTTPServerRequestPart
        typealias OutboundOut = HTTPServerResponsePart
        let standIn: GeminiStandIn
        var head: HTTPRequestHead?
        var body = Data()

        init(standIn: GeminiStandIn) { self.standIn = standIn }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            switch unwrapInboundIn(data) {
            case .head(let head):
                self.head = head
                body = Data()
            case .body(let buffer):
                body.append(contentsOf: buffer.readableBytesView)
            case .end:
                guard let head else { return }
                let received = Received(uri: head.uri, headers: head.headers, body: body)
                let bound = NIOLoopBound(context, eventLoop: context.eventLoop)
                let loop = context.eventLoop
                let standIn = standIn
                Task {
                    let reply = await standIn.answer(received)
                    loop.execute {
                        let context = bound.value
                        let headers = HTTPHeaders([("Content-Type", "application/json"), ("Content-Length", "\(reply.body.count)")])
                        context.write(NIOAny(HTTPServerResponsePart.head(HTTPResponseHead(version: head.version, status: reply.status,
                                                                                           headers: headers))), promise: nil)
                        context.write(NIOAny(HTTPServerResponsePart.body(.byteBuffer(ByteBuffer(bytes: reply.body)))), promise: nil)
                        context.writeAndFlush(NIOAny(HTTPServerResponsePart.end(nil)), promise: nil)
                    }
                }
            }
        }
    }
}

/// A one-shot gate: `wait()` returns once `open()` has been called (before or after).
final class Gate: Sendable {
    private let state = Mutex<(open: Bool, waiters: [CheckedContinuation<Void, Never>])>((false, []))

    func open() {
        let waiters = state.withLock { state in
            state.open = true
            defer { state.waiters = [] }
            return state.waiters
        }
        for waiter in waiters { waiter.resume() }
    }

    func wait() async {
        await withCheckedContinuation { continuation in
            let resumeNow = state.withLock { state in
                if state.open { return true }
                state.waiters.append(continuation)
                return false
            }
            if resumeNow { continuation.resume() }
        }
    }
}
