import Synchronization
import Testing

/// A trait that gives every test its own scope for test servers: each `TestServer` a test starts is
/// stopped (gracefully, awaited) when the test ends, whether it passed, failed or threw, as Hummingbird's
/// `app.test { }` does. No server outlives its test, and no test needs a `defer { Task { stop } }`.
///
/// ```swift
/// @Suite(.stopsTestServers) struct SafetyTests { ... }
/// ```
struct StopsTestServers: SuiteTrait, TestTrait, TestScoping {
    var isRecursive: Bool { true }

    func provideScope(
        for test: Test, testCase: Test.Case?, performing function: @Sendable () async throws -> Void
    ) async throws {
        guard !test.isSuite else { return try await function() }
        let started = StartedServers()
        do {
            try await StartedServers.$current.withValue(started) { try await function() }
        } catch {
            await started.stopAll()
            throw error
        }
        await started.stopAll()
    }
}

extension Trait where Self == StopsTestServers {
    /// Stops the test servers each test starts when the test ends.
    static var stopsTestServers: Self { Self() }
}

/// The servers started in the current test's scope.
final class StartedServers: Sendable {
    @TaskLocal static var current: StartedServers?
    private let servers = Mutex<[TestServer]>([])

    func add(_ server: TestServer) { servers.withLock { $0.append(server) } }

    /// Stops them, the last started first.
    func stopAll() async {
        let all = servers.withLock { servers in
            defer { servers = [] }
            return servers
        }
        for server in all.reversed() { await server.stop() }
    }
}
