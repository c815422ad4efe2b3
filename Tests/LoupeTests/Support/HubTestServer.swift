import Crypto
import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix

/// A Hugging Face hub stand-in on a loopback port: repository listing, `resolve` with LFS-style
/// redirects to a "CDN" path, range requests, an optional token, and connections cut on purpose.
final class HubTestServer: @unchecked Sendable {
    struct File {
        var data: Data
        /// Served like an LFS file: SHA-256 in X-Linked-Etag and a redirect to /cdn/.
        var lfs: Bool
    }

    struct LoggedRequest {
        var method: HTTPMethod
        var uri: String
        var headers: HTTPHeaders
    }

    let repository: String
    let commit = "0123456789abcdef0123456789abcdef01234567"
    var requiredToken: String?
    private let lock = NSLock()
    private var files: [String: File]
    private var cuts: [String: Int] = [:]
    private var corrupt: Set<String> = []
    private var log: [LoggedRequest] = []
    private var channel: Channel?
    /// Where LFS redirects point: the same server under another host name, like a real CDN.
    private var cdnBase = ""

    init(repository: String, files: [String: File]) {
        self.repository = repository
        self.files = files
    }

    /// The next body of `file` stops after `bytes` bytes and the connection closes.
    func cutNextTransfer(of file: String, after bytes: Int) { lock.withLock { cuts[file] = bytes } }
    /// `file` is served with one byte flipped, so its hash no longer matches.
    func corrupt(_ file: String) { lock.withLock { _ = corrupt.insert(file) } }
    var requests: [LoggedRequest] { lock.withLock { log } }

    /// Binds to an ephemeral loopback port; in a suite with `.stopsHubServers` it stops when the test ends.
    func start() async throws -> URL {
        let bootstrap = ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                    try channel.pipeline.syncOperations.addHandler(Handler(server: self))
                }
            }
        let channel = try await bootstrap.bind(host: "127.0.0.1", port: 0).get()
        self.channel = channel
        StartedHubServers.current?.add(self)
        let port = channel.localAddress!.port!
        cdnBase = "http://localhost:\(port)"
        return URL(string: "http://127.0.0.1:\(port)")!
    }

    func stop() async {
        try? await channel?.close()
    }

    static func sha256(_ data: Data) -> String { SHA256.hash(data: data).map { String(format: "%02x", $0) }.joined() }
    static func gitBlobSHA1(_ data: Data) -> String {
        Insecure.SHA1.hash(data: Data("blob \(data.count)\0".utf8) + data).map { String(format: "%02x", $0) }.joined()
    }

    // MARK: Routing

    struct Reply {
        var status: HTTPResponseStatus
        var headers: [(String, String)] = []
        var body = Data()
        var cutAfter: Int?
    }

    fileprivate func reply(_ head: HTTPRequestHead) -> Reply {
        lock.withLock { log.append(LoggedRequest(method: head.method, uri: head.uri, headers: head.headers)) }
        let path = head.uri.split(separator: "?").first.map(String.init) ?? head.uri
        let authorized = requiredToken == nil || head.headers.first(name: "authorization") == "Bearer \(requiredToken!)"
        if path.hasPrefix("/cdn/") {
            // Pre-signed URLs reject a second credential, as real CDNs do.
            if head.headers.contains(name: "authorization") { return Reply(status: .badRequest) }
            return body(String(path.dropFirst("/cdn/".count)), head: head)
        }
        guard authorized else { return Reply(status: .unauthorized) }
        if path == "/api/models/\(repository)/revision/main" || path == "/api/models/\(repository)/revision/\(commit)" {
            let siblings = lock.withLock { files.keys.sorted() }.map { ["rfilename": $0] }
            let json = try! JSONSerialization.data(withJSONObject: ["sha": commit, "siblings": siblings])
            return Reply(status: .ok, headers: [("Content-Type", "application/json")], body: json)
        }
        let resolvePrefix = "/\(repository)/resolve/\(commit)/"
        guard path.hasPrefix(resolvePrefix) else { return Reply(status: .notFound) }
        let name = String(path.dropFirst(resolvePrefix.count))
        guard let file = lock.withLock({ files[name] }) else { return Reply(status: .notFound) }
        if file.lfs {
            return Reply(status: .found, headers: [
                ("Location", "\(cdnBase)/cdn/\(name)"), ("X-Linked-Etag", "\"\(Self.sha256(file.data))\""),
                ("X-Linked-Size", "\(file.data.count)"), ("X-Repo-Commit", commit), ("Content-Length", "0"),
            ])
        }
        if head.method == .HEAD {
            return Reply(status: .ok, headers: [("ETag", "\"\(Self.gitBlobSHA1(file.data))\""), ("X-Repo-Commit", commit),
                                                ("Content-Length", "\(file.data.count)")])
        }
        return body(name, head: head)
    }

    private func body(_ name: String, head: HTTPRequestHead) -> Reply {
        guard var data = lock.withLock({ files[name]?.data }) else { return Reply(status: .notFound) }
        if lock.withLock({ corrupt.contains(name) }) { data[data.count / 2] ^= 0xFF }
        var start = 0
        var status = HTTPResponseStatus.ok
        if let range = head.headers.first(name: "range"), range.hasPrefix("bytes="), range.hasSuffix("-"),
           let from = Int(range.dropFirst("bytes=".count).dropLast())
        {
            guard from < data.count else { return Reply(status: .rangeNotSatisfiable) }
            start = from
            status = .partialContent
        }
        let slice = data.subdata(in: start..<data.count)
        let cut = lock.withLock { cuts.removeValue(forKey: name) }
        return Reply(status: status, headers: [("Content-Length", "\(slice.count)")], body: slice, cutAfter: cut)
    }

    private final class Handler: ChannelInboundHandler, @unchecked Sendable {
        typealias InboundIn = HTTPServerRequestPart
        typealias OutboundOut = HTTPServerResponsePart
        let server: HubTestServer
        var head: HTTPRequestHead?

        init(server: HubTestServer) { self.server = server }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            switch unwrapInboundIn(data) {
            case .head(let head): self.head = head
            case .body: break
            case .end:
                guard let head else { return }
                let reply = server.reply(head)
                var headers = HTTPHeaders(reply.headers)
                if !headers.contains(name: "content-length") { headers.add(name: "Content-Length", value: "\(reply.body.count)") }
                context.write(wrapOutboundOut(.head(HTTPResponseHead(version: head.version, status: reply.status, headers: headers))),
                              promise: nil)
                if head.method != .HEAD {
                    let bytes = reply.cutAfter.map { reply.body.prefix($0) } ?? reply.body
                    context.write(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(bytes: bytes)))), promise: nil)
                    if reply.cutAfter != nil {
                        let channel = context.channel
                        context.writeAndFlush(wrapOutboundOut(.body(.byteBuffer(ByteBuffer())))).whenComplete { _ in
                            channel.close(promise: nil)
                        }
                        return
                    }
                }
                context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
            }
        }
    }
}
