/// An 8-bit RGB image: interleaved `R, G, B` bytes, row-major, no row padding.
///
/// ```swift
/// let image = try RGBImage(width: 2, height: 1, pixels: [255, 0, 0, 0, 0, 255])
/// ```
public struct RGBImage: Sendable, Hashable {
    /// Width in pixels (at least 1).
    public let width: Int
    /// Height in pixels (at least 1).
    public let height: Int
    /// `width * height * 3` bytes, row after row, each pixel `R, G, B`.
    public let pixels: [UInt8]

    /// Creates an image after checking that `pixels` holds exactly `width * height * 3` bytes.
    ///
    /// - Throws: `CLIPError` with code `.invalidImage` when a dimension is not positive or the
    ///   byte count does not match.
    public init(width: Int, height: Int, pixels: [UInt8]) throws {
        guard width > 0, height > 0 else {
            throw CLIPError(.invalidImage, "image size \(width)x\(height) must be at least 1x1")
        }
        let (area, overflowA) = width.multipliedReportingOverflow(by: height)
        let (expected, overflowB) = area.multipliedReportingOverflow(by: 3)
        guard !overflowA, !overflowB, pixels.count == expected else {
            throw CLIPError(
                .invalidImage,
                "a \(width)x\(height) RGB image needs \(width)x\(height)x3 bytes, got \(pixels.count)"
            )
        }
        self.init(uncheckedWidth: width, height: height, pixels: pixels)
    }

    /// Creates an image whose invariants the caller has already established.
    init(uncheckedWidth width: Int, height: Int, pixels: [UInt8]) {
        assert(width > 0 && height > 0 && pixels.count == width * height * 3)
        self.width = width
        self.height = height
        self.pixels = pixels
    }

    /// Bytes per row (`width * 3`).
    public var rowBytes: Int { width * 3 }

    /// The `R, G, B` bytes of the pixel at column `x`, row `y`.
    public subscript(x: Int, y: Int) -> (red: UInt8, green: UInt8, blue: UInt8) {
        precondition(x >= 0 && x < width && y >= 0 && y < height, "pixel (\(x), \(y)) is outside the image")
        let i = (y * width + x) * 3
        return (pixels[i], pixels[i + 1], pixels[i + 2])
    }
}
