/// An error raised while reading or decoding a media file, naming the file when there is one.
///
/// ```swift
/// do { _ = try PPMDecoder.decode(contentsOf: url) }
/// catch let error as MediaError where error.code == .truncated { ... }
/// ```
public struct MediaError: Error, CustomStringConvertible, Sendable {
    /// What kind of problem this is. New codes may be added.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        let name: String
        /// The code's name, as printed in messages.
        public var description: String { name }

        /// The file could not be read.
        public static let unreadable = Code(name: "unreadable file")
        /// The file has no bytes at all.
        public static let emptyFile = Code(name: "empty file")
        /// The file ends before the data its header announces.
        public static let truncated = Code(name: "truncated")
        /// The bytes are not an image this decoder knows.
        public static let notAnImage = Code(name: "not an image")
        /// A known format, but a variant that is not supported.
        public static let unsupportedFormat = Code(name: "unsupported format")
        /// The image has more pixels than the decoder is allowed to allocate.
        public static let tooManyPixels = Code(name: "too many pixels")
        /// The data is damaged: the codec rejected it part-way.
        public static let corrupt = Code(name: "corrupt data")
        /// The file holds no video stream (asked for video frames).
        public static let notAVideo = Code(name: "not a video")
        /// FFmpeg failed for a reason unrelated to the input's content (memory, a missing codec setting).
        public static let codecFailure = Code(name: "codec failure")
        /// A setting or argument is out of range (a time, a rate, a size), before any file is read.
        public static let invalidArgument = Code(name: "invalid argument")
    }

    /// What kind of problem this is.
    public var code: Code
    /// A human-readable explanation.
    public var message: String
    /// The file the problem is about, when there is one.
    public var path: String?

    /// An error of kind `code`, explained by `message`, about the file at `path`.
    public init(code: Code, message: String, path: String? = nil) {
        self.code = code
        self.message = message
        self.path = path
    }

    /// `path: code: message`, the line the CLI prints.
    public var description: String {
        if let path { return "\(path): \(code): \(message)" }
        return "\(code): \(message)"
    }
}
