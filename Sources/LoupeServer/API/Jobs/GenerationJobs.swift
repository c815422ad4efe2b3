import Foundation
import Logging
import Loupe
import ServiceLifecycle

/// Runs image generation jobs (`POST /api/generate`) one at a time, beside the indexing jobs so that a
/// long indexing run does not hold them up, with the same states, cancel and progress as `IndexingJobs`.
///
/// Records are kept in memory only: a generation is not sent to the provider again after a restart
/// (that would be paid twice); the pictures it saved stay in the output folder with their sidecars.
final class GenerationJobs: Service, Sendable {
    /// The steps of a generation, in order.
    enum Stage: String, Sendable, CaseIterable {
        case retrieving, generating, saving

        var summary: String {
            switch self {
            case .retrieving: "Gathering the reference pictures"
            case .generating: "Waiting for the image model"
            case .saving: "Saving the pictures"
            }
        }
    }

    /// What a job does with its request: generate, reporting each step, and return the request filled in
    /// with what it made.
    typealias Work = @Sendable (_ request: JobRecord.Generation, _ stage: @escaping @Sendable (Stage) async -> Void)
        async throws -> JobRecord.Generation

    let board: JobBoard
    private let work: Work
    private let logger: Logger

    /// Jobs doing `work` (the server passes `LoupeServer.generationWork`; tests may pass work they control).
    init(logger: Logger, work: @escaping Work) {
        self.work = work
        self.logger = logger
        board = JobBoard(directory: nil, logger: logger)
    }

    /// Queues a job generating `request`, or returns nil when `limit` jobs are already queued or running.
    func submit(_ request: JobRecord.Generation, limit: Int = .max) async -> JobRecord? {
        var record = JobRecord(id: Self.makeID(), kind: .generate, inputs: [], state: .queued, created: Date())
        record.generation = request
        record.stepsDone = 0
        record.stepsTotal = Stage.allCases.count
        return await board.add(record, activeBelow: limit) ? record : nil
    }

    func record(_ id: String) async -> JobRecord? { await board.record(id) }
    func all() async -> [JobRecord] { await board.all() }
    func cancel(_ id: String) async -> JobRecord? { await board.cancel(id) }

    /// The job's record now and after every change, ending when the job ends.
    func updates(_ id: String) async -> AsyncStream<JobRecord>? {
        let (stream, continuation) = AsyncStream.makeStream(of: JobRecord.self, bufferingPolicy: .bufferingNewest(16))
        guard await board.record(id) != nil else { return nil }
        if let key = await board.watch(id, continuation) {
            let board = board
            continuation.onTermination = { _ in Task { await board.unwatch(id, key) } }
        }
        return stream
    }

    // MARK: Service

    func run() async throws {
        let (wakeUps, continuation) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        await board.setWakeUp(continuation)
        let board = board
        await withGracefulShutdownHandler {
            for await _ in wakeUps {
                while let record = await board.start() { await self.runJob(record) }
            }
        } onGracefulShutdown: {
            Task { await board.beginShutdown() }
        }
        await board.interruptQueued()
    }

    private func runJob(_ record: JobRecord) async {
        let id = record.id
        guard let request = record.generation else {
            _ = await board.finish(id, .failed) { $0.error = "the job has no generation request" }
            return
        }
        logger.info("generation started", metadata: ["job": .string(id), "model": .string(request.model)])
        let work = work, board = board
        let task = Task {
            guard !Task.isCancelled else {
                _ = await board.finish(id, .stopped) { _ in }
                return
            }
            do {
                let result = try await work(request) { stage in
                    await board.progress(id) { job in
                        job.stage = stage.rawValue
                        job.stepsDone = Stage.allCases.firstIndex(of: stage) ?? 0
                        job.current = stage.summary
                    }
                }
                _ = await board.finish(id, .completed) { job in
                    job.generation = result
                    job.stage = nil
                    job.stepsDone = Stage.allCases.count
                }
            } catch {
                // A cancelled call to the provider may surface as its own error: the cancel decides.
                let outcome: JobState.Outcome = error is CancellationError || Task.isCancelled ? .stopped : .failed
                let message = "\(error)"
                _ = await board.finish(id, outcome) { job in
                    if outcome == .failed { job.error = message }
                }
            }
        }
        await board.attach(task, to: id)
        await task.value
        if let final = await board.record(id) {
            logger.info("generation ended", metadata: ["job": .string(id), "state": .string(final.state.rawValue)])
        }
    }

    private static func makeID() -> String {
        let stamp = String(Int(Date().timeIntervalSince1970), radix: 36)
        let random = String(UInt32.random(in: 0...UInt32.max), radix: 36)
        return "gen-\(stamp)-\(random)"
    }
}
