import Synchronization
import Testing

/// A trait that stops every `ProviderStandIn` a test started when the test ends, whether it passed, failed
/// or threw, so no server outlives its test (Hummingbird's `app.test { }` scoping, as a trait).
struct StopsProviderStandIns: SuiteTrait, TestTrait, TestScoping {
    var isRecursive: Bool { true }

    func provideScope(
        for test: Test, testCase: Test.Case?, performing function: @Sendable () async throws -> Void
    ) async throws {
        guard !test.isSuite else { return try await function() }
        let started = StartedStandIns()
        do {
            try await StartedStandIns.$current.withValue(started) { try await function() }
        } catch {
            await started.stopAll()
            throw error
        }
        await started.stopAll()
    }
}

extension Trait where Self == StopsProviderStandIns {
    /// Stops the provider stand-ins each test starts when the test ends.
    static var stopsProviderStandIns: Self { Self() }
}

/// The provider stand-ins started in the current test's scope.
final class StartedStandIns: Sendable {
    @TaskLocal static var current: StartedStandIns?
    private let servers = Mutex<[ProviderStandIn]>([])

    func add(_ server: ProviderStandIn) { servers.withLock { $0.append(server) } }

    func stopAll() async {
        let all = servers.withLock { servers in
            defer { servers = [] }
            return servers
        }
        for server in all.reversed() { await server.stop() }
    }
}
