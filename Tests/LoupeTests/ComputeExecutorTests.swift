import Foundation
import Testing
@testable import Loupe

/// Waits until `condition` holds, polling, for at most `seconds` (generous: under a full parallel test run
/// the cooperative pool can be starved for many seconds; a passing condition returns at once).
func eventually(_ seconds: Double = 120, _ condition: () async throws -> Bool) async rethrows -> Bool {
    let deadline = ContinuousClock.now + .milliseconds(Int(seconds * 1000))
    while ContinuousClock.now < deadline {
        if try await condition() { return true }
        await Task.yield()
        try? await Task.sleep(for: .milliseconds(2))
    }
    return try await condition()
}

/// A gate a job waits at until the test opens it.
final class Gate: @unchecked Sendable {
    private let semaphore = DispatchSemaphore(value: 0)
    func wait() { semaphore.wait() }
    func open() { semaphore.signal() }
}

/// The order jobs started in.
final class StartLog: @unchecked Sendable {
    private let lock = NSLock()
    private var entries: [String] = []
    func append(_ name: String) { lock.withLock { entries.append(name) } }
    var names: [String] { lock.withLock { entries } }
}

@Suite struct ComputeExecutorTests {
    @Test func interactiveWorkOvertakesQueuedBulkWork() async throws {
        let executor = ComputeExecutor(modelSlots: 1, cpuSlots: 1)
        let gate = Gate()
        let log = StartLog()
        let blocker = Task { try await executor.run(.model, lane: .bulk) { log.append("blocker"); gate.wait() } }
        #expect(await eventually { log.names == ["blocker"] })
        var bulk: [Task<Void, Error>] = []
        for index in 0..<3 {
            bulk.append(Task { try await executor.run(.model, lane: .bulk) { log.append("bulk\(index)") } })
            #expect(await eventually { executor.waiting(.model)[.bulk] == index + 1 })
        }
        let query = Task { try await executor.run(.model, lane: .interactive) { log.append("query") } }
        #expect(await eventually { executor.waiting(.model)[.interactive] == 1 })
        gate.open()
        try await blocker.value
        try await query.value
        for task in bulk { try await task.value }
        #expect(log.names == ["blocker", "query", "bulk0", "bulk1", "bulk2"])
    }

    @Test func cancelledWorkThatHasNotStartedNeverRuns() async throws {
        let executor = ComputeExecutor(modelSlots: 1, cpuSlots: 1)
        let gate = Gate()
        let log = StartLog()
        let blocker = Task { try await executor.run(.cpu, lane: .bulk) { log.append("blocker"); gate.wait() } }
        #expect(await eventually { log.names == ["blocker"] })
        let waiting = Task { try await executor.run(.cpu, lane: .bulk) { log.append("cancelled job") } }
        #expect(await eventually { executor.waiting(.cpu)[.bulk] == 1 })
        waiting.cancel()
        await #expect(throws: CancellationError.self) { try await waiting.value }
        #expect(executor.waiting(.cpu)[.bulk] == 0)
        gate.open()
        try await blocker.value
        let after = try await executor.run(.cpu) { 42 }
        #expect(after == 42, "the slot is free again")
        #expect(log.names == ["blocker"])
    }

    @Test func aTaskCancelledBeforeSubmittingGetsCancellationError() async throws {
        let executor = ComputeExecutor()
        let task = Task {
            withUnsafeCurrentTask { $0?.cancel() }
            return try await executor.run(.cpu) { 1 }
        }
        await #expect(throws: CancellationError.self) { try await task.value }
    }

    @Test func errorsFromTheJobReachTheCaller() async throws {
        struct Failure: Error {}
        await #expect(throws: Failure.self) { try await ComputeExecutor().run(.cpu) { throw Failure() } }
    }

    @Test func theLaneComesFromTheTask() async throws {
        #expect(ComputeExecutor.lane == .interactive)
        ComputeExecutor.$lane.withValue(.bulk) { #expect(ComputeExecutor.lane == .bulk) }
    }
}
