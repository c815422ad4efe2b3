import CFFmpeg
import Foundation

/// Writes RGB8 frames as a video file (container from the extension: `.mp4`, `.mkv`, `.mov`, ...),
/// with H.264 (libx264) when the FFmpeg build has it, else MPEG-4 Part 2.
///
/// Loupe uses it to make test videos with known content; it is not a general transcoder.
///
/// ```swift
/// let writer = try VideoWriter(url: url, width: 320, height: 240, framesPerSecond: 30)
/// for frame in frames { try writer.append(pixels: frame) }
/// try writer.finish()
/// ```
public final class VideoWriter {
    /// Encoder settings.
    public struct Configuration: Sendable {
        /// Encoders to try, in order.
        public var codecs = ["libx264", "mpeg4"]
        /// Frames between keyframes.
        public var keyframeInterval = 60
        /// Private encoder options, e.g. `["preset": "ultrafast"]` for libx264.
        public var options: [String: String] = ["preset": "veryfast"]
        /// Clockwise rotation recorded in the stream's display matrix (0, 90, 180, 270): the
        /// frames are stored as given and players (and `VideoDecoder`) turn them by this much.
        public var rotation = 0
        /// Target bit rate in bits per second (0: the encoder's default quality).
        public var bitRate = 0
        /// Tag and convert the video as BT.709 (HD) rather than BT.601 YCbCr.
        public var bt709 = false
        /// Container metadata, e.g. `["creation_time": "2024-06-01T12:00:00.000000Z"]`.
        public var metadata: [String: String] = [:]

        /// The defaults: H.264 (else MPEG-4), a keyframe every 60 frames, preset veryfast, no rotation.
        public init() {}
    }

    private let output: OutputContext
    private let encoder: CodecContext
    private let stream: UnsafeMutablePointer<AVStream>
    private let frame: Frame
    private let scaler: ScaleContext
    private let width: Int
    private let height: Int
    private var nextPTS: Int64 = 0
    private var finished = false

    /// The codec actually used (`libx264` or `mpeg4`).
    public let codecName: String

    /// Creates the file and writes the container header.
    public init(url: URL, width: Int, height: Int, framesPerSecond: Int, configuration: Configuration = Configuration()) throws {
        precondition(width > 0 && height > 0 && width % 2 == 0 && height % 2 == 0, "video sizes must be even")
        self.width = width
        self.height = height
        output = try OutputContext(path: url.path)
        guard let name = configuration.codecs.first(where: { avcodec_find_encoder_by_name($0) != nil }) else {
            throw MediaError(code: .unsupportedFormat, message: "no video encoder among \(configuration.codecs)", path: url.path)
        }
        codecName = name
        encoder = try CodecContext.encoder(named: name, path: url.path)
        let c = encoder.pointer
        c.pointee.width = Int32(width)
        c.pointee.height = Int32(height)
        c.pointee.pix_fmt = AV_PIX_FMT_YUV420P
        c.pointee.time_base = AVRational(num: 1, den: Int32(framesPerSecond))
        c.pointee.framerate = AVRational(num: Int32(framesPerSecond), den: 1)
        c.pointee.gop_size = Int32(configuration.keyframeInterval)
        if configuration.bt709 {
            c.pointee.colorspace = AVCOL_SPC_BT709
            c.pointee.color_primaries = AVCOL_PRI_BT709
            c.pointee.color_trc = AVCOL_TRC_BT709
        }
        c.pointee.color_range = AVCOL_RANGE_MPEG
        c.pointee.bit_rate = Int64(configuration.bitRate)
        if name == "mpeg4" && configuration.bitRate == 0 {
            c.pointee.flags |= AV_CODEC_FLAG_QSCALE
            c.pointee.global_quality = 3 * FF_QP2LAMBDA
        }
        if output.pointer.pointee.oformat.pointee.flags & AVFMT_GLOBALHEADER != 0 {
            c.pointee.flags |= AV_CODEC_FLAG_GLOBAL_HEADER
        }
        for (key, value) in configuration.options where name == "libx264" {
            _ = loupe_set_option(c.pointee.priv_data, key, value)
        }
        try encoder.open(stage: .encode)

        stream = try FFmpegResult.allocated(avformat_new_stream(output.pointer, nil), "a stream", path: url.path)
        try FFmpegResult.check(
            avcodec_parameters_from_context(stream.pointee.codecpar, c), "configuring the stream", stage: .encode,
            path: url.path)
        stream.pointee.time_base = c.pointee.time_base
        if configuration.rotation % 360 != 0 {
            guard let matrix = av_stream_new_side_data(stream, AV_PKT_DATA_DISPLAYMATRIX, 9 * 4) else {
                throw MediaError(code: .codecFailure, message: "cannot attach a display matrix", path: url.path)
            }
            // `av_display_rotation_set` takes the clockwise angle (`av_display_rotation_get` reports
            // it counter-clockwise: a phone's portrait video reads back as -90).
            matrix.withMemoryRebound(to: Int32.self, capacity: 9) {
                av_display_rotation_set($0, Double(configuration.rotation))
            }
        }
        for (key, value) in configuration.metadata {
            try FFmpegResult.check(
                av_dict_set(&output.pointer.pointee.metadata, key, value, 0), "setting metadata", stage: .encode,
                path: url.path)
        }
        try output.writeHeader()

        frame = try Frame()
        frame.pointer.pointee.width = Int32(width)
        frame.pointer.pointee.height = Int32(height)
        frame.pointer.pointee.format = AV_PIX_FMT_YUV420P.rawValue
        try FFmpegResult.check(av_frame_get_buffer(frame.pointer, 0), "allocating a frame", stage: .allocate, path: url.path)
        scaler = try ScaleContext(
            from: (width, height, AV_PIX_FMT_RGB24), to: (width, height, AV_PIX_FMT_YUV420P), path: url.path)
        if configuration.bt709 { scaler.useOutputMatrix(SWS_CS_ITU709) }
    }

    /// Encodes one frame of `width * height * 3` RGB bytes.
    public func append(pixels: [UInt8]) throws {
        precondition(pixels.count == width * height * 3, "expected \(width * height * 3) bytes")
        precondition(!finished, "append after finish")
        try FFmpegResult.check(av_frame_make_writable(frame.pointer), "reusing a frame", stage: .encode, path: output.path)
        scaler.scale(packedRGB: pixels, into: frame)
        frame.pointer.pointee.pts = nextPTS
        nextPTS += 1
        try send(frame)
    }

    /// Flushes the encoder and writes the trailer.
    public func finish() throws {
        guard !finished else { return }
        finished = true
        try send(nil)
        try output.finish()
    }

    private func send(_ frame: Frame?) throws {
        try FFmpegResult.check(avcodec_send_frame(encoder.pointer, frame?.pointer), "encoding", stage: .encode, path: output.path)
        let packet = try Packet()
        while true {
            let status = avcodec_receive_packet(encoder.pointer, packet.pointer)
            if status == loupe_averror_eagain() || status == loupe_averror_eof() { return }
            try FFmpegResult.check(status, "encoding", stage: .encode, path: output.path)
            // Each frame lasts one tick of the encoder's time base; without it the container would
            // end at the last frame's start, one frame short.
            if packet.pointer.pointee.duration == 0 { packet.pointer.pointee.duration = 1 }
            av_packet_rescale_ts(packet.pointer, encoder.pointer.pointee.time_base, stream.pointee.time_base)
            packet.pointer.pointee.stream_index = stream.pointee.index
            try output.write(packet)
        }
    }
}
