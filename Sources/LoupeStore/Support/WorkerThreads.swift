import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Threads for background work that should give way to searches.
package enum WorkerThreads {
    /// The niceness background threads run at: a runnable search thread (niceness 0) gets about ten
    /// times their share of a core, so indexing in the background barely moves search latency, and on
    /// an idle machine background work still has every core.
    package static let backgroundNiceness: Int32 = 10

    /// Lowers the calling thread's scheduling priority to `backgroundNiceness` (Linux: per thread; a
    /// thread cannot raise it again without privilege, so call it only on threads that stay background).
    package static func lowerCurrentThread() {
        #if os(Linux)
        // On Linux the nice value is per thread, and process 0 means the calling thread.
        _ = setpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0, backgroundNiceness)
        #endif
    }

    /// Runs `body(worker)` for workers `0..<count` and returns when all are done: on new background
    /// threads when `background`, else with `concurrentPerform` on the calling thread's pool.
    package static func run(_ count: Int, background: Bool, _ body: @escaping @Sendable (Int) -> Void) {
        guard background else {
            DispatchQueue.concurrentPerform(iterations: count, execute: body)
            return
        }
        let group = DispatchGroup()
        for worker in 0..<count {
            group.enter()
            let thread = Thread {
                lowerCurrentThread()
                body(worker)
                group.leave()
            }
            thread.name = "loupe-background-\(worker)"
            thread.start()
        }
        group.wait()
    }
}
