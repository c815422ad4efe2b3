import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import NIOHTTP1

/// Sends requests to one cloud provider with `RemoteCallPolicy`'s timeouts, retries and deadline, logs
/// each attempt (request ids and latency, never the key) and counts them in `ProviderMetrics`.
///
/// The base URL is configuration (a proxy, a regional endpoint, a stand-in in tests), so it is not held to
/// the private-address check that guards URLs users hand to the server.
///
/// ```swift
/// let client = ProviderClient(provider: "Jina", baseURL: URL(string: "https://api.jina.ai")!,
///                             credential: ProviderCredential(header: "Authorization", key: key, prefix: "Bearer "))
/// let answer = try await client.send(.init(method: .POST, path: "/v1/embeddings", json: body, operation: "embed"))
/// ```
public struct ProviderClient: Sendable {
    /// One request, relative to the base URL.
    public struct Request: Sendable {
        public var method: HTTPMethod
        /// The path (and query) after the base URL, starting with "/".
        public var path: String
        public var headers: [(String, String)]
        public var body: Data?
        /// A short name for logs and metrics ("embed", "generate", "poll").
        public var operation: String

        public init(method: HTTPMethod, path: String, headers: [(String, String)] = [], body: Data? = nil,
                    operation: String) {
            self.method = method
            self.path = path
            self.headers = headers
            self.body = body
            self.operation = operation
        }

        /// A request with a JSON body.
        public init(method: HTTPMethod = .POST, path: String, json: Any, operation: String) throws {
            let body = try JSONSerialization.data(withJSONObject: json)
            self.init(method: method, path: path, headers: [("Content-Type", "application/json")], body: body,
                      operation: operation)
        }
    }

    /// A successful (2xx) answer.
    public struct Response: Sendable {
        public var status: Int
        public var headers: HTTPHeaders
        public var body: Data
        /// The provider's request id when it sent one, else the id Loupe sent.
        public var requestID: String
        /// Attempts it took.
        public var attempts: Int

        /// The body as a JSON object.
        public func jsonObject(provider: String) throws -> [String: Any] {
            guard let object = try? JSONSerialization.jsonObject(with: body) as? [String: Any] else {
                throw ProviderError(.badResponse, provider: provider, status: status,
                                    message: "the answer is not a JSON object", requestID: requestID)
            }
            return object
        }
    }

    public var provider: String
    public var baseURL: URL
    public var credential: ProviderCredential?
    public var policy: RemoteCallPolicy
    public var timing: RetryTiming
    public var metrics: ProviderMetrics?
    public var logger: Logger

    public init(provider: String, baseURL: URL, credential: ProviderCredential?, policy: RemoteCallPolicy = RemoteCallPolicy(),
                timing: RetryTiming = .system, metrics: ProviderMetrics? = .shared,
                logger: Logger = Logger(label: "loupe.providers")) {
        self.provider = provider
        self.baseURL = baseURL
        self.credential = credential
        self.policy = policy
        self.timing = timing
        self.metrics = metrics
        self.logger = logger
    }

    /// The answer to `request`, retried as the policy says.
    /// - Throws: `ProviderError`: `.rejected` for a 4xx other than 429 (with the API's message),
    ///   `.unavailable` when 429/5xx answers outlast the attempts or the deadline, `.unreachable` when
    ///   connections fail or time out to the end; `CancellationError` when the task is cancelled.
    public func send(_ request: Request) async throws -> Response {
        let started = timing.now()
        let localID = Self.requestID()
        var attempt = 0
        while true {
            attempt += 1
            try Task.checkCancellation()
            let elapsed = timing.now() - started
            let remaining = policy.deadline - elapsed
            let outcome = await attemptOnce(request, timeout: min(policy.timeout, remaining), localID: localID)
            let failure: (status: Int?, statusLabel: String, message: String, retryAfter: Duration?, requestID: String?)
            switch outcome {
            case .answer(let status, let headers, let body, let latency):
                let providerID = Self.providerRequestID(headers)
                let requestID = providerID ?? localID
                metrics?.recordAttempt(provider: provider, operation: request.operation, status: String(status), latency: latency)
                logger.debug("provider call", metadata: [
                    "provider": "\(provider)", "operation": "\(request.operation)", "status": "\(status)",
                    "attempt": "\(attempt)", "latency_ms": "\(Int((latency.seconds * 1000).rounded()))",
                    "request_id": "\(localID)", "provider_request_id": "\(providerID ?? "-")",
                ])
                if (200..<300).contains(status) {
                    return Response(status: status, headers: headers, body: body, requestID: requestID, attempts: attempt)
                }
                let message = scrub(Self.apiMessage(body, status: status))
                guard RemoteCallPolicy.retriedStatuses.contains(status) else {
                    throw ProviderError(.rejected, provider: provider, status: status, message: message,
                                        requestID: providerID, attempts: attempt)
                }
                failure = (status, String(status), message, Self.retryAfter(headers), providerID)
            case .timedOut(let latency):
                metrics?.recordAttempt(provider: provider, operation: request.operation, status: "timeout", latency: latency)
                failure = (nil, "timeout", "no answer within \(Self.format(min(policy.timeout, remaining)))", nil, nil)
            case .connectionFailed(let description, let latency):
                metrics?.recordAttempt(provider: provider, operation: request.operation, status: "connection", latency: latency)
                failure = (nil, "connection", scrub("cannot reach \(baseURL.absoluteString): \(description)"), nil, nil)
            }
            let code: ProviderError.Code = failure.status == nil ? .unreachable : .unavailable
            func giveUp(_ why: String) -> ProviderError {
                ProviderError(code, provider: provider, status: failure.status, message: failure.message + why,
                              requestID: failure.requestID, attempts: attempt)
            }
            guard attempt < policy.maxAttempts else { throw giveUp("") }
            let wait: Duration
            if let asked = failure.retryAfter {
                guard asked <= policy.maxRetryAfter else {
                    throw giveUp("; it asks to retry after \(Self.format(asked)), more than the \(Self.format(policy.maxRetryAfter)) allowed")
                }
                wait = asked
            } else {
                wait = policy.backoff(retry: attempt - 1, unit: timing.random())
            }
            let spent = timing.now() - started
            guard spent + wait < policy.deadline else {
                throw giveUp("; the deadline of \(Self.format(policy.deadline)) leaves no time for another attempt")
            }
            metrics?.recordRetry(provider: provider, operation: request.operation, status: failure.statusLabel)
            logger.notice("provider call retried", metadata: [
                "provider": "\(provider)", "operation": "\(request.operation)", "outcome": "\(failure.statusLabel)",
                "attempt": "\(attempt)", "retry_in_ms": "\(Int((wait.seconds * 1000).rounded()))",
                "request_id": "\(localID)",
            ])
            try await timing.sleep(wait)
        }
    }

