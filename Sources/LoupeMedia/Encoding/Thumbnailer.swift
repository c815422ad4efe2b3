import Foundation

/// Makes small previews: the picture shrunk so its longest side is at most `longestSide`, encoded.
///
/// ```swift
/// let jpeg = try Thumbnailer(longestSide: 256).thumbnail(of: image, as: .jpeg(quality: 85))
/// ```
public struct Thumbnailer: Sendable {
    /// The longest side of a thumbnail in pixels.
    public var longestSide: Int

    /// A thumbnailer for pictures at most `longestSide` pixels on their longer side.
    public init(longestSide: Int = 256) {
        precondition(longestSide > 0, "thumbnail side must be positive")
        self.longestSide = longestSide
    }

    /// The shrunk picture (unchanged when it already fits).
    public func thumbnail(of image: DecodedImage) throws -> DecodedImage {
        let size = ImageResizer.fitting(width: image.width, height: image.height, longestSide: longestSide)
        return try ImageResizer.resize(image, width: size.width, height: size.height)
    }

    /// The shrunk picture encoded as `format` (JPEG, WebP or PNG are the usual choices).
    public func thumbnail(of image: DecodedImage, as format: ImageEncoder.Format) throws -> Data {
        try ImageEncoder.encode(thumbnail(of: image), as: format)
    }

    /// Decodes the file at `url` (JPEGs at reduced size when that is enough) and returns its thumbnail.
    public func thumbnail(contentsOf url: URL, as format: ImageEncoder.Format) throws -> Data {
        var decoder = ImageDecoder()
        decoder.configuration.minimumShortSide = longestSide
        return try thumbnail(of: decoder.decode(contentsOf: url), as: format)
    }
}
