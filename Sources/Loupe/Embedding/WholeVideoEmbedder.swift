import Foundation

/// An embedder that takes a whole video file and cuts and embeds it itself (Twelve Labs' Marengo), instead
/// of being shown decoded frames: indexing sends such an embedder each video once and stores the clips it
/// answers with as the video's moments, and its whole-video vector as the video's row. Pictures and query
/// texts still go through `embed(images:)` and `embed(texts:)`.
public protocol WholeVideoEmbedder: Embedder {
    /// Refuses a segmentation the embedder cannot do, with a message naming the setting (called before
    /// an indexing run does any work).
    func check(_ segmentation: MediaLibrary.VideoSegmentation) throws
    /// The video's clips and whole-video vector; `stage` hears where a remote call stands.
    func embed(video: WholeVideo, stage: @escaping @Sendable (RemoteVideoStage) -> Void) async throws -> WholeVideoEmbedding
}

/// A video to embed whole.
public struct WholeVideo: Sendable {
    /// The file on this machine.
    public var file: URL
    /// The SHA-256 of its bytes (hex), which keys the cache.
    public var sha256: String
    /// The address it was fetched from, when it came from one: sent instead of the bytes.
    public var url: URL?
    /// The length of the clips to cut, in seconds.
    public var segmentSeconds: Double

    public init(file: URL, sha256: String, url: URL? = nil, segmentSeconds: Double) {
        self.file = file
        self.sha256 = sha256
        self.url = url
        self.segmentSeconds = segmentSeconds
    }
}

/// What a whole-video embedder answered: unit vectors for each clip and for the whole video.
public struct WholeVideoEmbedding: Sendable, Codable, Equatable {
    public struct Clip: Sendable, Codable, Equatable {
        /// Seconds from the start of the video.
        public var start: Double
        public var end: Double
        public var vector: [Float]

        public init(start: Double, end: Double, vector: [Float]) {
            self.start = start
            self.end = end
            self.vector = vector
        }
    }

    /// In time order.
    public var clips: [Clip]
    public var video: [Float]

    public init(clips: [Clip], video: [Float]) {
        self.clips = clips
        self.video = video
    }
}

/// Where the remote embedding of one video stands, for progress reports.
public enum RemoteVideoStage: String, Sendable {
    /// Sending the file (or its address).
    case uploading
    /// The provider is working on it.
    case waiting
    /// Fetching the vectors.
    case fetching
}
