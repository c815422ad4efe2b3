import CFFmpeg

/// Owns an `AVFormatContext` opened for reading a file, and closes it when released.
final class InputContext {
    let pointer: UnsafeMutablePointer<AVFormatContext>
    let path: String

    /// Opens `path` (the container is recognised from its content) and reads stream information.
    ///
    /// - Parameter headerOnly: skip reading stream information (which decodes a few frames, some 50 ms
    ///   for 1080p H.264) when the container header already names the codec and picture size of
    ///   `stream`: for a second reader of a file whose streams are known.
    init(path: String, headerOnly stream: Int32? = nil) throws {
        _ = FFmpegLogging.silenced
        var context: UnsafeMutablePointer<AVFormatContext>?
        try FFmpegResult.check(avformat_open_input(&context, path, nil, nil), "opening the file", stage: .open, path: path)
        pointer = context!
        self.path = path
        if let stream, stream >= 0, stream < pointer.pointee.nb_streams, let parameters = pointer.pointee.streams[Int(stream)]?.pointee.codecpar,
            parameters.pointee.codec_id != AV_CODEC_ID_NONE, parameters.pointee.width > 0, parameters.pointee.height > 0
        {
            return
        }
        // Reading stream info decodes a few frames for codecs whose headers leave parameters open.
        let status = avformat_find_stream_info(pointer, nil)
        if status < 0 {
            var owned: UnsafeMutablePointer<AVFormatContext>? = pointer
            avformat_close_input(&owned)
            throw FFmpegResult.error(status, "reading stream information", stage: .open, path: path)
        }
    }

    deinit {
        var context: UnsafeMutablePointer<AVFormatContext>? = pointer
        avformat_close_input(&context)
    }

    /// The best video stream, or nil when there is none.
    func bestVideoStream() -> UnsafeMutablePointer<AVStream>? {
        let index = av_find_best_stream(pointer, AVMEDIA_TYPE_VIDEO, -1, -1, nil, 0)
        guard index >= 0 else { return nil }
        return pointer.pointee.streams[Int(index)]
    }

    /// Reads the next packet; false at the end of the file.
    func read(into packet: Packet) throws -> Bool {
        let status = av_read_frame(pointer, packet.pointer)
        if status == loupe_averror_eof() { return false }
        try FFmpegResult.check(status, "reading a packet", stage: .decode, path: path)
        return true
    }

    /// Seeks `stream` to the last keyframe at or before `timestamp` (in the stream's time base).
    ///
    /// - Returns: false when the demuxer cannot seek there; reading then simply goes on.
    func seek(stream: Int32, to timestamp: Int64) -> Bool {
        av_seek_frame(pointer, stream, timestamp, AVSEEK_FLAG_BACKWARD) >= 0
    }

    /// A metadata value of the container (e.g. `creation_time`).
    func metadata(_ key: String, stream: UnsafeMutablePointer<AVStream>? = nil) -> String? {
        let dictionary = stream?.pointee.metadata ?? pointer.pointee.metadata
        guard let entry = av_dict_get(dictionary, key, nil, 0), let value = entry.pointee.value else { return nil }
        return String(validatingCString: value)
    }
}
