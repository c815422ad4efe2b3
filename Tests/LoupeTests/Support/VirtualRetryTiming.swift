import Foundation
import Logging
import Loupe
import Synchronization

/// Retry timing on a virtual clock: waits advance the clock at once and are recorded, and the random
/// source is a seeded SplitMix64, so retry tests are exact and never sleep.
final class VirtualRetryTiming: Sendable {
    private struct State {
        var now: Duration = .zero
        var sleeps: [Duration] = []
        var draws: [Double] = []
        var random: SplitMix64
    }

    private let state: Mutex<State>

    init(seed: UInt64 = 15) { state = Mutex(State(random: SplitMix64(seed: seed))) }

    /// The waits asked for, in order.
    var sleeps: [Duration] { state.withLock { $0.sleeps } }
    /// The random values handed out, in order.
    var draws: [Double] { state.withLock { $0.draws } }
    var now: Duration { state.withLock { $0.now } }

    var timing: RetryTiming {
        RetryTiming(
            now: { self.state.withLock { $0.now } },
            sleep: { duration in self.state.withLock { $0.now += duration; $0.sleeps.append(duration) } },
            random: {
                self.state.withLock { state in
                    let value = state.random.nextUnit()
                    state.draws.append(value)
                    return value
                }
            })
    }
}

/// A log handler that keeps every line with its metadata, to check what is (and is not) logged.
struct CapturingLogHandler: LogHandler {
    final class Lines: Sendable {
        private let lines = Mutex<[String]>([])
        func append(_ line: String) { lines.withLock { $0.append(line) } }
        var all: [String] { lines.withLock { $0 } }
    }

    let lines: Lines
    var logLevel: Logger.Level = .trace
    var metadata: Logger.Metadata = [:]

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(level: Logger.Level, message: Logger.Message, metadata: Logger.Metadata?, source: String, file: String,
             function: String, line: UInt) {
        let merged = self.metadata.merging(metadata ?? [:]) { $1 }
        lines.append("\(level) \(message) \(merged.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " "))")
    }

    /// A logger writing into a fresh `Lines`.
    static func logger() -> (Logger, Lines) {
        let lines = Lines()
        return (Logger(label: "test.providers") { _ in CapturingLogHandler(lines: lines) }, lines)
    }
}
