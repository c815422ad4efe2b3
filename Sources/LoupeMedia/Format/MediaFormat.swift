import Foundation

/// What a file is, told from its first bytes (never its name) by the rules the decoders themselves use:
/// `.image` exactly when `ImageDecoder` reads it, `.video` for the containers `VideoDecoder` opens.
/// The indexer, the server's upload check, URL downloads and `loupe probe` all ask this one place.
///
/// ```swift
/// switch try MediaFormat.detect(contentsOf: url) {
/// case .image(let format): print("a \(format) picture")
/// case .video(let container): print("a video in \(container)")
/// case .unsupported(let name): print("\(name): recognised, but not decoded")
/// case nil: print("not media")
/// }
/// ```
public enum MediaFormat: Sendable, Hashable, CustomStringConvertible {
    /// A still image `ImageDecoder` decodes.
    case image(ImageFormat)
    /// A video container `VideoDecoder` opens.
    case video(VideoContainer)
    /// A picture format recognised but not decoded (HEIC, AVIF, JPEG XL, ...), named for messages.
    case unsupported(String)

    /// The bytes of a file's beginning that detection reads (the longest signature test needs 512).
    public static let headerSize = 512

    /// The format's short name: `jpeg`, `qoi`, `mp4`, `HEIC`.
    public var description: String {
        switch self {
        case .image(let format): format.name
        case .video(let container): container.name
        case .unsupported(let name): name
        }
    }

    /// What `head`, the first bytes of a file (at least `headerSize` of them when the file is that
    /// long), holds; nil when it is neither an image nor a video.
    public static func detect(_ head: Data) -> MediaFormat? {
        let bytes = [UInt8](head.prefix(headerSize))
        if let format = bytes.withUnsafeBytes({ ImageFormat.sniff($0) }) { return .image(format) }
        if let name = unsupportedPicture(bytes) { return .unsupported(name) }
        if let container = VideoContainer.detect(bytes) { return .video(container) }
        return nil
    }

    /// What the file at `url` holds, from its first `headerSize` bytes; nil when it is neither an image
    /// nor a video (an empty file included).
    ///
    /// - Throws: `MediaError` `.unreadable` naming the file when it cannot be opened or read.
    public static func detect(contentsOf url: URL) throws -> MediaFormat? {
        detect(try head(of: url))
    }

    /// The first `headerSize` bytes of the file at `url` (fewer when it is shorter).
    static func head(of url: URL) throws -> Data {
        do {
            let handle = try FileHandle(forReadingFrom: url)
            defer { try? handle.close() }
            return try handle.read(upToCount: headerSize) ?? Data()
        } catch {
            throw MediaError(code: .unreadable, message: error.localizedDescription, path: url.path)
        }
    }

    /// The name of a picture format with a signature that no decoder here reads.
    private static func unsupportedPicture(_ b: [UInt8]) -> String? {
        func starts(_ prefix: [UInt8], at offset: Int = 0) -> Bool {
            b.count >= offset + prefix.count && Array(b[offset..<offset + prefix.count]) == prefix
        }
        if starts(Array("ftyp".utf8), at: 4), b.count >= 12 {
            let brand = String(decoding: b[8..<12], as: UTF8.self)
            if ["avif", "avis"].contains(brand) { return "AVIF" }
            if ["heic", "heix", "heim", "heis", "hevc", "hevx", "mif1", "msf1"].contains(brand) { return "HEIC" }
        }
        if starts([0xFF, 0x0A]) || starts([0x00, 0x00, 0x00, 0x0C, 0x4A, 0x58, 0x4C, 0x20, 0x0D, 0x0A, 0x87, 0x0A]) {
            return "JPEG XL"
        }
        if starts(Array("8BPS".utf8)) { return "Photoshop" }
        // Netpbm's text and float variants (P1-P4, PF, Pf, P7); ImageDecoder reads binary P5 and P6.
        if b.count >= 3, b[0] == UInt8(ascii: "P"), Array("1234Ff7".utf8).contains(b[1]),
            (0x09...0x0D).contains(b[2]) || b[2] == 0x20
        {
            return "text or float Netpbm"
        }
        return nil
    }
}

