import CFFmpeg

/// The one place where FFmpeg return codes become `MediaError`s.
///
/// Every libav* call that returns an `int` status goes through `check`, so the mapping from
/// FFmpeg's codes to Loupe's error codes lives in one table instead of scattered `if ret < 0` tests.
enum FFmpegResult {
    /// What Loupe was doing when FFmpeg failed, used to pick the error code for ambiguous statuses.
    enum Stage {
        case open, decode, encode, scale, allocate
    }

    /// Returns `status` when it is not negative, else throws the matching `MediaError`.
    @discardableResult
    static func check(_ status: Int32, _ operation: String, stage: Stage, path: String?) throws -> Int32 {
        guard status < 0 else { return status }
        throw error(status, operation, stage: stage, path: path)
    }

    /// Returns `pointer` when it is not nil, else throws an allocation failure.
    static func allocated<T>(_ pointer: T?, _ what: String, path: String? = nil) throws -> T {
        guard let pointer else {
            throw MediaError(code: .codecFailure, message: "FFmpeg could not allocate \(what)", path: path)
        }
        return pointer
    }

    /// The `MediaError` for a negative FFmpeg status.
    static func error(_ status: Int32, _ operation: String, stage: Stage, path: String?) -> MediaError {
        let message = "\(operation): \(text(of: status))"
        let code: MediaError.Code
        switch status {
        case loupe_averror_eof():
            code = stage == .encode ? .codecFailure : .truncated
        case loupe_averror_invaliddata():
            code = stage == .open ? .notAnImage : .corrupt
        case loupe_averror_patchwelcome(), loupe_averror_decoder_not_found(), loupe_averror_encoder_not_found(),
            loupe_averror_demuxer_not_found(), loupe_averror_stream_not_found():
            code = .unsupportedFormat
        case loupe_averror_enomem():
            code = .codecFailure
        default:
            code = stage == .decode ? .corrupt : .codecFailure
        }
        return MediaError(code: code, message: message, path: path)
    }

    /// FFmpeg's own text for a status (what `av_err2str` prints).
    static func text(of status: Int32) -> String {
        var buffer = [CChar](repeating: 0, count: 128)
        loupe_av_strerror(status, &buffer, buffer.count)
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}

/// Keeps FFmpeg from printing to stderr: problems reach the caller as `MediaError`s.
enum FFmpegLogging {
    static let silenced: Void = { loupe_av_quiet() }()
}
