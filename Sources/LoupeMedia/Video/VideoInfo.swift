/// What a video file's container says about its main video stream.
public struct VideoInfo: Sendable, Hashable, Encodable {
    /// The container format (FFmpeg's demuxer name, e.g. `mov,mp4,m4a,3gp,3g2,mj2`, `matroska,webm`).
    public var container: String
    /// The video codec's short name (`h264`, `hevc`, `vp9`, `mpeg4`, ...).
    public var codec: String
    /// Stored width in pixels.
    public var storedWidth: Int
    /// Stored height in pixels.
    public var storedHeight: Int
    /// Clockwise rotation that makes the picture upright: 0, 90, 180 or 270 (from the display matrix).
    public var rotation: Int
    /// Duration in seconds, when known.
    public var duration: Double?
    /// Average frame rate in frames per second, when known.
    public var frameRate: Double?
    /// The number of frames, when the container records it.
    public var frameCount: Int?
    /// The container's `creation_time` tag (ISO 8601), when present.
    public var creationTime: String?

    /// Width as displayed (after rotation).
    public var width: Int { rotation % 180 == 0 ? storedWidth : storedHeight }
    /// Height as displayed (after rotation).
    public var height: Int { rotation % 180 == 0 ? storedHeight : storedWidth }

    /// The EXIF-style orientation equivalent to `rotation` (1, 6, 3 or 8).
    var orientation: Int {
        switch rotation {
        case 90: 6
        case 180: 3
        case 270: 8
        default: 1
        }
    }
}
