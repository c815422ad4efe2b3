/// Where an indexing job is in its life, and the only moves it can make from there.
///
/// A value type: the job board applies events to it and acts on what each move returns, so every
/// transition is decided in one place and tested without a server.
///
/// ```
/// queued ──start──▶ running ──finish(.completed)──▶ done
///   │  ▲              │  ├──finish(.failed)──▶ failed
///   │  │resume        │  └──finish(.stopped) while shutting down──▶ interrupted ──resume──▶ queued
///   │  │              │cancel
///   │  └─interrupted  ▼
///   │   (shutdown)  cancelling ──finish(.stopped)──▶ cancelled
///   └──cancel──▶ cancelled        └─finish(.completed)──▶ done (the work ended before it saw the cancel)
/// ```
///
/// The raw values are what the JSON API and the web page show.
enum JobState: String, Codable, Sendable, CaseIterable {
    /// Waiting for the jobs before it.
    case queued
    /// Indexing.
    case running
    /// Asked to stop; it does at the next batch boundary.
    case cancelling
    /// Finished: every input was indexed (files that failed are listed in the record).
    case done
    /// Stopped by an error before it finished.
    case failed
    /// Stopped at a client's request; never resumed.
    case cancelled
    /// Stopped by a server shutdown; queued again at the next start.
    case interrupted

    /// How the work of a running job ended.
    enum Outcome: Sendable, Equatable {
        /// It went through every input.
        case completed
        /// It threw.
        case failed
        /// It stopped early because its task was cancelled (a cancel request or a shutdown).
        case stopped
    }

    /// What the board must do after a cancel request.
    enum CancelAction: Sendable, Equatable {
        /// The job had not started (queued, or interrupted and waiting to resume): it is over now and must
        /// leave the queue.
        case cancelledBeforeStart
        /// The job is running: its task must be cancelled; it ends at the next batch boundary.
        case stopWork
        /// Nothing to do: the job is already stopping or over.
        case none
    }

    /// Over for good: never run, resumed or changed again.
    var isFinal: Bool { self == .done || self == .failed || self == .cancelled }

    /// Whether the job's stream of updates ends in this state (over, or waiting for the next start).
    var endsUpdates: Bool { isFinal || self == .interrupted }

    /// Whether the job holds or awaits the indexer (shown with a Cancel button while `queued` or `running`).
    var isActive: Bool { self == .queued || self == .running || self == .cancelling }

    /// queued → running. Returns false, changing nothing, from any other state (a job cancelled or
    /// interrupted while it waited must not run).
    mutating func start() -> Bool {
        guard self == .queued else { return false }
        self = .running
        return true
    }

    /// A client's cancel request: queued or interrupted → cancelled; running → cancelling. A cancel is
    /// never lost: from `running` the job can only end `cancelled`, or `done` if its work had already
    /// finished.
    mutating func cancel() -> CancelAction {
        switch self {
        case .queued, .interrupted:
            self = .cancelled
            return .cancelledBeforeStart
        case .running:
            self = .cancelling
            return .stopWork
        case .cancelling, .done, .failed, .cancelled:
            return .none
        }
    }

    /// The work of a running or cancelling job ended. Returns false, changing nothing, when the job was
    /// not running. Work stopped without a cancel request (a shutdown) is `interrupted` and resumes at
    /// the next start; work stopped after one is `cancelled`.
    mutating func finish(_ outcome: Outcome) -> Bool {
        switch (self, outcome) {
        case (.running, .completed), (.cancelling, .completed):
            self = .done
        case (.running, .failed), (.cancelling, .failed):
            self = .failed
        case (.cancelling, .stopped):
            self = .cancelled
        case (.running, .stopped):
            // Only a shutdown cancels a running job's task without a cancel request; whatever did, the
            // work is unfinished and nobody asked to drop it.
            self = .interrupted
        case (.queued, _), (.done, _), (.failed, _), (.cancelled, _), (.interrupted, _):
            return false
        }
        return true
    }

    /// A server shutdown reached a job that had not started: queued → interrupted. False otherwise.
    mutating func interrupt() -> Bool {
        guard self == .queued else { return false }
        self = .interrupted
        return true
    }

    /// A record read back at start-up. Work that never finished (queued, running or interrupted when the
    /// server stopped) is queued again and returns true; a job that was `cancelling` when the process
    /// died becomes `cancelled` (the request stands); final states stay.
    mutating func resume() -> Bool {
        switch self {
        case .queued, .running, .interrupted:
            self = .queued
            return true
        case .cancelling:
            self = .cancelled
            return false
        case .done, .failed, .cancelled:
            return false
        }
    }
}
