import Foundation
import Logging
import Loupe
import ServiceLifecycle

/// One indexing job as clients see it.
struct JobRecord: Codable, Sendable {
    enum State: String, Codable, Sendable {
        case queued, running, done, failed, cancelled
        /// Stopped by a server shutdown; resumed at the next start.
        case interrupted
    }

    var id: String
    var inputs: [String]
    var state: State
    var created: Date
    var started: Date?
    var finished: Date?
    var filesDone = 0
    var filesTotal = 0
    var embedded = 0
    var failed = 0
    var rate = 0.0
    var etaSeconds: Double?
    var current: String?
    var report: Summary?
    var failures: [Failure] = []
    var error: String?

    struct Summary: Codable, Sendable {
        var scanned, unchanged, added, updated, removed, reused, embedded, moments: Int
        var seconds: Double
    }

    struct Failure: Codable, Sendable {
        var path: String
        var message: String
    }

    var isFinished: Bool { [.done, .failed, .cancelled].contains(state) }

    enum CodingKeys: String, CodingKey {
        case id, inputs, state, created, started, finished, embedded, failed, rate, current, report, failures, error
        case filesDone = "files_done", filesTotal = "files_total", etaSeconds = "eta_s"
    }
}

/// Runs indexing jobs one at a time (they share the embedder), keeps their records on disk so that jobs
/// a shutdown interrupted resume at the next start, and lets clients follow progress.
///
/// As a `Service` it runs beside the HTTP server: on graceful shutdown it stops the running job at a batch
/// boundary (everything stored so far stays) and marks it `interrupted`.
final class JobManager: Service, Sendable {
    private let library: MediaLibrary
    private let directory: URL?
    private let metrics: ServerMetrics
    private let logger: Logger
    private let state: State

    private actor State {
        var records: [String: JobRecord] = [:]
        var order: [String] = []
        var pending: [String] = []
        var running: (id: String, task: Task<Void, Never>)?
        var watchers: [String: [UUID: AsyncStream<JobRecord>.Continuation]] = [:]
        var wakeUp: AsyncStream<Void>.Continuation?

        func add(_ record: JobRecord, queued: Bool) {
            records[record.id] = record
            order.append(record.id)
            if queued { pending.append(record.id) }
        }

        func update(_ id: String, _ change: (inout JobRecord) -> Void) -> JobRecord? {
            guard var record = records[id] else { return nil }
            change(&record)
            records[id] = record
            for continuation in watchers[id, default: [:]].values {
                continuation.yield(record)
                if record.isFinished || record.state == .interrupted { continuation.finish() }
            }
            return record
        }

        func nextPending() -> String? { pending.isEmpty ? nil : pending.removeFirst() }
        func setRunning(_ value: (id: String, task: Task<Void, Never>)?) { running = value }
        func runningTask() -> (id: String, task: Task<Void, Never>)? { running }
        func removePending(_ id: String) -> Bool {
            guard let index = pending.firstIndex(of: id) else { return false }
            pending.remove(at: index)
            return true
        }

        func watch(_ id: String, _ continuation: AsyncStream<JobRecord>.Continuation) -> UUID {
            let key = UUID()
            watchers[id, default: [:]][key] = continuation
            return key
        }

        func unwatch(_ id: String, _ key: UUID) { watchers[id]?[key] = nil }
        func setWakeUp(_ continuation: AsyncStream<Void>.Continuation?) { wakeUp = continuation }
        func wake() { wakeUp?.yield() }
        func all() -> [JobRecord] { order.compactMap { records[$0] } }
        func record(_ id: String) -> JobRecord? { records[id] }
    }

    init(library: MediaLibrary, directory: URL?, metrics: ServerMetrics, logger: Logger) throws {
        self.library = library
        self.directory = directory
        self.metrics = metrics
        self.logger = logger
        state = State()
        if let directory {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        }
    }

    /// Queues a job indexing `inputs` (files, folders, http(s) URLs).
    func submit(_ inputs: [String]) async -> JobRecord {
        let record = JobRecord(id: Self.makeID(), inputs: inputs, state: .queued, created: Date())
        await state.add(record, queued: true)
        persist(record)
        await state.wake()
        return record
    }

    func record(_ id: String) async -> JobRecord? { await state.record(id) }
    func all() async -> [JobRecord] { await state.all() }

    /// Cancels a queued or running job; running ones stop at the next batch boundary.
    func cancel(_ id: String) async -> JobRecord? {
        if await state.removePending(id) {
            let record = await state.update(id) { $0.state = .cancelled; $0.finished = Date() }
            if let record { persist(record) }
            return record
        }
        if let running = await state.runningTask(), running.id == id { running.task.cancel() }
        return await state.record(id)
    }

