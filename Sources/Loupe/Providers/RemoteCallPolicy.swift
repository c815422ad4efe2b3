import Foundation

/// How calls to a provider are timed and retried.
///
/// Answers 429, 500, 502, 503 and 504, connection failures and attempts that time out are retried with
/// exponential backoff and full jitter: before retry *n* (from 0) the caller waits a uniform random time in
/// `0 ... min(maxBackoff, initialBackoff * multiplier^n)`, or exactly what a `Retry-After` header asks for
/// when the answer has one. Every other 4xx fails at once. No attempt and no wait goes past `deadline`,
/// counted from the first attempt.
public struct RemoteCallPolicy: Sendable {
    /// The longest one attempt may take, sending and receiving included.
    public var timeout: Duration = .seconds(60)
    /// The longest a call may take, attempts and waits included.
    public var deadline: Duration = .seconds(300)
    /// Attempts in all, the first included.
    public var maxAttempts = 6
    public var initialBackoff: Duration = .milliseconds(500)
    public var maxBackoff: Duration = .seconds(30)
    public var multiplier = 2.0
    /// The longest `Retry-After` honoured; a longer one ends the call (the provider asks for more than
    /// we would wait).
    public var maxRetryAfter: Duration = .seconds(120)
    /// The largest answer accepted, in bytes.
    public var maxResponseBytes = 256 << 20

    /// The statuses retried.
    public static let retriedStatuses: Set<Int> = [429, 500, 502, 503, 504]

    public init() {}

    /// The full-jitter wait before retry `retry` (0 for the first retry), with `unit` uniform in [0, 1).
    public func backoff(retry: Int, unit: Double) -> Duration {
        let cap = min(maxBackoff.seconds, initialBackoff.seconds * pow(multiplier, Double(max(0, retry))))
        return .seconds(max(0, cap) * min(max(unit, 0), 1))
    }
}

/// Time, waiting and randomness for retries, injectable so tests run retries without sleeping and with
/// a seeded random source.
public struct RetryTiming: Sendable {
    /// A monotonic clock reading.
    public var now: @Sendable () -> Duration
    /// Waits (or, in tests, advances a virtual clock).
    public var sleep: @Sendable (Duration) async throws -> Void
    /// A uniform value in [0, 1).
    public var random: @Sendable () -> Double

    public init(now: @escaping @Sendable () -> Duration, sleep: @escaping @Sendable (Duration) async throws -> Void,
                random: @escaping @Sendable () -> Double) {
        self.now = now
        self.sleep = sleep
        self.random = random
    }

    /// The real clock, `Task.sleep` and the system's random source.
    public static let system: RetryTiming = {
        let clock = ContinuousClock()
        let origin = clock.now
        return RetryTiming(now: { origin.duration(to: clock.now) }, sleep: { try await Task.sleep(for: $0) },
                           random: { Double.random(in: 0..<1) })
    }()
}

extension Duration {
    /// The duration in seconds, as a Double.
    var seconds: Double {
        let parts = components
        return Double(parts.seconds) + Double(parts.attoseconds) * 1e-18
    }
}
