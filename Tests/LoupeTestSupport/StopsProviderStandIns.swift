import Synchronization
import Testing

/// A trait that stops every `ProviderStandIn` a test started when the test ends, whether it passed, failed
/// or threw, so no server outlives its test (Hummingbird's `app.test { }` scoping, as a trait).
public struct StopsProviderStandIns: SuiteTrait, TestTrait, TestScoping {
    public init() {}

    public var isRecursive: Bool { true }

    public func provideScope(
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
    public static var stopsProviderStandIns: Self { Self() }
}

/// The provider stand-ins started in the current test's scope.
public final class StartedStandIns: Sendable {
    @TaskLocal public static var current: StartedStandIns?
    private let servers = Mutex<[ProviderStandIn]>([])

    public func add(_ server: ProviderStandIn) { servers.withLock { $0.append(server) } }

    public func stopAll() async {
        let all = servers.withLock { servers in
            defer { servers = [] }
            return servers
        }
        for server in all.reversed() { await server.stop() }
    }
}
