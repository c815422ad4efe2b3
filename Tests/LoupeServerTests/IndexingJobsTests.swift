import Foundation
import Logging
import ServiceLifecycle
import Testing
@testable import LoupeServer

/// `IndexingJobs` with work the test controls: each job's work announces itself and then waits until
/// the test opens its gate or its task is cancelled. No HTTP, no model, no sleeps.
@Suite("Indexing jobs: states and cancellation")
struct IndexingJobsTests {
    /// A door work waits at until it is opened or the waiting task is cancelled.
    actor Gate {
        private var isOpen = false
        private var waiters: [UUID: CheckedContinuation<Void, Never>] = [:]

        func open() {
            isOpen = true
            for waiter in waiters.values { waiter.resume() }
            waiters = [:]
        }

        func wait() async {
            let id = UUID()
            await withTaskCancellationHandler {
                await withCheckedContinuation { continuation in
                    if isOpen || Task.isCancelled { continuation.resume() } else { waiters[id] = continuation }
                }
            } onCancel: {
                Task { await self.release(id) }
            }
        }

        private func release(_ id: UUID) { waiters.removeValue(forKey: id)?.resume() }
    }

    /// Work that records which inputs it started on, waits at `gate`, then fails, stops or completes.
    final class ControlledWork: Sendable {
        let gate = Gate()
        let starts: AsyncStream<[String]>
        private let feed: AsyncStream<[String]>.Continuation
        let failing: Bool

        init(failing: Bool = false) {
            (starts, feed) = AsyncStream.makeStream(of: [String].self)
            self.failing = failing
        }

        var work: IndexingJobs.Work {
            { [self] inputs, _ in
                feed.yield(inputs)
                await gate.wait()
                struct Broken: Error, CustomStringConvertible { var description: String { "the disk is on fire" } }
                if failing && !Task.isCancelled { throw Broken() }
                return .init(summary: .init(scanned: 1, unchanged: 0, added: 1, updated: 0, removed: 0, reused: 0,
                                            embedded: 1, moments: 0, seconds: 0),
                             failures: [], stoppedEarly: Task.isCancelled)
            }
        }

        /// Waits for the next job's work to start and returns its inputs.
        func nextStart() async throws -> [String] {
            var iterator = starts.makeAsyncIterator()
            return try #require(await iterator.next(), "no job's work started")
        }
    }

    static var logger: Logger {
        var logger = Logger(label: "loupe.test-jobs")
        logger.logLevel = .critical
        return logger
    }

    /// Runs `body` with jobs doing `work` as a service group; the group is shut down gracefully when the
    /// body returns or throws.
    static func withJobs<T>(
        _ work: ControlledWork, directory: URL? = nil, _ body: (IndexingJobs, ServiceGroup) async throws -> T
    ) async throws -> T {
        let jobs = try IndexingJobs(directory: directory, metrics: ServerMetrics(), logger: logger, work: work.work)
        let group = ServiceGroup(configuration: .init(services: [jobs], logger: logger))
        let runner = Task { try await group.run() }
        do {
            let result = try await body(jobs, group)
            await group.triggerGracefulShutdown()
            try await runner.value
            return result
        } catch {
            await group.triggerGracefulShutdown()
            _ = try? await runner.value
            throw error
        }
    }

    /// The job's record once it reaches a state that satisfies `condition`, within `timeout`.
    static func record(
        of id: String, in jobs: IndexingJobs, timeout: Duration = .seconds(60),
        where condition: @escaping @Sendable (JobState) -> Bool
    ) async throws -> JobRecord {
        let updates = try #require(await jobs.updates(id), "job \(id) is unknown")
        let found = await withTaskGroup(of: JobRecord?.self) { group in
            group.addTask {
                for await record in updates where condition(record.state) { return record }
                return nil
            }
            group.addTask {
                try? await Task.sleep(for: timeout)
                return nil
            }
            let first = await group.next() ?? nil
            group.cancelAll()
            return first
        }
        if let found { return found }
        // The deadline passed first: on a busy machine the watcher may simply not have been scheduled
        // yet, so the state itself decides.
        let last = await jobs.record(id)
        if let last, condition(last.state) { return last }
        return try #require(found, "job \(id) did not reach the state wanted within \(timeout); it is \(String(describing: last?.state))")
    }

