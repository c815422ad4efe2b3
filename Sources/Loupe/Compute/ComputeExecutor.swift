import Dispatch
import Foundation
import LoupeStore

/// The bounded pool where Loupe's heavy work runs: model passes, picture decoding and preprocessing.
///
/// Work runs on dispatch threads, never on Swift's cooperative pool, so a long decode or a forward pass
/// does not stall request handlers or the actors searches need. Each resource has a fixed number of
/// slots (`.model`: one pass at a time, since a pass already uses every core; `.cpu`: one job a core),
/// and within a resource the interactive lane always goes first: a query waits at most for the job in
/// progress, never for the ingest batches queued behind it. Work waiting for a slot is dropped when its
/// task is cancelled.
///
/// ```swift
/// let vector = try await ComputeExecutor.shared.run(.model, lane: .interactive) { try model.embed(texts: [q]) }
/// ```
public final class ComputeExecutor: @unchecked Sendable {
    /// Which queue a job waits in.
    public enum Lane: Int, Sendable, CaseIterable {
        /// A person is waiting: searches, query embeddings.
        case interactive
        /// Indexing and other background work.
        case bulk
    }

    /// What a job needs.
    public enum Resource: Int, Sendable, CaseIterable {
        /// A forward pass of a model (which spreads over every core itself).
        case model
        /// Single-threaded CPU work: decoding, resizing, hashing.
        case cpu
    }

    /// The lane work started from this task goes to (searches set `.interactive`, ingest `.bulk`).
    @TaskLocal public static var lane: Lane = .interactive

    /// The process's executor.
    public static let shared = ComputeExecutor()

    private struct Job {
        let id: UInt64
        let start: () -> Void
        let cancel: () -> Void
    }

    private struct Pool {
        var slots: Int
        var running = 0
        var waiting: [[Job]] = Lane.allCases.map { _ in [] }
    }

    private let lock = NSLock()
    private var pools: [Pool]
    private var nextID: UInt64 = 0
    /// Jobs given an id but not queued yet, and those of them cancelled meanwhile (the cancellation
    /// handler can run before the job is queued).
    private var announced: Set<UInt64> = []
    private var cancelledEarly: Set<UInt64> = []

    /// - Parameters:
    ///   - modelSlots: model passes at once (default 1).
    ///   - cpuSlots: CPU jobs at once (default: the cores this process may use).
    public init(modelSlots: Int = 1, cpuSlots: Int = ProcessInfo.processInfo.activeProcessorCount) {
        pools = [Pool(slots: max(1, modelSlots)), Pool(slots: max(1, cpuSlots))]
        background = BackgroundThreads(count: max(1, modelSlots) + max(1, cpuSlots))
    }

    /// Where bulk jobs run: threads at a lower scheduling priority, one per slot (so a started job never
    /// waits for a thread), made on first use.
    private let background: BackgroundThreads

    /// Jobs waiting for a slot, by lane (for metrics and tests).
    public func waiting(_ resource: Resource) -> [Lane: Int] {
        lock.withLock {
            Dictionary(uniqueKeysWithValues: Lane.allCases.map { ($0, pools[resource.rawValue].waiting[$0.rawValue].count) })
        }
    }

    /// Runs `body` when a slot of `resource` is free, interactive work first.
    ///
    /// - Parameter lane: the queue; by default the task's `ComputeExecutor.lane`.
    /// - Throws: `CancellationError` when the task is cancelled before the job starts; whatever `body` throws.
    public func run<T: Sendable>(_ resource: Resource, lane: Lane = ComputeExecutor.lane,
                                 _ body: @escaping @Sendable () throws -> T) async throws -> T {
        try Task.checkCancellation()
        let id = lock.withLock { () -> UInt64 in
            nextID += 1
            announced.insert(nextID)
            return nextID
        }
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, Error>) in
                let job = Job(
                    id: id,
                    start: {
                        let work: @Sendable () -> Void = {
                            let result = Result { try body() }
                            self.finished(resource)
                            continuation.resume(with: result)
                        }
                        // Bulk work gives way to searches on a busy machine (see `WorkerThreads`).
                        if lane == .interactive { DispatchQueue.global(qos: .userInitiated).async(execute: work) } else { self.background.submit(work) }
                    },
                    cancel: { continuation.resume(throwing: CancellationError()) })
                enqueue(job, resource: resource, lane: lane)
            }
        } onCancel: {
            cancelWaiting(id, resource: resource)
        }
    }

    private func enqueue(_ job: Job, resource: Resource, lane: Lane) {
        let action: () -> Void = lock.withLock {
            announced.remove(job.id)
            if cancelledEarly.remove(job.id) != nil { return job.cancel }
            if pools[resource.rawValue].running < pools[resource.rawValue].slots {
                pools[resource.rawValue].running += 1
                return job.start
            }
            pools[resource.rawValue].waiting[lane.rawValue].append(job)
            return {}
        }
        action()
    }

    private func finished(_ resource: Resource) {
        let next: Job? = lock.withLock {
            var pool = pools[resource.rawValue]
            defer { pools[resource.rawValue] = pool }
            for lane in Lane.allCases where !pool.waiting[lane.rawValue].isEmpty {
                return pool.waiting[lane.rawValue].removeFirst()
            }
            pool.running -= 1
            return nil
        }
        next?.start()
    }

    private func cancelWaiting(_ id: UInt64, resource: Resource) {
        let job: Job? = lock.withLock {
            for lane in Lane.allCases {
                if let index = pools[resource.rawValue].waiting[lane.rawValue].firstIndex(where: { $0.id == id }) {
                    return pools[resource.rawValue].waiting[lane.rawValue].remove(at: index)
                }
            }
            // Not queued yet (the handler ran first): the job is dropped when it arrives. Started: it runs on.
            if announced.contains(id) { cancelledEarly.insert(id) }
            return nil
        }
        job?.cancel()
    }
}

/// A fixed set of threads at background priority, started on first use, taking jobs in order.
private final class BackgroundThreads: @unchecked Sendable {
    private let count: Int
    private let condition = NSCondition()
    private var jobs: [@Sendable () -> Void] = []
    private var started = false

    init(count: Int) { self.count = count }

    func submit(_ job: @escaping @Sendable () -> Void) {
        condition.lock()
        jobs.append(job)
        if !started {
            started = true
            for index in 0..<count {
                let thread = Thread { [self] in work() }
                thread.name = "loupe-bulk-\(index)"
                thread.start()
            }
        }
        condition.signal()
        condition.unlock()
    }

    private func work() {
        WorkerThreads.lowerCurrentThread()
        while true {
            condition.lock()
            while jobs.isEmpty { condition.wait() }
            let job = jobs.removeFirst()
            condition.unlock()
            job()
        }
    }
}
