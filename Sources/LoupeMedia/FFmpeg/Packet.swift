import CFFmpeg

/// Owns an `AVPacket` and frees it when released.
final class Packet {
    let pointer: UnsafeMutablePointer<AVPacket>

    init() throws {
        pointer = try FFmpegResult.allocated(av_packet_alloc(), "a packet")
    }

    /// A packet holding a copy of `bytes`, padded as decoders require.
    convenience init(copying bytes: UnsafeRawBufferPointer, path: String?) throws {
        // FFmpeg sizes packets with an int (and adds padding); still images that large are refused.
        guard bytes.count <= Int(Int32.max) - 1024 else {
            throw MediaError(code: .unsupportedFormat, message: "files over 2 GB are not decoded as images", path: path)
        }
        try self.init()
        try FFmpegResult.check(av_new_packet(pointer, Int32(bytes.count)), "allocating a packet", stage: .allocate, path: path)
        if let base = bytes.baseAddress, bytes.count > 0 {
            pointer.pointee.data.update(from: base.assumingMemoryBound(to: UInt8.self), count: bytes.count)
        }
    }

    deinit {
        var packet: UnsafeMutablePointer<AVPacket>? = pointer
        av_packet_free(&packet)
    }

    func unreference() { av_packet_unref(pointer) }
}