/// A video container format, as recognised from a file's first bytes.
public struct VideoContainer: Hashable, Sendable, CustomStringConvertible {
    /// Short name: `mp4`, `matroska`, `avi`, `flv`, `mpeg-ps`, `mpeg-ts`, `ogg`, `asf`, `mpeg-video`.
    public let name: String

    /// The short name.
    public var description: String { name }

    /// ISO base media and QuickTime: MP4, MOV, M4V, 3GP.
    public static let mp4 = VideoContainer(name: "mp4")
    /// Matroska and WebM.
    public static let matroska = VideoContainer(name: "matroska")
    /// AVI (RIFF).
    public static let avi = VideoContainer(name: "avi")
    /// Flash video.
    public static let flv = VideoContainer(name: "flv")
    /// MPEG program stream (`.mpg`, `.vob`).
    public static let mpegProgramStream = VideoContainer(name: "mpeg-ps")
    /// MPEG transport stream (`.ts`, `.m2ts`).
    public static let mpegTransportStream = VideoContainer(name: "mpeg-ts")
    /// Ogg with a Theora stream.
    public static let ogg = VideoContainer(name: "ogg")
    /// ASF (`.wmv`).
    public static let asf = VideoContainer(name: "asf")
    /// A bare MPEG-1/2 video stream (`.m1v`, `.m2v`).
    public static let mpegVideo = VideoContainer(name: "mpeg-video")

    /// The container whose signature starts `b`, or nil. Audio-only variants (M4A, Ogg Vorbis or Opus,
    /// WAV) are not videos.
    static func detect(_ b: [UInt8]) -> VideoContainer? {
        func starts(_ prefix: [UInt8], at offset: Int = 0) -> Bool {
            b.count >= offset + prefix.count && Array(b[offset..<offset + prefix.count]) == prefix
        }
        func ascii(_ text: String, at offset: Int = 0) -> Bool { starts(Array(text.utf8), at: offset) }
        if ascii("ftyp", at: 4) {
            let brand = b.count >= 12 ? String(decoding: b[8..<12], as: UTF8.self) : ""
            return ["M4A ", "M4B ", "M4P ", "F4A ", "F4B "].contains(brand) ? nil : .mp4
        }
        if ascii("moov", at: 4) || ascii("mdat", at: 4) || ascii("wide", at: 4) { return .mp4 }
        if starts([0x1A, 0x45, 0xDF, 0xA3]) { return .matroska }
        if ascii("RIFF") && ascii("AVI ", at: 8) { return .avi }
        if ascii("FLV") && b.count >= 4 && b[3] == 1 { return .flv }
        if starts([0x00, 0x00, 0x01, 0xBA]) { return .mpegProgramStream }
        if starts([0x00, 0x00, 0x01, 0xB3]) { return .mpegVideo }
        if starts([0x30, 0x26, 0xB2, 0x75, 0x8E, 0x66, 0xCF, 0x11, 0xA6, 0xD9, 0x00, 0xAA, 0x00, 0x62, 0xCE, 0x6C]) {
            return .asf
        }
        // Ogg: the first page carries the first stream's header; Theora's starts "\x80theora".
        if ascii("OggS"), b.count > 27 {
            let bodyStart = 27 + Int(b[26])
            return starts([0x80] + Array("theora".utf8), at: bodyStart) ? .ogg : nil
        }
        // Transport streams have only a one-byte sync mark, so three packets' worth must agree
        // (188-byte packets, or 192 with the 4-byte time code of .m2ts).
        if [0, 188, 376].allSatisfy({ b.count > $0 && b[$0] == 0x47 }) { return .mpegTransportStream }
        if [4, 196, 388].allSatisfy({ b.count > $0 && b[$0] == 0x47 }) { return .mpegTransportStream }
        return nil
    }
}
