import CFFmpeg

/// Owns an `AVFormatContext` opened for reading a file, and closes it when released.
final class InputContext {
    let pointer: UnsafeMutablePointer<AVFormatContext>
    let path: String

    /// When `avformat_find_stream_info` may be skipped: it decodes a few frames (some 50 ms for 1080p
    /// H.264), which a header that already describes the video makes unnecessary.
    enum StreamInfo {
        /// Always read it.
        case read
        /// Skip it when the header names the codec and picture size of this stream (a second reader of a
        /// file whose streams are already known).
        case skipIfHeaderDescribes(stream: Int32)
        /// Skip it for MP4/MOV, whose header (sample tables) also gives frame rate, duration and frame
        /// count, when it names the best video stream's codec, size and rate.
        case skipIfMP4HeaderDescribesVideo
    }

    /// Opens `path` (the container is recognised from its content) and reads stream information
    /// (unless `streamInfo` lets it skip that).
    init(path: String, streamInfo: StreamInfo = .read) throws {
        _ = FFmpegLogging.silenced
        var context: UnsafeMutablePointer<AVFormatContext>?
        try FFmpegResult.check(avformat_open_input(&context, path, nil, nil), "opening the file", stage: .open, path: path)
        pointer = context!
        self.path = path
        if headerSuffices(streamInfo) { return }
        // Reading stream info decodes a few frames for codecs whose headers leave parameters open.
        let status = avformat_find_stream_info(pointer, nil)
        if status < 0 {
            var owned: UnsafeMutablePointer<AVFormatContext>? = pointer
            avformat_close_input(&owned)
            throw FFmpegResult.error(status, "reading stream information", stage: .open, path: path)
        }
    }

    private func headerSuffices(_ policy: StreamInfo) -> Bool {
        func described(_ stream: UnsafeMutablePointer<AVStream>?) -> Bool {
            guard let parameters = stream?.pointee.codecpar.pointee else { return false }
            return parameters.codec_id != AV_CODEC_ID_NONE && parameters.width > 0 && parameters.height > 0
        }
        switch policy {
        case .read:
            return false
        case .skipIfHeaderDescribes(let index):
            return index >= 0 && index < pointer.pointee.nb_streams && described(pointer.pointee.streams[Int(index)])
        case .skipIfMP4HeaderDescribesVideo:
            guard String(cString: pointer.pointee.iformat.pointee.name).hasPrefix("mov,"), let stream = bestVideoStream()
            else { return false }
            return described(stream) && stream.pointee.r_frame_rate.num > 0 && stream.pointee.r_frame_rate.den > 0
                && stream.pointee.avg_frame_rate.num > 0 && stream.pointee.avg_frame_rate.den > 0
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
