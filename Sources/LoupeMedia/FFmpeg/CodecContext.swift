import CFFmpeg

/// Owns an `AVCodecContext` (a decoder or an encoder) and frees it when released.
final class CodecContext {
    let pointer: UnsafeMutablePointer<AVCodecContext>
    let path: String?
    /// Set when `sendTolerantly` or `receiveTolerantly` met damaged data since the last `flush()`:
    /// a frame sent may then never come out.
    private(set) var damaged = false

    /// Allocates a context for `codec` without opening it, so options can be set first.
    init(codec: UnsafePointer<AVCodec>, path: String?) throws {
        _ = FFmpegLogging.silenced
        pointer = try FFmpegResult.allocated(avcodec_alloc_context3(codec), "a codec context", path: path)
        self.path = path
    }

    /// A decoder context for `id`.
    static func decoder(for id: AVCodecID, path: String?) throws -> CodecContext {
        guard let codec = avcodec_find_decoder(id) else {
            throw MediaError(
                code: .unsupportedFormat, message: "this FFmpeg build has no \(String(cString: avcodec_get_name(id))) decoder",
                path: path)
        }
        return try CodecContext(codec: codec, path: path)
    }

    /// An encoder context for the encoder named `name` (e.g. `"png"`, `"libwebp"`).
    static func encoder(named name: String, path: String?) throws -> CodecContext {
        guard let codec = avcodec_find_encoder_by_name(name) else {
            throw MediaError(code: .unsupportedFormat, message: "this FFmpeg build has no \(name) encoder", path: path)
        }
        return try CodecContext(codec: codec, path: path)
    }

    deinit {
        var context: UnsafeMutablePointer<AVCodecContext>? = pointer
        avcodec_free_context(&context)
    }

    func open(stage: FFmpegResult.Stage) throws {
        try FFmpegResult.check(avcodec_open2(pointer, nil, nil), "opening the codec", stage: stage, path: path)
    }

    /// Drops buffered frames after a seek.
    func flush() {
        avcodec_flush_buffers(pointer)
        damaged = false
    }

    /// Sends one packet (or nil to flush) and receives the first frame it yields.
    ///
    /// - Returns: false when the decoder needs more input.
    func decode(_ packet: Packet?, into frame: Frame) throws -> Bool {
        let sent = avcodec_send_packet(pointer, packet?.pointer)
        if sent != loupe_averror_eagain() && sent != loupe_averror_eof() {
            try FFmpegResult.check(sent, "decoding", stage: .decode, path: path)
        }
        return try receive(into: frame)
    }

    /// Receives the next decoded frame; false when the decoder needs more input or is drained.
    func receive(into frame: Frame) throws -> Bool {
        let status = avcodec_receive_frame(pointer, frame.pointer)
        if status == loupe_averror_eagain() || status == loupe_averror_eof() { return false }
        try FFmpegResult.check(status, "decoding", stage: .decode, path: path)
        return true
    }

    /// Sends a packet (nil to flush) the way players do: a damaged packet is dropped, and the next
    /// keyframe resynchronises the decoder.
    ///
    /// - Returns: false when the decoder rejected the packet as damaged.
    @discardableResult
    func sendTolerantly(_ packet: Packet?) -> Bool {
        let status = avcodec_send_packet(pointer, packet?.pointer)
        let accepted = status >= 0 || status == loupe_averror_eagain()
        if !accepted && status != loupe_averror_eof() { damaged = true }
        return accepted
    }

    /// Receives the next frame, treating a damaged frame like "no frame yet" so that one bad
    /// packet does not end a video; other failures throw.
    func receiveTolerantly(into frame: Frame) throws -> Bool {
        let status = avcodec_receive_frame(pointer, frame.pointer)
        if status == loupe_averror_eagain() || status == loupe_averror_eof() || status == loupe_averror_invaliddata() {
            if status == loupe_averror_invaliddata() { damaged = true }
            return false
        }
        try FFmpegResult.check(status, "decoding", stage: .decode, path: path)
        return true
    }

    /// Encodes `frame` (nil to flush) and appends every packet produced to `output`.
    func encode(_ frame: Frame?, appendingTo output: inout [UInt8]) throws {
        try FFmpegResult.check(avcodec_send_frame(pointer, frame?.pointer), "encoding", stage: .encode, path: path)
        let packet = try Packet()
        while true {
            let status = avcodec_receive_packet(pointer, packet.pointer)
            if status == loupe_averror_eagain() || status == loupe_averror_eof() { return }
            try FFmpegResult.check(status, "encoding", stage: .encode, path: path)
            output.append(contentsOf: UnsafeBufferPointer(start: packet.pointer.pointee.data, count: Int(packet.pointer.pointee.size)))
            packet.unreference()
        }
    }
}