    private enum Outcome {
        case answer(status: Int, headers: HTTPHeaders, body: Data, latency: Duration)
        case timedOut(latency: Duration)
        case connectionFailed(String, latency: Duration)
    }

    private func attemptOnce(_ request: Request, timeout: Duration, localID: String) async -> Outcome {
        let clock = ContinuousClock()
        let began = clock.now
        let url = baseURL.absoluteString.hasSuffix("/") && request.path.hasPrefix("/")
            ? String(baseURL.absoluteString.dropLast()) + request.path : baseURL.absoluteString + request.path
        var http = HTTPClientRequest(url: url)
        http.method = request.method
        http.headers.add(name: "User-Agent", value: "loupe/0.1")
        http.headers.add(name: "X-Request-Id", value: localID)
        if let credential { http.headers.add(name: credential.header, value: credential.value) }
        for (name, value) in request.headers { http.headers.add(name: name, value: value) }
        if let body = request.body { http.body = .bytes(ByteBuffer(bytes: body)) }
        let deadline = NIODeadline.now() + TimeAmount(timeout)
        do {
            let response = try await Self.http.execute(http, deadline: deadline)
            let buffer = try await response.body.collect(upTo: policy.maxResponseBytes)
            return .answer(status: Int(response.status.code), headers: response.headers, body: Data(buffer.readableBytesView),
                           latency: began.duration(to: clock.now))
        } catch let error as HTTPClientError
            where error == .deadlineExceeded || error == .readTimeout || error == .connectTimeout || error == .writeTimeout
        {
            return .timedOut(latency: began.duration(to: clock.now))
        } catch {
            // AsyncHTTPClient retries refused connections until the deadline and then reports the last
            // connection error: that is a connection failure, not a slow provider.
            return .connectionFailed("\(error)", latency: began.duration(to: clock.now))
        }
    }

    private func scrub(_ text: String) -> String { credential?.scrub(text) ?? text }

    /// One client for every provider, never shut down (it lives as long as the process). It does not
    /// retry failed connections itself (AsyncHTTPClient's default would keep trying until the attempt's
    /// deadline): a refused or unresolvable host fails the attempt at once and `send`'s backoff decides.
    static let http: HTTPClient = {
        var configuration = HTTPClient.Configuration.singletonConfiguration
        configuration.connectionPool.retryConnectionEstablishment = false
        configuration.timeout.connect = .seconds(10)
        return HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }()

    /// A fresh id for one call (all its attempts), sent as `X-Request-Id` and logged.
    static func requestID() -> String {
        "loupe-" + String(UInt64.random(in: 0...UInt64.max), radix: 16)
    }

    /// The id the provider gave its answer, when it sent one.
    static func providerRequestID(_ headers: HTTPHeaders) -> String? {
        for name in ["x-request-id", "request-id", "x-goog-request-id", "x-amzn-requestid", "cf-ray"] {
            if let value = headers.first(name: name), !value.isEmpty { return value }
        }
        return nil
    }

    /// The wait a `Retry-After` header asks for: delta-seconds or an HTTP date.
    static func retryAfter(_ headers: HTTPHeaders, now: Date = Date()) -> Duration? {
        guard let value = headers.first(name: "retry-after")?.trimmingCharacters(in: .whitespaces) else { return nil }
        if let seconds = Double(value), seconds.isFinite, seconds >= 0 { return .seconds(seconds) }
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss zzz"
        guard let date = formatter.date(from: value) else { return nil }
        return .seconds(max(0, date.timeIntervalSince(now)))
    }

    /// The API's own message in an error body: Gemini's `error.message`, Jina's `detail`, Twelve Labs'
    /// `message`, else the start of the body.
    static func apiMessage(_ body: Data, status: Int) -> String {
        if let object = try? JSONSerialization.jsonObject(with: body) as? [String: Any] {
            if let error = object["error"] as? [String: Any], let message = error["message"] as? String { return message }
            if let message = object["error"] as? String { return message }
            if let detail = object["detail"] as? String { return detail }
            if let details = object["detail"] as? [[String: Any]] {
                let messages = details.compactMap { $0["msg"] as? String }
                if !messages.isEmpty { return messages.joined(separator: "; ") }
            }
            if let message = object["message"] as? String { return message }
        }
        let text = String(decoding: body.prefix(300), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        return text.isEmpty ? HTTPResponseStatus(statusCode: status).reasonPhrase : text
    }

    static func format(_ duration: Duration) -> String {
        let seconds = duration.seconds
        return seconds < 1 ? "\(Int((seconds * 1000).rounded())) ms" : String(format: "%.1f s", seconds)
    }
}
