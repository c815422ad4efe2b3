/// The embedding of one sampled video frame.
public struct FrameEmbedding: Sendable, Equatable {
    /// Presentation time in seconds from the start of the video.
    public var time: Double
    public var vector: [Float]

    public init(time: Double, vector: [Float]) {
        self.time = time
        self.vector = vector
    }
}

/// A stretch of video with one embedding: what a search for a moment returns.
public struct VideoSegment: Sendable, Equatable {
    public var start: Double
    public var end: Double
    /// The time of the frame most like the segment as a whole: the thumbnail to show.
    public var thumbnailTime: Double
    /// The normalised mean of the segment's frame embeddings.
    public var vector: [Float]
}

/// How a video is cut into searchable segments.
public enum SegmentationStrategy: Sendable, Equatable {
    /// Segments of a fixed length (Twelve Labs' default clip is 6 s); the last one may be shorter.
    case fixed(seconds: Double)
    /// Segments between scene changes (times in seconds, e.g. from a content detector).
    case scenes(cuts: [Double])
}

/// Cuts a video's sampled frame embeddings into segments and a whole-video embedding.
public struct VideoSegmenter: Sendable {
    public var strategy: SegmentationStrategy

    public init(strategy: SegmentationStrategy = .fixed(seconds: 6)) {
        self.strategy = strategy
    }

    /// Segments of a video of `duration` seconds, plus the whole video's embedding (the normalised mean of
    /// all frames). Segments without any sampled frame are skipped.
    public func segments(frames: [FrameEmbedding], duration: Double) throws -> (segments: [VideoSegment], video: [Float]) {
        guard !frames.isEmpty else { throw LoupeError(.invalidArgument, "a video needs at least one sampled frame") }
        guard duration.isFinite, duration > 0 else { throw LoupeError(.invalidArgument, "duration \(duration) must be positive") }
        let dimension = frames[0].vector.count
        guard frames.allSatisfy({ $0.vector.count == dimension }) else {
            throw LoupeError(.dimensionMismatch, "frame embeddings of different lengths")
        }
        let sorted = frames.sorted { $0.time < $1.time }
        let boundaries = try self.boundaries(duration: duration)
        var segments: [VideoSegment] = []
        var cursor = 0
        for (start, end) in zip(boundaries, boundaries.dropFirst()) {
            var members: [FrameEmbedding] = []
            while cursor < sorted.count && (sorted[cursor].time < end || end == boundaries.last!) {
                if sorted[cursor].time >= start { members.append(sorted[cursor]) }
                cursor += 1
            }
            guard !members.isEmpty, let vector = VectorMath.normalized(VectorMath.mean(members.map(\.vector))) else { continue }
            let thumbnail = members.max { VectorMath.dot($0.vector, vector) < VectorMath.dot($1.vector, vector) }!
            segments.append(VideoSegment(start: start, end: end, thumbnailTime: thumbnail.time, vector: vector))
        }
        let whole = VectorMath.normalized(VectorMath.mean(sorted.map(\.vector))) ?? sorted[0].vector
        return (segments, whole)
    }

    /// Segment edges from 0 to `duration`.
    func boundaries(duration: Double) throws -> [Double] {
        switch strategy {
        case .fixed(let seconds):
            guard seconds.isFinite, seconds > 0 else {
                throw LoupeError(.invalidArgument, "segment length \(seconds) s must be positive")
            }
            var edges = stride(from: 0, to: duration, by: seconds).map { $0 }
            // Fold a sliver under a second into the previous segment rather than make a tiny one.
            if edges.count > 1, duration - edges.last! < min(1, seconds / 2) { edges.removeLast() }
            return edges + [duration]
        case .scenes(let cuts):
            let inside = Set(cuts.filter { $0 > 0 && $0 < duration }).sorted()
            return [0] + inside + [duration]
        }
    }
}
