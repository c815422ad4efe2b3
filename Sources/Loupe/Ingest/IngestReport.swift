import Foundation
import LoupeMedia
import LoupeStore

/// Where an indexing run stands, reported after every batch and every video.
public struct IngestProgress: Sendable {
    /// Files examined so far, of `filesTotal` that need work (new or changed).
    public var filesDone: Int
    public var filesTotal: Int
    /// Pictures and video frames embedded so far.
    public var embedded: Int
    public var failed: Int
    public var elapsed: Duration
    /// The file being worked on, when there is one.
    public var current: String?
    /// Where a remote embedder stands with `current` ("uploading", "waiting", "fetching"), when one is
    /// working on a whole video; nil otherwise.
    public var stage: String? = nil

    /// Files per second so far.
    public var rate: Double {
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
        return seconds > 0 ? Double(filesDone) / seconds : 0
    }

    /// Seconds left at the current rate, when it can be told.
    public var estimatedSecondsLeft: Double? {
        rate > 0 ? Double(filesTotal - filesDone) / rate : nil
    }
}

/// What an indexing run did.
public struct IngestReport: Sendable {
    /// Media files found under the given paths (and fetched URLs).
    public var scanned = 0
    /// Files whose size and modification time were unchanged: nothing done.
    public var unchanged = 0
    /// New files indexed.
    public var added = 0
    /// Changed files indexed again.
    public var updated = 0
    /// Rows of files that disappeared, removed.
    public var removed = 0
    /// Files recognised by their SHA-256 as moved or copied: their vectors were reused, nothing embedded.
    public var reused = 0
    /// Pictures embedded (images and video frames; with a whole-video embedder, the vectors its videos got).
    public var embedded = 0
    /// Video moments stored.
    public var moments = 0
    /// Files that could not be indexed, with the reason; the run went on without them.
    public var failures: [IngestFailure] = []
    /// Whether the run stopped early (cancelled); everything reported done is stored.
    public var cancelled = false
    public var elapsed: Duration = .zero
}

/// A file that could not be indexed: its path, the error's code (`truncated`, `not an image`, `network
/// error`, `storage failure`, ...) and the error's full message.
public struct IngestFailure: Sendable, Hashable {
    public var path: String
    public var code: String
    public var message: String

    public init(path: String, code: String, message: String) {
        self.path = path
        self.code = code
        self.message = message
    }

    /// The failure `error` caused for `path`, with the code of Loupe's, LoupeMedia's or LoupeStore's errors.
    public init(path: String, error: any Error) {
        self.path = path
        switch error {
        case let error as MediaError: code = error.code.description
        case let error as LoupeError: code = error.code.description
        case let error as StoreError: code = error.code.description
        default: code = "failed"
        }
        message = "\(error)"
    }
}