    /// The job's record now and after every change, ending when the job ends.
    func updates(_ id: String) async -> AsyncStream<JobRecord>? {
        guard let current = await state.record(id) else { return nil }
        let (stream, continuation) = AsyncStream.makeStream(of: JobRecord.self, bufferingPolicy: .bufferingNewest(16))
        continuation.yield(current)
        if current.isFinished || current.state == .interrupted {
            continuation.finish()
            return stream
        }
        let key = await state.watch(id, continuation)
        let state = state
        continuation.onTermination = { _ in Task { await state.unwatch(id, key) } }
        return stream
    }

    // MARK: Service

    func run() async throws {
        await resumeInterrupted()
        let (wakeUps, continuation) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        await state.setWakeUp(continuation)
        continuation.yield()
        let state = state
        await withGracefulShutdownHandler {
            for await _ in wakeUps {
                while let id = await state.nextPending() {
                    if Task.isShuttingDownGracefully {
                        await self.markInterrupted(id)
                        continue
                    }
                    await self.runJob(id)
                }
            }
        } onGracefulShutdown: {
            continuation.finish()
            Task { [state] in
                if let running = await state.runningTask() { running.task.cancel() }
            }
        }
        // Whatever is still queued resumes at the next start.
        while let id = await state.nextPending() { await markInterrupted(id) }
    }

    private func runJob(_ id: String) async {
        guard let record = await state.update(id, { $0.state = .running; $0.started = Date() }) else { return }
        persist(record)
        metrics.jobsRunning.increment()
        defer { metrics.jobsRunning.decrement() }
        logger.info("job started", metadata: ["job": .string(id), "inputs": .stringConvertible(record.inputs.count)])
        let library = library, state = state, metrics = metrics
        let task = Task {
            // Progress arrives on the ingest's threads; one consumer applies it in order.
            let (updates, feed) = AsyncStream.makeStream(of: IngestProgress.self, bufferingPolicy: .bufferingNewest(4))
            let applier = Task {
                var lastEmbedded = 0
                for await progress in updates {
                    if progress.embedded > lastEmbedded {
                        metrics.embeddedTotal.increment(by: Int64(progress.embedded - lastEmbedded))
                        lastEmbedded = progress.embedded
                    }
                    _ = await state.update(id) { job in
                        job.filesDone = progress.filesDone
                        job.filesTotal = progress.filesTotal
                        job.embedded = progress.embedded
                        job.failed = progress.failed
                        job.rate = progress.rate
                        job.etaSeconds = progress.estimatedSecondsLeft
                        job.current = progress.current
                    }
                }
            }
            do {
                let report = try await library.index(record.inputs) { feed.yield($0) }
                feed.finish()
                await applier.value
                let interrupted = report.cancelled && Task.isShuttingDownGracefully
                let final = await state.update(id) { job in
                    job.state = report.cancelled ? (interrupted ? .interrupted : .cancelled) : .done
                    job.finished = interrupted ? nil : Date()
                    job.current = nil
                    job.report = .init(scanned: report.scanned, unchanged: report.unchanged, added: report.added,
                                       updated: report.updated, removed: report.removed, reused: report.reused,
                                       embedded: report.embedded, moments: report.moments,
                                       seconds: report.elapsed.seconds)
                    job.failures = report.failures.prefix(1000).map { .init(path: $0.path, message: $0.message) }
                    job.failed = report.failures.count
                }
                if let final { self.persist(final) }
            } catch {
                feed.finish()
                await applier.value
                let final = await state.update(id) { job in
                    job.state = .failed
                    job.finished = Date()
                    job.error = "\(error)"
                }
                if let final { self.persist(final) }
            }
        }
        await state.setRunning((id, task))
        await task.value
        await state.setRunning(nil)
        if let final = await state.record(id) {
            logger.info("job ended", metadata: ["job": .string(id), "state": .string(final.state.rawValue)])
        }
    }

    private func markInterrupted(_ id: String) async {
        if let record = await state.update(id, { $0.state = .interrupted }) { persist(record) }
    }

    /// Loads the records on disk; jobs that were queued, running or interrupted are queued again (indexing
    /// skips what is already stored, so they continue where they stopped).
    private func resumeInterrupted() async {
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
        for var record in records.sorted(by: { $0.created < $1.created }) {
            let resume = !record.isFinished
            if resume {
                record.state = .queued
                logger.info("resuming job", metadata: ["job": .string(record.id)])
            }
            await state.add(record, queued: resume)
            if resume { persist(record) }
        }
    }

    private func persist(_ record: JobRecord) {
        guard let directory else { return }
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .iso8601
        encoder.outputFormatting = [.sortedKeys]
        do {
            try encoder.encode(record).write(to: directory.appendingPathComponent("\(record.id).json"), options: .atomic)
        } catch {
            logger.error("could not save job record", metadata: ["job": .string(record.id), "error": "\(error)"])
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
