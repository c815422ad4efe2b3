import Synchronization
import Testing

/// A trait that stops every `HubTestServer` a test started when the test ends, whether it passed, failed
/// or threw, so no server outlives its test (Hummingbird's `app.test { }` scoping, as a trait).
struct StopsHubServers: SuiteTrait, TestTrait, TestScoping {
    var isRecursive: Bool { true }

    func provideScope(
        for test: Test, testCase: Test.Case?, performing function: @Sendable () async throws -> Void
    ) async throws {
        guard !test.isSuite else { return try await function() }
        let started = StartedHubServers()
        do {
            try await StartedHubServers.$current.withValue(started) { try await function() }
        } catch {
            await started.stopAll()
            throw error
        }
        await started.stopAll()
    }
}

extension Trait where Self == StopsHubServers {
    /// Stops the hub servers each test starts when the test ends.
    static var stopsHubServers: Self { Self() }
}

/// The hub servers started in the current test's scope.
final class StartedHubServers: Sendable {
    @TaskLocal static var current: StartedHubServers?
    private let servers = Mutex<[HubTestServer]>([])

    func add(_ server: HubTestServer) { servers.withLock { $0.append(server) } }

    func stopAll() async {
        let all = servers.withLock { servers in
            defer { servers = [] }
            return servers
        }
        for server in all.reversed() { await server.stop() }
    }
}
