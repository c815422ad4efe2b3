/// One frame sampled from a video: upright RGB8 pixels and when it is shown.
public struct VideoFrame: Sendable, Hashable {
    /// Presentation time in seconds from the start of the stream.
    public var timestamp: Double
    /// Width in pixels.
    public var width: Int
    /// Height in pixels.
    public var height: Int
    /// `width * height * 3` bytes, row-major `R, G, B`.
    public var pixels: [UInt8]
    /// The sampling times this frame was taken for, as indices `k` of `k / framesPerSecond` seconds:
    /// usually one, more when the video shows fewer frames than were asked for (empty when unknown).
    /// Sampling at a multiple of a rate gives, for every index that multiple divides, the same frame
    /// as sampling at that rate.
    public var samples: Range<Int>

    /// Wraps pixels; `pixels.count` must be `width * height * 3`.
    public init(timestamp: Double, width: Int, height: Int, pixels: [UInt8], samples: Range<Int> = 0..<0) {
        precondition(pixels.count == width * height * 3, "expected \(width * height * 3) bytes, got \(pixels.count)")
        self.timestamp = timestamp
        self.width = width
        self.height = height
        self.pixels = pixels
        self.samples = samples
    }
}
