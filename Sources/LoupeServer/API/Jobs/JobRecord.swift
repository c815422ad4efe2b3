import Foundation

/// One job (indexing, or image generation) as clients see it, and as an indexing job is saved on disk.
struct JobRecord: Codable, Sendable {
    var id: String
    /// What the job does; nil in records saved before generation jobs existed, which are indexing jobs.
    var kind: Kind?
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
    /// Where the job stands: for indexing, a remote embedder's stage with `current` (uploading, waiting,
    /// fetching) when it works on a video; for generation, its step (`GenerationJobs.Stage`).
    var stage: String?
    var report: Summary?
    var failures: [Failure] = []
    var error: String?
    /// How many of a generation job's steps are done.
    var stepsDone: Int?
    var stepsTotal: Int?
    /// A generation job's request and, once it is done, what it made.
    var generation: Generation?

    enum Kind: String, Codable, Sendable {
        case index
        case generate
    }

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

    /// A generation job: what was asked (`prompt` … `items`) and, when it is done, the pictures made, the
    /// model's text and the references sent with their scores.
    struct Generation: Codable, Sendable, Equatable {
        var prompt: String
        var model: String
        var aspectRatio: String?
        /// The query that retrieved references (nil: none were retrieved).
        var refs: String?
        var k: Int
        /// Indexed items given as references, in the order sent after the retrieved ones.
        var items: [Int64]
        var images: [Image] = []
        var text: String?
        var references: [Reference] = []

        struct Image: Codable, Sendable, Equatable {
            /// Where the server serves the picture (`/api/generated/NAME`) and its sidecar JSON.
            var url: String
            var sidecarURL: String
            var name: String
            var path: String
            var mimeType: String

            enum CodingKeys: String, CodingKey {
                case url, name, path, sidecarURL = "sidecar_url", mimeType = "mime_type"
            }
        }

        struct Reference: Codable, Sendable, Equatable {
            var path: String
            /// The similarity to `refs`, for a retrieved reference; nil for a selected item.
            var score: Float?
            var itemID: Int64?
            var timeSeconds: Double?
            var thumbnailURL: String?

            enum CodingKeys: String, CodingKey {
                case path, score, itemID = "item_id", timeSeconds = "time_s", thumbnailURL = "thumbnail_url"
            }
        }

        enum CodingKeys: String, CodingKey {
            case prompt, model, refs, k, items, images, text, references, aspectRatio = "aspect_ratio"
        }
    }

    enum CodingKeys: String, CodingKey {
        case id, kind, inputs, state, created, started, finished, embedded, failed, rate, current, report, failures, error
        case stage, generation
        case filesDone = "files_done", filesTotal = "files_total", etaSeconds = "eta_s"
        case stepsDone = "steps_done", stepsTotal = "steps_total"
    }
}
