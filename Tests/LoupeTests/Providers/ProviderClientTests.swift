import Foundation
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import LoupeTestSupport
import Testing
@testable import Loupe

@Suite(.stopsProviderStandIns)
struct ProviderClientTests {
    static let key = "sk-test-7f3a9c0e5b1d"

    func client(_ base: URL, timing: VirtualRetryTiming, policy: RemoteCallPolicy = RemoteCallPolicy(),
                logger: Logger = Logger(label: "test")) -> ProviderClient {
        ProviderClient(provider: "Jina", baseURL: base,
                       credential: ProviderCredential(header: "Authorization", key: Self.key, prefix: "Bearer "),
                       policy: policy, timing: timing.timing, metrics: ProviderMetrics(), logger: logger)
    }

    static let request = ProviderClient.Request(method: .POST, path: "/v1/embeddings", body: Data("{}".utf8), operation: "embed")

    @Test func a429WithRetryAfterWaitsWhatItAsksThenSucceeds() async throws {
        let standIn = ProviderStandIn { _, number in
            number == 0
                ? .json(["detail": "rate limited"], status: .tooManyRequests, headers: [("Retry-After", "7")])
                : .json(["ok": true], headers: [("x-request-id", "req-42")])
        }
        let timing = VirtualRetryTiming()
        let response = try await client(try await standIn.start(), timing: timing).send(Self.request)
        #expect(response.status == 200)
        #expect(response.attempts == 2)
        #expect(response.requestID == "req-42")
        #expect(timing.sleeps == [.seconds(7)], "Retry-After: 7 must be waited exactly, not jittered")
        #expect(timing.draws.isEmpty, "no jitter is drawn when the provider says how long to wait")
        #expect(standIn.requests.count == 2)
        #expect(standIn.requests.allSatisfy { $0.header("authorization") == "Bearer \(Self.key)" })
        #expect(Set(standIn.requests.compactMap { $0.header("x-request-id") }).count == 1,
                "every attempt of one call carries the same request id")
    }

    @Test func a503IsRetriedWithFullJitterBackoff() async throws {
        let standIn = ProviderStandIn { _, number in
            number < 3 ? .json(["detail": "overloaded"], status: .serviceUnavailable) : .json(["ok": true])
        }
        let timing = VirtualRetryTiming(seed: 99)
        var policy = RemoteCallPolicy()
        policy.initialBackoff = .seconds(1)
        policy.multiplier = 2
        let response = try await client(try await standIn.start(), timing: timing, policy: policy).send(Self.request)
        #expect(response.attempts == 4)
        let draws = timing.draws
        #expect(draws.count == 3)
        // Retry n waits unit × min(maxBackoff, 1 s × 2^n): the caps are 1, 2 and 4 s.
        #expect(timing.sleeps == draws.enumerated().map { policy.backoff(retry: $0.offset, unit: $0.element) })
        for (retry, sleep) in timing.sleeps.enumerated() {
            #expect(sleep >= .zero && sleep <= .seconds(1 << retry), "retry \(retry) waited \(sleep)")
        }
        // The same seed gives the same waits: retries are reproducible.
        let again = VirtualRetryTiming(seed: 99)
        let standIn2 = ProviderStandIn { _, number in
            number < 3 ? .json(["detail": "overloaded"], status: .serviceUnavailable) : .json(["ok": true])
        }
        _ = try await client(try await standIn2.start(), timing: again, policy: policy).send(Self.request)
        #expect(again.sleeps == timing.sleeps)
    }

    @Test(arguments: [401, 403])
    func aBadKeyIsNotRetriedAndNamesProviderStatusAndMessage(status: Int) async throws {
        let standIn = ProviderStandIn { _, _ in
            // Some APIs quote the key they were given; Loupe must still not repeat it.
            .json(["detail": "Invalid API key \(Self.key) provided"], status: HTTPResponseStatus(statusCode: status))
        }
        let (logger, lines) = CapturingLogHandler.logger()
        let timing = VirtualRetryTiming()
        do {
            _ = try await client(try await standIn.start(), timing: timing, logger: logger).send(Self.request)
            Issue.record("a \(status) must fail")
        } catch let error as ProviderError {
            #expect(error.code == .rejected)
            #expect(error.status == status)
            let text = "\(error)"
            #expect(text.contains("Jina") && text.contains("HTTP \(status)") && text.contains("Invalid API key"), "\(text)")
            #expect(!text.contains(Self.key), "the key leaked into the error: \(text)")
        }
        #expect(standIn.requests.count == 1, "a \(status) must not be retried")
        #expect(timing.sleeps.isEmpty)
        #expect(!lines.all.isEmpty, "each attempt is logged")
        #expect(lines.all.allSatisfy { !$0.contains(Self.key) }, "the key leaked into the logs: \(lines.all)")
        #expect(lines.all.allSatisfy { $0.contains("latency_ms=") && $0.contains("request_id=loupe-") })
    }

    @Test func aHungProviderTimesOutEachAttempt() async throws {
        let standIn = ProviderStandIn { _, _ in ProviderStandIn.Reply(status: .ok, hang: true) }
        var policy = RemoteCallPolicy()
        policy.timeout = .milliseconds(300)
        policy.maxAttempts = 2
        let timing = VirtualRetryTiming()
        do {
            _ = try await client(try await standIn.start(), timing: timing, policy: policy).send(Self.request)
            Issue.record("a hung provider must time out")
        } catch let error as ProviderError {
            #expect(error.code == .unreachable)
            #expect(error.attempts == 2)
            #expect("\(error)".contains("no answer within 300 ms"), "\(error)")
        }
        #expect(standIn.requests.count == 2, "a timeout is retried")
        #expect(timing.sleeps.count == 1)
    }

    @Test func retriesStopAtTheDeadline() async throws {
        let standIn = ProviderStandIn { _, _ in .json(["error": ["message": "backend unavailable"]], status: .badGateway) }
        var policy = RemoteCallPolicy()
        policy.maxAttempts = 100
        policy.initialBackoff = .seconds(2)
        policy.maxBackoff = .seconds(8)
        policy.deadline = .seconds(30)
        let timing = VirtualRetryTiming(seed: 7)
        do {
            _ = try await client(try await standIn.start(), timing: timing, policy: policy).send(Self.request)
            Issue.record("a provider that always fails must end at the deadline")
        } catch let error as ProviderError {
            #expect(error.code == .unavailable)
            #expect(error.status == 502)
            let text = "\(error)"
            #expect(text.contains("backend unavailable") && text.contains("deadline of 30.0 s"), "\(text)")
        }
        let waited = timing.sleeps.reduce(Duration.zero, +)
        #expect(waited < .seconds(30), "waited \(waited), past the deadline")
        #expect(standIn.requests.count == timing.sleeps.count + 1)
        #expect(standIn.requests.count >= 4 && standIn.requests.count < 100, "\(standIn.requests.count) attempts")
    }

    @Test func aRetryAfterLongerThanAllowedEndsTheCall() async throws {
        let standIn = ProviderStandIn { _, _ in
            .json(["message": "quota exhausted"], status: .tooManyRequests, headers: [("Retry-After", "3600")])
        }
        let timing = VirtualRetryTiming()
        do {
            _ = try await client(try await standIn.start(), timing: timing).send(Self.request)
            Issue.record("a one-hour Retry-After must not be waited")
        } catch let error as ProviderError {
            #expect(error.code == .unavailable && error.status == 429)
            #expect("\(error)".contains("quota exhausted"))
        }
        #expect(timing.sleeps.isEmpty)
    }

    @Test func connectionFailuresAreRetriedThenReported() async throws {
        // A port that was bound and closed: connections are refused.
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton).bind(host: "127.0.0.1", port: 0).get()
        let port = channel.localAddress!.port!
        try await channel.close()
        var policy = RemoteCallPolicy()
        policy.maxAttempts = 3
        // Long attempts: a refused connection must fail the attempt at once, not wait out its timeout. The
        // bound below is one attempt's timeout, so it says exactly that, however loaded the machine is (a
        // tighter wall-clock bound failed on a busy machine: 12 s for three refused connections).
        policy.timeout = .seconds(120)
        let timing = VirtualRetryTiming()
        let started = ContinuousClock.now
        do {
            _ = try await client(URL(string: "http://127.0.0.1:\(port)")!, timing: timing, policy: policy).send(Self.request)
            Issue.record("a closed port must fail")
        } catch let error as ProviderError {
            #expect(error.code == .unreachable)
            #expect(error.attempts == 3)
            #expect("\(error)".contains("cannot reach http://127.0.0.1:\(port)"), "\(error)")
            #expect(!"\(error)".contains(Self.key))
        }
        #expect(timing.sleeps.count == 2)
        #expect(ContinuousClock.now - started < policy.timeout, "refused connections waited for the attempt timeout")
    }

    @Test func metricsCountAttemptsAndRetries() async throws {
        let standIn = ProviderStandIn { _, number in
            number == 0 ? .json([:], status: .internalServerError) : .json(["ok": true])
        }
        let metrics = ProviderMetrics()
        var client = client(try await standIn.start(), timing: VirtualRetryTiming())
        client.metrics = metrics
        _ = try await client.send(Self.request)
        let text = metrics.render()
        #expect(text.contains(#"loupe_provider_requests_total{provider="Jina",operation="embed",status="500"} 1"#), "\(text)")
        #expect(text.contains(#"loupe_provider_requests_total{provider="Jina",operation="embed",status="200"} 1"#))
        #expect(text.contains(#"loupe_provider_retries_total{provider="Jina",operation="embed",status="500"} 1"#))
        #expect(metrics.attempts(provider: "Jina") == 2)
    }

    @Test func retryAfterAcceptsAnHTTPDate() {
        let now = Date(timeIntervalSince1970: 1_700_000_000)
        let headers = HTTPHeaders([("Retry-After", "Tue, 14 Nov 2023 22:13:40 GMT")])
        #expect(ProviderClient.retryAfter(headers, now: now) == .seconds(20))
        #expect(ProviderClient.retryAfter(HTTPHeaders([("Retry-After", "soon")])) == nil)
    }

    @Test func credentialsComeFromTheFlagOrTheEnvironmentAndNeverPrint() throws {
        let fromEnvironment = try ProviderCredential.resolve(
            provider: "Gemini", flag: nil, variables: ["GEMINI_API_KEY", "GOOGLE_API_KEY"], header: "x-goog-api-key",
            environment: ["GOOGLE_API_KEY": Self.key])
        #expect(fromEnvironment.value == Self.key)
        #expect(!"\(fromEnvironment)".contains(Self.key) && !String(reflecting: fromEnvironment).contains(Self.key))
        let fromFlag = try ProviderCredential.resolve(provider: "Gemini", flag: "flag-key", variables: ["GEMINI_API_KEY"],
                                                      header: "x-goog-api-key", environment: ["GEMINI_API_KEY": Self.key])
        #expect(fromFlag.value == "flag-key")
        #expect(throws: ProviderError.self) {
            try ProviderCredential.resolve(provider: "Gemini", flag: nil, variables: ["GEMINI_API_KEY"], header: "x", environment: [:])
        }
    }
}
