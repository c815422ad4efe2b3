/// A decoded 8-bit RGB image: `width * height * 3` bytes, row-major, each pixel `R, G, B`.
public struct PPMImage: Sendable, Hashable {
    /// Width in pixels (at least 1).
    public var width: Int
    /// Height in pixels (at least 1).
    public var height: Int
    /// Interleaved `R, G, B` bytes, row after row.
    public var pixels: [UInt8]

    /// Wraps pixels without checking their count.
    public init(width: Int, height: Int, pixels: [UInt8]) {
        self.width = width
        self.height = height
        self.pixels = pixels
    }
}
