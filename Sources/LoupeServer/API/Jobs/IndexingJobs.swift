import Foundation
import Logging
import Loupe
import ServiceLifecycle

/// Runs indexing jobs one at a time (they share the embedder), keeps their records on disk so that jobs
/// a shutdown interrupted resume at the next start, and lets clients follow progress.
///
/// As a `Service` it runs beside the HTTP server: on graceful shutdown it stops the running job at a batch
/// boundary (everything stored so far stays) and marks it `interrupted`. States and their transitions are
/// `JobState`'s; `JobBoard` applies them.
final class IndexingJobs: Service, Sendable {
    /// What a job does with its inputs: index them, reporting progress, and say how it ended.
    typealias Work = @Sendable (_ inputs: [String], _ progress: @escaping @Sendable (IngestProgress) -> Void)
        async throws -> WorkResult

    /// The end of a job's work.
    struct WorkResult: Sendable {
        var summary: JobRecord.Summary
        var failures: [JobRecord.Failure]
        /// Whether the work stopped early because its task was cancelled.
        var stoppedEarly: Bool
    }

    let board: JobBoard
    private let work: Work
    private let directory: URL?
    private let metrics: ServerMetrics
    private let logger: Logger

    /// Jobs indexing into `library`.
    convenience init(library: MediaLibrary, directory: URL?, metrics: ServerMetrics, logger: Logger) throws {
        try self.init(directory: directory, metrics: metrics, logger: logger) { inputs, progress in
            let report = try await library.index(inputs, progress: progress)
            return WorkResult(
                summary: .init(scanned: report.scanned, unchanged: report.unchanged, added: report.added,
                               updated: report.updated, removed: report.removed, reused: report.reused,
                               embedded: report.embedded, moments: report.moments, seconds: report.elapsed.seconds),
                failures: report.failures.map { .init(path: $0.path, message: $0.message) },
                stoppedEarly: report.cancelled)
        }
    }

    /// Jobs doing `work` (tests pass work they control).
    init(directory: URL?, metrics: ServerMetrics, logger: Logger, work: @escaping Work) throws {
        self.work = work
        self.directory = directory
        self.metrics = metrics
        self.logger = logger
        board = JobBoard(directory: directory, logger: logger)
        if let directory {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        }
    }

    /// Queues a job indexing `inputs` (files, folders, http(s) URLs).
    func submit(_ inputs: [String]) async -> JobRecord {
        let record = JobRecord(id: Self.makeID(), kind: .index, inputs: inputs, state: .queued, created: Date())
        await board.add(record)
        return record
    }

    func record(_ id: String) async -> JobRecord? { await board.record(id) }
    func all() async -> [JobRecord] { await board.all() }

    /// Cancels a job: a queued or interrupted one is over at once; a running one becomes `cancelling` and
    /// stops at the next batch boundary. Nil for an unknown job.
    func cancel(_ id: String) async -> JobRecord? {
        await board.cancel(id)
    }

    /// The job's record now and after every change, ending when the job ends (or is interrupted).
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
        await resumeRecords()
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
        // Whatever is still queued resumes at the next start.
        await board.interruptQueued()
    }

    /// Runs one job that `board.start()` has marked running, and records how it ended.
    private func runJob(_ record: JobRecord) async {
        let id = record.id
        metrics.jobsRunning.increment()
        defer { metrics.jobsRunning.decrement() }
        logger.info("job started", metadata: ["job": .string(id), "inputs": .stringConvertible(record.inputs.count)])
        let work = work, board = board, metrics = metrics
        let task = Task {
            // A cancel that arrived before the task was attached cancels it before it starts: no work.
            guard !Task.isCancelled else {
                _ = await board.finish(id, .stopped) { _ in }
                return
            }
            // Progress arrives on the ingest's threads; one consumer applies it in order.
            let (updates, feed) = AsyncStream.makeStream(of: IngestProgress.self, bufferingPolicy: .bufferingNewest(4))
            let applier = Task {
                var lastEmbedded = 0
                for await progress in updates {
                    if progress.embedded > lastEmbedded {
                        metrics.embeddedTotal.increment(by: Int64(progress.embedded - lastEmbedded))
                        lastEmbedded = progress.embedded
                    }
                    await board.progress(id) { job in
                        job.filesDone = progress.filesDone
                        job.filesTotal = progress.filesTotal
                        job.embedded = progress.embedded
                        job.failed = progress.failed
                        job.rate = progress.rate
                        job.etaSeconds = progress.estimatedSecondsLeft
                        job.current = progress.current
                        job.stage = progress.stage
                    }
                }
            }
            do {
                let result = try await work(record.inputs) { feed.yield($0) }
                feed.finish()
                await applier.value
                _ = await board.finish(id, result.stoppedEarly ? .stopped : .completed) { job in
                    job.report = result.summary
                    job.failures = Array(result.failures.prefix(1000))
                    job.failed = result.failures.count
                }
            } catch {
                feed.finish()
                await applier.value
                // Cancellation surfacing as an error is a stop, not a failure.
                let outcome: JobState.Outcome = error is CancellationError ? .stopped : .failed
                let message = "\(error)"
                _ = await board.finish(id, outcome) { job in
                    if outcome == .failed { job.error = message }
                }
            }
        }
        await board.attach(task, to: id)
        await task.value
        if let final = await board.record(id) {
            logger.info("job ended", metadata: ["job": .string(id), "state": .string(final.state.rawValue)])
        }
    }

    /// Loads the records on disk; work a stop left unfinished is queued again (indexing skips what is
    /// already stored, so it continues where it stopped).
    private func resumeRecords() async {
        guard let directory else { return }
        let files = (try? FileManager.default.contentsOfDirectory(at: directory, includingPropertiesForKeys: nil)) ?? []
        var records: [JobRecord] = []
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        for file in files where file.pathExtension == "json" {
            do {
                records.append(try decoder.decode(JobRecord.self, from: Data(contentsOf: file)))
            } catch {
                logger.warning("skipping unreadable job record", metadata: ["file": .string(file.path), "error": "\(error)"])
            }
        }
        // Dates are saved to the second: ties keep a fixed order.
        for var record in records.sorted(by: { ($0.created, $0.id) < ($1.created, $1.id) }) {
            let before = record.state
            if record.state.resume() { logger.info("resuming job", metadata: ["job": .string(record.id)]) }
            await board.add(record, save: record.state != before)
        }
    }

    private static func makeID() -> String {
        let stamp = String(Int(Date().timeIntervalSince1970), radix: 36)
        let random = String(UInt32.random(in: 0...UInt32.max), radix: 36)
        return "job-\(stamp)-\(random)"
    }
}

extension Duration {
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) * 1e-18 }
}
