import Foundation
import Synchronization

/// Counts of provider calls, retries and their latency, rendered in Prometheus's text format (the server
/// appends them to `/metrics`). Labels are the provider, the operation and the status class, never a key
/// or an input.
public final class ProviderMetrics: Sendable {
    /// The metrics every provider client records into unless configured otherwise.
    public static let shared = ProviderMetrics()

    private struct Key: Hashable, Comparable {
        var provider: String
        var operation: String
        var status: String
        static func < (a: Key, b: Key) -> Bool {
            (a.provider, a.operation, a.status) < (b.provider, b.operation, b.status)
        }
    }

    private struct State {
        var attempts: [Key: Int] = [:]
        var retries: [Key: Int] = [:]
        var latencySum: [Key: Double] = [:]
    }

    private let state = Mutex(State())

    public init() {}

    /// One attempt that ended with `status` ("200", "429", "timeout", "connection").
    func recordAttempt(provider: String, operation: String, status: String, latency: Duration) {
        let key = Key(provider: provider, operation: operation, status: status)
        state.withLock {
            $0.attempts[key, default: 0] += 1
            $0.latencySum[key, default: 0] += latency.seconds
        }
    }

    /// A retry scheduled after an attempt that ended with `status`.
    func recordRetry(provider: String, operation: String, status: String) {
        state.withLock { $0.retries[Key(provider: provider, operation: operation, status: status), default: 0] += 1 }
    }

    /// Attempts so far for `provider` (all operations and statuses).
    public func attempts(provider: String) -> Int {
        state.withLock { $0.attempts.filter { $0.key.provider == provider }.values.reduce(0, +) }
    }

    /// The metrics in Prometheus's text exposition format.
    public func render() -> String {
        let snapshot = state.withLock { $0 }
        func labels(_ key: Key) -> String {
            "provider=\"\(key.provider)\",operation=\"\(key.operation)\",status=\"\(key.status)\""
        }
        var text = "# HELP loupe_provider_requests_total Attempts of calls to cloud providers, by outcome\n"
        text += "# TYPE loupe_provider_requests_total counter\n"
        for (key, count) in snapshot.attempts.sorted(by: { $0.key < $1.key }) {
            text += "loupe_provider_requests_total{\(labels(key))} \(count)\n"
        }
        text += "# HELP loupe_provider_request_seconds_sum Seconds spent in attempts of calls to cloud providers\n"
        text += "# TYPE loupe_provider_request_seconds_sum counter\n"
        for (key, sum) in snapshot.latencySum.sorted(by: { $0.key < $1.key }) {
            text += "loupe_provider_request_seconds_sum{\(labels(key))} \(sum)\n"
        }
        text += "# HELP loupe_provider_retries_total Retries of calls to cloud providers, by the outcome retried\n"
        text += "# TYPE loupe_provider_retries_total counter\n"
        for (key, count) in snapshot.retries.sorted(by: { $0.key < $1.key }) {
            text += "loupe_provider_retries_total{\(labels(key))} \(count)\n"
        }
        return text
    }
}
