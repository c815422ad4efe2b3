import Foundation
import Logging

/// The jobs' records, their queue, the running job's task and the clients watching them.
///
/// Every state change goes through `JobState`'s transitions inside this actor, so a cancel request and
/// the runner taking the next job cannot interleave: a job is moved to `running` in the same step that
/// takes it off the queue, and a cancel that arrives before its task is attached is applied when it is.
/// Every state change is saved (in `directory`, when there is one) in the same step, so the file on disk
/// always holds the latest state.
actor JobBoard {
    private let directory: URL?
    private let logger: Logger
    private var records: [String: JobRecord] = [:]
    private var order: [String] = []
    private var queue: [String] = []
    private var running: (id: String, task: Task<Void, Never>)?
    private var watchers: [String: [UUID: AsyncStream<JobRecord>.Continuation]] = [:]
    private var wakeUp: AsyncStream<Void>.Continuation?
    private(set) var shuttingDown = false

    /// A board saving records as `directory/ID.json` (nil: kept in memory only).
    init(directory: URL?, logger: Logger) {
        self.directory = directory
        self.logger = logger
    }

    /// Adds a record, at the end of the queue when it is `queued`; `save` writes it to disk.
    func add(_ record: JobRecord, save: Bool = true) {
        records[record.id] = record
        if save { self.save(record) }
        order.append(record.id)
        if record.state == .queued { queue.append(record.id) }
        wakeUp?.yield()
    }

    /// Adds a queued record unless `limit` jobs are already queued or running; returns whether it did.
    /// (One step, so two requests at once cannot both take the last place.)
    func add(_ record: JobRecord, activeBelow limit: Int) -> Bool {
        guard records.values.filter({ $0.state.isActive }).count < limit else { return false }
        add(record)
        return true
    }

    func record(_ id: String) -> JobRecord? { records[id] }
    func all() -> [JobRecord] { order.compactMap { records[$0] } }

    /// Takes the next queued job off the queue and marks it running, or nil when the queue is empty or
    /// the server is shutting down.
    func start() -> JobRecord? {
        guard !shuttingDown else { return nil }
        while !queue.isEmpty {
            let id = queue.removeFirst()
            guard var record = records[id], record.state.start() else { continue }
            record.started = Date()
            publish(record, save: true)
            return record
        }
        return nil
    }

    /// Hands the board the task doing a running job's work. If the job was cancelled (or the server began
    /// shutting down) since `start()`, the task is cancelled at once; returns whether it was.
    @discardableResult
    func attach(_ task: Task<Void, Never>, to id: String) -> Bool {
        running = (id, task)
        if records[id]?.state == .cancelling || shuttingDown {
            task.cancel()
            return true
        }
        return false
    }

    /// Records how a running job's work ended and detaches its task. Returns the final record.
    func finish(_ id: String, _ outcome: JobState.Outcome, _ change: @Sendable (inout JobRecord) -> Void) -> JobRecord? {
        if running?.id == id { running = nil }
        guard var record = records[id], record.state.finish(outcome) else { return records[id] }
        change(&record)
        if record.state.isFinal { record.finished = Date() }
        record.current = nil
        record.stage = nil
        publish(record, save: true)
        return record
    }

    /// A client's cancel request. Returns the record after it, or nil for an unknown job.
    func cancel(_ id: String) -> JobRecord? {
        guard var record = records[id] else { return nil }
        switch record.state.cancel() {
        case .cancelledBeforeStart:
            queue.removeAll { $0 == id }
            record.finished = Date()
            publish(record, save: true)
        case .stopWork:
            publish(record, save: true)
            if running?.id == id { running?.task.cancel() }
        case .none:
            break
        }
        return record
    }

    /// Progress of a running job (its counts; never its state).
    func progress(_ id: String, _ change: @Sendable (inout JobRecord) -> Void) {
        guard var record = records[id], record.state == .running || record.state == .cancelling else { return }
        let state = record.state
        change(&record)
        record.state = state
        publish(record, save: false)
    }

    /// A shutdown begins: no job starts from now on and the running one is told to stop.
    func beginShutdown() {
        shuttingDown = true
        running?.task.cancel()
        wakeUp?.finish()
    }

    /// After a shutdown: every job still queued becomes `interrupted`.
    func interruptQueued() {
        for id in queue {
            guard var record = records[id], record.state.interrupt() else { continue }
            publish(record, save: true)
        }
        queue.removeAll()
    }

    /// The runner's wake-up calls: one now, one per job added; finished at shutdown.
    func setWakeUp(_ continuation: AsyncStream<Void>.Continuation) {
        wakeUp = continuation
        continuation.yield()
        if shuttingDown { continuation.finish() }
    }

    func watch(_ id: String, _ continuation: AsyncStream<JobRecord>.Continuation) -> UUID? {
        guard let record = records[id] else { return nil }
        continuation.yield(record)
        if record.state.endsUpdates {
            continuation.finish()
            return nil
        }
        let key = UUID()
        watchers[id, default: [:]][key] = continuation
        return key
    }

    func unwatch(_ id: String, _ key: UUID) { watchers[id]?[key] = nil }

    private func publish(_ record: JobRecord, save: Bool) {
        records[record.id] = record
        if save { self.save(record) }
        for continuation in watchers[record.id, default: [:]].values {
            continuation.yield(record)
            if record.state.endsUpdates { continuation.finish() }
        }
        if record.state.endsUpdates { watchers[record.id] = nil }
    }

    private func save(_ record: JobRecord) {
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
}
