import Foundation
import LoupeCLIP
import LoupeMedia

/// What a cloud embedder is asked to embed: a text, or a picture already shrunk for sending.
enum RemoteInput: Sendable {
    case text(String)
    case image(RGBImage)

    /// The input's key in `RemoteEmbeddingCache` (under the model's name).
    var cacheKey: String {
        switch self {
        case .text(let text): RemoteEmbeddingCache.key(text: text)
        case .image(let image): RemoteEmbeddingCache.key(image: image)
        }
    }

    /// The picture as the JPEG a provider is sent.
    static func jpeg(_ image: RGBImage) throws -> Data {
        try ImageEncoder.encode(pixels: image.pixels, width: image.width, height: image.height, as: .jpeg(quality: 90))
    }

    /// `image` shrunk so its longest side is at most `longestSide` (pictures are sent no larger than the
    /// provider looks at them); unchanged when already small enough or when it cannot be shrunk.
    static func shrunk(_ image: RGBImage, longestSide: Int) -> RGBImage {
        guard max(image.width, image.height) > longestSide,
              let decoded = try? Thumbnailer(longestSide: longestSide).thumbnail(
                  of: DecodedImage(width: image.width, height: image.height, pixels: image.pixels,
                                   metadata: ImageMetadata(format: .ppm, storedWidth: image.width, storedHeight: image.height))),
              let shrunk = try? RGBImage(decoded)
        else { return image }
        return shrunk
    }
}
