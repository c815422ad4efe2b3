import CFFmpeg

/// Resizes RGB8 pixels with swscale (area averaging when shrinking, bicubic when enlarging).
public enum ImageResizer {
    /// Returns `image` scaled to `width` x `height` (metadata kept).
    public static func resize(_ image: DecodedImage, width: Int, height: Int) throws -> DecodedImage {
        guard width != image.width || height != image.height else { return image }
        let pixels = try resize(pixels: image.pixels, width: image.width, height: image.height, toWidth: width, height: height)
        return DecodedImage(width: width, height: height, pixels: pixels, metadata: image.metadata)
    }

    /// Scales `width * height * 3` RGB bytes to `newWidth * newHeight * 3`.
    public static func resize(pixels: [UInt8], width: Int, height: Int, toWidth newWidth: Int, height newHeight: Int) throws
        -> [UInt8]
    {
        precondition(pixels.count == width * height * 3 && newWidth > 0 && newHeight > 0, "invalid resize")
        let shrinking = newWidth <= width && newHeight <= height
        let scaler = try ScaleContext(
            from: (width, height, AV_PIX_FMT_RGB24), to: (newWidth, newHeight, AV_PIX_FMT_RGB24),
            flags: (shrinking ? SWS_AREA : SWS_BICUBIC) | SWS_ACCURATE_RND, path: nil)
        let count = newWidth * newHeight * 3
        return pixels.withUnsafeBufferPointer { source in
            [UInt8](unsafeUninitializedCapacity: count) { out, initialized in
                scaler.scale(packedRGB: source.baseAddress!, into: out.baseAddress!)
                initialized = count
            }
        }
    }

    /// The size that fits `width` x `height` inside a `side` x `side` box, keeping the aspect ratio
    /// (never enlarging, at least 1 pixel).
    public static func fitting(width: Int, height: Int, longestSide side: Int) -> (width: Int, height: Int) {
        let longest = max(width, height)
        guard longest > side else { return (width, height) }
        let scale = Double(side) / Double(longest)
        return (max(1, Int((Double(width) * scale).rounded())), max(1, Int((Double(height) * scale).rounded())))
    }
}
