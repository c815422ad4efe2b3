import CFFmpeg

/// Owns an `AVFormatContext` for writing a file (and its `AVIOContext`), closing both when released.
final class OutputContext {
    let pointer: UnsafeMutablePointer<AVFormatContext>
    let path: String
    private var isOpen = false

    /// Allocates a muxer chosen from `path`'s extension and opens the file.
    init(path: String) throws {
        _ = FFmpegLogging.silenced
        var context: UnsafeMutablePointer<AVFormatContext>?
        try FFmpegResult.check(
            avformat_alloc_output_context2(&context, nil, nil, path), "choosing a container for the extension",
            stage: .encode, path: path)
        pointer = context!
        self.path = path
        let status = avio_open(&pointer.pointee.pb, path, AVIO_FLAG_WRITE)
        if status < 0 {
            avformat_free_context(pointer)
            throw FFmpegResult.error(status, "creating the file", stage: .encode, path: path)
        }
        isOpen = true
    }

    deinit {
        if isOpen { avio_closep(&pointer.pointee.pb) }
        avformat_free_context(pointer)
    }

    func writeHeader() throws {
        try FFmpegResult.check(avformat_write_header(pointer, nil), "writing the header", stage: .encode, path: path)
    }

    /// Writes a packet (taking its reference), interleaving by timestamp.
    func write(_ packet: Packet) throws {
        try FFmpegResult.check(
            av_interleaved_write_frame(pointer, packet.pointer), "writing a packet", stage: .encode, path: path)
    }

    /// Writes the trailer and closes the file.
    func finish() throws {
        try FFmpegResult.check(av_write_trailer(pointer), "writing the trailer", stage: .encode, path: path)
        avio_closep(&pointer.pointee.pb)
        isOpen = false
    }
}
