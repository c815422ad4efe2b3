import Foundation

/// What a media file is, read from its headers without decoding pictures.
public enum MediaInfo: Sendable, Hashable {
    case image(ImageMetadata)
    case video(VideoInfo)
}

/// Tells images from videos by content and reads their metadata.
///
/// ```swift
/// switch try MediaProbe().probe(contentsOf: url) {
/// case .image(let metadata): print(metadata.width, metadata.dateTaken ?? "-")
/// case .video(let info): print(info.duration ?? 0, info.codec)
/// }
/// ```
public struct MediaProbe: Sendable {
    /// Reads still images (its pixel limit and settings apply).
    public var imageDecoder = ImageDecoder()
    /// Reads videos.
    public var videoDecoder = VideoDecoder()

    /// A probe with default decoders.
    public init() {}

    /// Probes the file at `url`, as `MediaFormat.detect` classifies its first bytes: a still image's
    /// header and EXIF block, or a video's streams.
    ///
    /// - Throws: `MediaError` naming the file: `.notAnImage` when it is neither a picture nor a video
    ///   container Loupe reads, `.unsupportedFormat` for a recognised picture format that is not decoded
    ///   (HEIC), `.notAVideo` for a container without video (audio only), or what the decoder raised.
    public func probe(contentsOf url: URL) throws -> MediaInfo {
        let head = try MediaFormat.head(of: url)
        switch MediaFormat.detect(head) {
        case .image:
            return .image(try imageDecoder.metadata(contentsOf: url))
        case .video:
            return .video(try videoDecoder.probe(contentsOf: url))
        case .unsupported(let name):
            throw MediaError(code: .unsupportedFormat, message: "\(name) pictures are not decoded", path: url.path)
        case nil:
            guard !head.isEmpty else { throw MediaError(code: .emptyFile, message: "the file is empty", path: url.path) }
            let first = head.prefix(8).map { String(format: "%02x", $0) }.joined(separator: " ")
            throw MediaError(code: .notAnImage, message: "neither a picture nor a video Loupe reads (first bytes: \(first))",
                             path: url.path)
        }
    }
}
