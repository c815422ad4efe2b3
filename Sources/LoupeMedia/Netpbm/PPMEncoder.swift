import Foundation

/// Writes binary PPM (`P6`, maxval 255) files, the lossless format Loupe uses for test images
/// and extracted frames.
///
/// ```swift
/// try PPMEncoder.encode(width: 2, height: 1, pixels: [255, 0, 0, 0, 0, 255]).write(to: url)
/// ```
public enum PPMEncoder {
    /// Encodes interleaved RGB8 pixels as a `P6` file.
    ///
    /// - Parameters:
    ///   - width: Width in pixels, at least 1.
    ///   - height: Height in pixels, at least 1.
    ///   - pixels: Exactly `width * height * 3` bytes, row-major `R, G, B`.
    public static func encode(width: Int, height: Int, pixels: [UInt8]) -> Data {
        precondition(width > 0 && height > 0, "PPM size \(width)x\(height) must be at least 1x1")
        precondition(pixels.count == width * height * 3, "expected \(width * height * 3) bytes, got \(pixels.count)")
        var data = Data("P6\n\(width) \(height)\n255\n".utf8)
        data.append(contentsOf: pixels)
        return data
    }

    /// Encodes an image as a `P6` file.
    public static func encode(_ image: PPMImage) -> Data {
        encode(width: image.width, height: image.height, pixels: image.pixels)
    }
}