    static func temporaryDirectory() -> URL {
        FileManager.default.temporaryDirectory.appendingPathComponent("loupe-jobs-\(UUID().uuidString)")
    }

    @Test("a job runs to done and its record says so")
    func runsToDone() async throws {
        let work = ControlledWork()
        try await Self.withJobs(work) { jobs, _ throws in
            let job = await jobs.submit(["/a"])
            #expect(job.state == .queued)
            #expect(try await work.nextStart() == ["/a"])
            await work.gate.open()
            let done = try await Self.record(of: job.id, in: jobs) { $0.isFinal }
            #expect(done.state == .done)
            #expect(done.report?.added == 1)
            #expect(done.finished != nil && done.started != nil)
        }
    }

    @Test("work that throws ends the job failed, with the error in the record")
    func failure() async throws {
        let work = ControlledWork(failing: true)
        try await Self.withJobs(work) { jobs, _ throws in
            let job = await jobs.submit(["/a"])
            _ = try await work.nextStart()
            await work.gate.open()
            let failed = try await Self.record(of: job.id, in: jobs) { $0.isFinal }
            #expect(failed.state == .failed)
            #expect(failed.error == "the disk is on fire")
        }
    }

    @Test("cancelling a queued job ends it at once, and its work never runs")
    func cancelQueued() async throws {
        let work = ControlledWork()
        try await Self.withJobs(work) { jobs, _ throws in
            let first = await jobs.submit(["/first"])
            let second = await jobs.submit(["/second"])
            #expect(try await work.nextStart() == ["/first"])
            let cancelled = try #require(await jobs.cancel(second.id))
            #expect(cancelled.state == .cancelled)
            await work.gate.open()
            #expect(try await Self.record(of: first.id, in: jobs) { $0.isFinal }.state == .done)
            // A third job runs next: the cancelled one was skipped, not run late.
            let third = await jobs.submit(["/third"])
            #expect(try await work.nextStart() == ["/third"])
            #expect(try await Self.record(of: third.id, in: jobs) { $0.isFinal }.state == .done)
            #expect(await jobs.record(second.id)?.state == .cancelled)
        }
    }

    @Test("cancelling a running job makes it cancelling, then cancelled when its work stops")
    func cancelRunning() async throws {
        let work = ControlledWork()
        try await Self.withJobs(work) { jobs, _ throws in
            let job = await jobs.submit(["/a"])
            _ = try await work.nextStart()
            let cancelling = try #require(await jobs.cancel(job.id))
            #expect(cancelling.state == .cancelling)
            let again = try #require(await jobs.cancel(job.id))
            #expect(again.state == .cancelling, "a second cancel changes nothing")
            let final = try await Self.record(of: job.id, in: jobs) { $0.isFinal }
            #expect(final.state == .cancelled)
        }
    }

    @Test("a cancel between taking a job off the queue and attaching its task still cancels it")
    func cancelBeforeAttach() async throws {
        let board = JobBoard(directory: nil, logger: Self.logger)
        await board.add(JobRecord(id: "job-1", inputs: ["/a"], state: .queued, created: Date()))
        let started = try #require(await board.start())
        #expect(started.state == .running)
        #expect(await board.cancel("job-1")?.state == .cancelling)
        let gate = Gate()
        let task = Task { await gate.wait() }
        let cancelledAtOnce = await board.attach(task, to: "job-1")
        #expect(cancelledAtOnce, "the attached task must be cancelled at once")
        if cancelledAtOnce {
            await task.value  // returns only because the task was cancelled: the gate stays shut
            #expect(task.isCancelled)
        }
        let final = await board.finish("job-1", .stopped) { _ in }
        #expect(final?.state == .cancelled)
        #expect(await board.start() == nil, "nothing is left to run")
    }

