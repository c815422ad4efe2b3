import Foundation

/// One indexing job as clients see it, and as it is saved on disk.
struct JobRecord: Codable, Sendable {
    var id: String
    var inputs: [String]
    var state: JobState
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
    /// Where a remote embedder stands with `current` (uploading, waiting, fetching), when it works on a video.
    var stage: String?
    var report: Summary?
    var failures: [Failure] = []
    var error: String?

    /// What a finished run did (the counts of `IngestReport`).
    struct Summary: Codable, Sendable, Equatable {
        var scanned, unchanged, added, updated, removed, reused, embedded, moments: Int
        var seconds: Double
    }

    /// A file that could not be indexed.
    struct Failure: Codable, Sendable, Equatable {
        var path: String
        var message: String
    }

    enum CodingKeys: String, CodingKey {
        case id, inputs, state, created, started, finished, embedded, failed, rate, current, stage, report, failures, error
        case filesDone = "files_done", filesTotal = "files_total", etaSeconds = "eta_s"
    }
}
