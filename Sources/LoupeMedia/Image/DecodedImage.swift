/// A decoded picture as 8-bit RGB, upright (EXIF orientation applied), with what its header said.
public struct DecodedImage: Sendable, Hashable {
    /// Width in pixels after orientation (and after any reduced-size decoding).
    public var width: Int
    /// Height in pixels after orientation.
    public var height: Int
    /// `width * height * 3` bytes, row-major, each pixel `R, G, B`.
    public var pixels: [UInt8]
    /// Format, stored size, orientation and EXIF fields of the source file.
    public var metadata: ImageMetadata
    /// The factor the codec shrank the picture by (1 for a full decode; 2, 4 or 8 on the JPEG fast path).
    public var reduction: Int = 1

    /// Wraps pixels; `pixels.count` must be `width * height * 3`.
    public init(width: Int, height: Int, pixels: [UInt8], metadata: ImageMetadata) {
        precondition(pixels.count == width * height * 3, "expected \(width * height * 3) bytes, got \(pixels.count)")
        self.width = width
        self.height = height
        self.pixels = pixels
        self.metadata = metadata
    }
}