    @Test("cancelling a finished job changes nothing", arguments: [false, true])
    func cancelFinished(failing: Bool) async throws {
        let work = ControlledWork(failing: failing)
        try await Self.withJobs(work) { jobs, _ throws in
            let job = await jobs.submit(["/a"])
            _ = try await work.nextStart()
            await work.gate.open()
            let final = try await Self.record(of: job.id, in: jobs) { $0.isFinal }
            let after = try #require(await jobs.cancel(job.id))
            #expect(after.state == final.state)
            #expect(after.finished == final.finished)
        }
    }

    @Test("a shutdown interrupts the running and the queued jobs; the next start resumes both")
    func shutdownAndResume() async throws {
        let directory = Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let firstWork = ControlledWork()
        let ids = try await Self.withJobs(firstWork, directory: directory) { jobs, group throws in
            let running = await jobs.submit(["/running"])
            let queued = await jobs.submit(["/queued"])
            _ = try await firstWork.nextStart()
            await group.triggerGracefulShutdown()
            #expect(try await Self.record(of: running.id, in: jobs) { $0 == .interrupted }.finished == nil)
            return [running.id, queued.id]
        }
        for id in ids {
            let record = try JSONDecoder.iso8601.decode(
                JobRecord.self, from: Data(contentsOf: directory.appendingPathComponent("\(id).json")))
            #expect(record.state == .interrupted, "\(id) on disk")
        }

        let secondWork = ControlledWork()
        try await Self.withJobs(secondWork, directory: directory) { jobs, _ throws in
            let first = try await secondWork.nextStart()
            await secondWork.gate.open()
            let second = try await secondWork.nextStart()
            #expect(Set([first, second]) == [["/running"], ["/queued"]])
            for id in ids { #expect(try await Self.record(of: id, in: jobs) { $0.isFinal }.state == .done) }
        }
    }

    @Test("cancelling an interrupted job keeps it from resuming")
    func cancelInterrupted() async throws {
        let directory = Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let board = JobBoard(directory: directory, logger: Self.logger)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        await board.add(JobRecord(id: "job-i", inputs: ["/a"], state: .queued, created: Date()))
        await board.beginShutdown()
        await board.interruptQueued()
        #expect(await board.record("job-i")?.state == .interrupted)
        #expect(await board.cancel("job-i")?.state == .cancelled)

        let work = ControlledWork()
        try await Self.withJobs(work, directory: directory) { jobs, _ throws in
            // The only job to run is a new one (records on disk are read before any job starts).
            let fresh = await jobs.submit(["/fresh"])
            #expect(try await work.nextStart() == ["/fresh"])
            #expect(await jobs.record("job-i")?.state == .cancelled)
            await work.gate.open()
            #expect(try await Self.record(of: fresh.id, in: jobs) { $0.isFinal }.state == .done)
        }
    }

    @Test("a record left cancelling by a crash reads back as cancelled, one left running is resumed")
    func recordsAfterCrash() async throws {
        let directory = Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .iso8601
        for (id, state) in [("job-c", JobState.cancelling), ("job-r", .running), ("job-d", .done)] {
            let record = JobRecord(id: id, inputs: ["/\(id)"], state: state, created: Date())
            try encoder.encode(record).write(to: directory.appendingPathComponent("\(id).json"))
        }
        let work = ControlledWork()
        try await Self.withJobs(work, directory: directory) { jobs, _ throws in
            #expect(try await work.nextStart() == ["/job-r"])
            #expect(await jobs.record("job-c")?.state == .cancelled)
            #expect(await jobs.record("job-d")?.state == .done)
            await work.gate.open()
            #expect(try await Self.record(of: "job-r", in: jobs) { $0.isFinal }.state == .done)
        }
    }
}

extension JSONDecoder {
    static var iso8601: JSONDecoder {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        return decoder
    }
}
