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

    /// Probes the file at `url`: as a still image when its bytes carry an image signature, else as a video.
    ///
    /// - Throws: `MediaError` naming the file; `.notAnImage` when it is neither a known image nor a
    ///   media container, `.notAVideo` for a container without video (audio only).
    public func probe(contentsOf url: URL) throws -> MediaInfo {
        do {
            return .image(try imageDecoder.metadata(contentsOf: url))
        } catch let error as MediaError where error.code == .notAnImage {
            do {
                return .video(try videoDecoder.probe(contentsOf: url))
            } catch let videoError as MediaError where videoError.code == .notAnImage || videoError.code == .corrupt {
                throw error
            }
        }
    }
}
