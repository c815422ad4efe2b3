import Foundation
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOWebSocket

/// A Chrome DevTools Protocol client over one WebSocket to the browser endpoint. Commands for a page go
/// to its flattened session (`sessionId`), so one connection drives every tab.
///
/// ```swift
/// try await DevToolsConnection.connect(to: chromium.devToolsURL) { devTools in
///     let version = try await devTools.send("Browser.getVersion")
/// }
/// ```
final class DevToolsConnection: Sendable {
    private enum Reply {
        case pending
        case waiting(CheckedContinuation<Data, any Error>)
        case arrived(Data)
    }

    private struct State {
        var nextID = 0
        var replies: [Int: Reply] = [:]
        var closed: String?
        /// Uncaught exceptions and console errors of the pages, for failure messages.
        var pageErrors: [String] = []
    }

    private let outbound: NIOAsyncChannelOutboundWriter<WebSocketFrame>
    private let state = NIOLockedValueBox(State())

    private init(outbound: NIOAsyncChannelOutboundWriter<WebSocketFrame>) {
        self.outbound = outbound
    }

    private enum UpgradeResult {
        case websocket(NIOAsyncChannel<WebSocketFrame, WebSocketFrame>)
        case notUpgraded
    }

    /// Connects to `url` (`ws://host:port/devtools/browser/...`), runs `body`, then closes the connection.
    static func connect(to url: URL, _ body: (DevToolsConnection) async throws -> Void) async throws {
        guard let host = url.host, let port = url.port else { throw BrowserError("not a DevTools URL: \(url)") }
        let path = url.path
        let upgrade: EventLoopFuture<UpgradeResult> = try await ClientBootstrap(group: .singletonMultiThreadedEventLoopGroup)
            .connectTimeout(.seconds(10))
            .connect(host: host, port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    // Screenshots arrive as one large text message.
                    let upgrader = NIOTypedWebSocketClientUpgrader<UpgradeResult>(maxFrameSize: 1 << 28) { channel, _ in
                        channel.eventLoop.makeCompletedFuture {
                            try channel.pipeline.syncOperations.addHandler(
                                NIOWebSocketFrameAggregator(minNonFinalFragmentSize: 1, maxAccumulatedFrameCount: 1 << 16,
                                                            maxAccumulatedFrameSize: 1 << 28))
                            return .websocket(try NIOAsyncChannel(wrappingChannelSynchronously: channel))
                        }
                    }
                    var headers = HTTPHeaders()
                    headers.add(name: "Host", value: "\(host):\(port)")
                    headers.add(name: "Content-Length", value: "0")
                    let head = HTTPRequestHead(version: .http1_1, method: .GET, uri: path, headers: headers)
                    let configuration = NIOTypedHTTPClientUpgradeConfiguration(
                        upgradeRequestHead: head, upgraders: [upgrader],
                        notUpgradingCompletionHandler: { channel in channel.eventLoop.makeCompletedFuture { .notUpgraded } })
                    return try channel.pipeline.syncOperations.configureUpgradableHTTPClientPipeline(
                        configuration: .init(upgradeConfiguration: configuration))
                }
            }
        guard case .websocket(let channel) = try await upgrade.get() else {
            throw BrowserError("the browser refused the WebSocket upgrade at \(url)")
        }
        try await channel.executeThenClose { inbound, outbound in
            let connection = DevToolsConnection(outbound: outbound)
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { await connection.receive(inbound) }
                do {
                    try await body(connection)
                } catch {
                    group.cancelAll()
                    throw error
                }
                group.cancelAll()
            }
        }
    }

    /// Sends a command and returns its `result`; throws the protocol's error, or after `timeout`.
    @discardableResult
    func send(_ method: String, _ parameters: [String: Any] = [:], session: String? = nil,
              timeout: Duration = .seconds(60)) async throws -> [String: Any]
    {
        let id = try state.withLockedValue { state in
            if let closed = state.closed { throw BrowserError("\(method): \(closed)") }
            state.nextID += 1
            state.replies[state.nextID] = .pending
            return state.nextID
        }
        var message: [String: Any] = ["id": id, "method": method, "params": parameters]
        if let session { message["sessionId"] = session }
        let bytes = try JSONSerialization.data(withJSONObject: message)
        let reply: Data
        do {
            try await outbound.write(WebSocketFrame(fin: true, opcode: .text, maskKey: .random(), data: ByteBuffer(bytes: bytes)))
            reply = try await withThrowingTaskGroup(of: Data.self) { group in
                group.addTask { try await self.reply(to: id) }
                group.addTask {
                    try await Task.sleep(for: timeout)
                    throw BrowserError("\(method) got no answer within \(timeout)")
                }
                defer { group.cancelAll() }
                return try await group.next()!
            }
        } catch {
            state.withLockedValue { _ = $0.replies.removeValue(forKey: id) }
            throw error
        }
        let object = try JSONSerialization.jsonObject(with: reply) as? [String: Any] ?? [:]
        if let error = object["error"] as? [String: Any] {
            throw BrowserError("\(method) failed: \(error["message"] ?? error) \(error["data"] ?? "")")
        }
        return object["result"] as? [String: Any] ?? [:]
    }

    /// Uncaught exceptions and console errors reported by pages so far.
    var pageErrors: [String] { state.withLockedValue { $0.pageErrors } }

    private func reply(to id: Int) async throws -> Data {
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Data, any Error>) in
                let ready: Result<Data, any Error>? = state.withLockedValue { state in
                    switch state.replies[id] {
                    case .arrived(let data):
                        state.replies[id] = nil
                        return .success(data)
                    case .pending:
                        if let closed = state.closed { return .failure(BrowserError(closed)) }
                        state.replies[id] = .waiting(continuation)
                        return nil
                    case .waiting, nil:
                        return .failure(CancellationError())
                    }
                }
                if let ready { continuation.resume(with: ready) }
            }
        } onCancel: {
            let waiting: CheckedContinuation<Data, any Error>? = state.withLockedValue { state in
                guard case .waiting(let continuation) = state.replies[id] else { return nil }
                state.replies[id] = nil
                return continuation
            }
            waiting?.resume(throwing: CancellationError())
        }
    }

    private func receive(_ inbound: NIOAsyncChannelInboundStream<WebSocketFrame>) async {
        var ending = "the browser closed the DevTools connection"
        do {
            for try await frame in inbound {
                switch frame.opcode {
                case .text, .binary:
                    let data = Data(frame.unmaskedData.readableBytesView)
                    deliver(data)
                case .connectionClose:
                    break
                default:
                    continue
                }
                if frame.opcode == .connectionClose { break }
            }
        } catch {
            ending = "the DevTools connection failed: \(error)"
        }
        let waiting: [CheckedContinuation<Data, any Error>] = state.withLockedValue { state in
            state.closed = ending
            let continuations = state.replies.values.compactMap { reply -> CheckedContinuation<Data, any Error>? in
                if case .waiting(let continuation) = reply { return continuation }
                return nil
            }
            state.replies.removeAll()
            return continuations
        }
        for continuation in waiting { continuation.resume(throwing: BrowserError(ending)) }
    }

    private func deliver(_ data: Data) {
        guard let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else { return }
        if let id = object["id"] as? Int {
            let waiting: CheckedContinuation<Data, any Error>? = state.withLockedValue { state in
                switch state.replies[id] {
                case .waiting(let continuation):
                    state.replies[id] = nil
                    return continuation
                case .pending:
                    state.replies[id] = .arrived(data)
                    return nil
                default:
                    return nil  // given up on (timeout)
                }
            }
            waiting?.resume(returning: data)
            return
        }
        guard let method = object["method"] as? String, let parameters = object["params"] as? [String: Any] else { return }
        if let text = Self.describeProblem(method: method, parameters) {
            state.withLockedValue { $0.pageErrors.append(text) }
        }
    }

    private static func describeProblem(method: String, _ parameters: [String: Any]) -> String? {
        switch method {
        case "Runtime.exceptionThrown":
            let details = parameters["exceptionDetails"] as? [String: Any] ?? [:]
            let exception = details["exception"] as? [String: Any] ?? [:]
            let text = exception["description"] as? String ?? details["text"] as? String ?? "exception"
            return "uncaught: \(text) at \(details["url"] ?? ""):\(details["lineNumber"] ?? "")"
        case "Runtime.consoleAPICalled" where parameters["type"] as? String == "error":
            let arguments = parameters["args"] as? [[String: Any]] ?? []
            return "console.error: " + arguments.map { "\($0["value"] ?? $0["description"] ?? "")" }.joined(separator: " ")
        case "Log.entryAdded":
            let entry = parameters["entry"] as? [String: Any] ?? [:]
            guard entry["level"] as? String == "error" else { return nil }
            return "log: \(entry["text"] ?? "") \(entry["url"] ?? "")"
        default:
            return nil
        }
    }
}
