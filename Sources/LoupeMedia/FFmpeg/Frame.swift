import CFFmpeg

/// Owns an `AVFrame` and frees it (with its buffers) when released.
final class Frame {
    let pointer: UnsafeMutablePointer<AVFrame>

    init() throws {
        pointer = try FFmpegResult.allocated(av_frame_alloc(), "a frame")
    }

    deinit {
        var frame: UnsafeMutablePointer<AVFrame>? = pointer
        av_frame_free(&frame)
    }

    var width: Int { Int(pointer.pointee.width) }
    var height: Int { Int(pointer.pointee.height) }
    var pixelFormat: AVPixelFormat { AVPixelFormat(rawValue: pointer.pointee.format) }

    /// Drops the buffers so the frame can receive the next picture.
    func unreference() { av_frame_unref(pointer) }
}
