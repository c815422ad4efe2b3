import CFFmpeg
import Foundation

/// Decodes still images of any supported format (see `ImageFormat.all`) to upright RGB8.
///
/// The format is recognised from the bytes, never the file name. The header is read first, so a
/// picture over `maxPixels` is refused before the codec allocates anything; EXIF orientation is
/// applied, and every failure is a `MediaError` naming the file.
///
/// ```swift
/// var decoder = ImageDecoder()
/// decoder.configuration.minimumShortSide = 224 * 2   // allow JPEG reduced-size decoding
/// let image = try decoder.decode(contentsOf: URL(fileURLWithPath: "IMG_0001.jpg"))
/// ```
public struct ImageDecoder: Sendable {
    /// Settings for `ImageDecoder`.
    public struct Configuration: Sendable {
        /// Pictures with more stored pixels are refused with `.tooManyPixels` (default 100 megapixels).
        public var maxPixels = 100_000_000
        /// Apply the EXIF orientation so the picture comes out upright (default true).
        public var appliesOrientation = true
        /// When set, JPEGs may be decoded at 1/2, 1/4 or 1/8 scale as long as the shorter side stays
        /// at least this long. `nil` (the default) always decodes at full size.
        public var minimumShortSide: Int?

        /// The defaults: 100-megapixel limit, orientation applied, always full-size decoding.
        public init() {}
    }

    /// The settings in use.
    public var configuration: Configuration

    /// A decoder with `configuration`.
    public init(configuration: Configuration = Configuration()) {
        self.configuration = configuration
    }

    /// Reads and decodes the file at `url`.
    ///
    /// - Throws: `MediaError` naming the file: `.unreadable`, `.emptyFile`, `.notAnImage`,
    ///   `.unsupportedFormat`, `.tooManyPixels`, `.truncated` or `.corrupt`.
    public func decode(contentsOf url: URL) throws -> DecodedImage {
        try decode(Self.read(url), path: url.path)
    }

    /// Decodes the bytes of an image file; `path` is only used in errors.
    public func decode(_ data: Data, path: String?) throws -> DecodedImage {
        guard !data.isEmpty else { throw MediaError(code: .emptyFile, message: "the file is empty", path: path) }
        return try data.withUnsafeBytes { bytes in
            guard let format = ImageFormat.sniff(bytes) else {
                throw MediaError(code: .notAnImage, message: Self.describeUnknown(bytes), path: path)
            }
            if format == .ppm { return try decodeNetpbm(data, path: path) }
            let header = try ImageHeaderReader(bytes: bytes, format: format, path: path).read()
            try checkLimit(header.metadata, path: path)
            guard header.isComplete else {
                throw MediaError(code: .truncated, message: "the \(format) data ends early (\(bytes.count) bytes)", path: path)
            }
            return try decodePixels(bytes, header: header, path: path)
        }
    }

    /// Reads only the header and EXIF block: size, format, orientation, date, camera, GPS.
    public func metadata(contentsOf url: URL) throws -> ImageMetadata {
        let data = try Self.read(url)
        guard !data.isEmpty else { throw MediaError(code: .emptyFile, message: "the file is empty", path: url.path) }
        return try data.withUnsafeBytes { bytes in
            guard let format = ImageFormat.sniff(bytes) else {
                throw MediaError(code: .notAnImage, message: Self.describeUnknown(bytes), path: url.path)
            }
            if format == .ppm {
                let image = try PPMDecoder.decode(data, path: url.path, maxPixels: configuration.maxPixels)
                return ImageMetadata(format: .ppm, storedWidth: image.width, storedHeight: image.height)
            }
            return try ImageHeaderReader(bytes: bytes, format: format, path: url.path).read().metadata
        }
    }

    /// The bytes of an image file, mapped where that is safe; a file that cannot be read is a MediaError
    /// naming it.
    public static func read(_ url: URL) throws -> Data {
        do {
            return try Data(contentsOf: url, options: .mappedIfSafe)
        } catch {
            throw MediaError(code: .unreadable, message: error.localizedDescription, path: url.path)
        }
    }

    private static func describeUnknown(_ bytes: UnsafeRawBufferPointer) -> String {
        if bytes.count >= 12, Array(bytes[4..<8]) == Array("ftyp".utf8) || Array(bytes[0..<4]) == [0x1A, 0x45, 0xDF, 0xA3] {
            return "this is a video container, not a still image"
        }
        let head = bytes.prefix(8).map { String(format: "%02x", $0) }.joined(separator: " ")
        return "no known image signature (first bytes: \(head))"
    }

    private func checkLimit(_ metadata: ImageMetadata, path: String?) throws {
        let (pixels, overflow) = metadata.storedWidth.multipliedReportingOverflow(by: metadata.storedHeight)
        guard !overflow, pixels <= configuration.maxPixels else {
            throw MediaError(
                code: .tooManyPixels,
                message: "\(metadata.storedWidth)x\(metadata.storedHeight) exceeds the limit of \(configuration.maxPixels) pixels",
                path: path)
        }
    }

    private func decodeNetpbm(_ data: Data, path: String?) throws -> DecodedImage {
        let image = try PPMDecoder.decode(data, path: path, maxPixels: configuration.maxPixels)
        let metadata = ImageMetadata(format: .ppm, storedWidth: image.width, storedHeight: image.height)
        return DecodedImage(width: image.width, height: image.height, pixels: image.pixels, metadata: metadata)
    }

    /// The JPEG `lowres` level (0...3) for a stored size: the largest that keeps the short side long enough.
    func reductionLevel(for metadata: ImageMetadata) -> Int {
        guard metadata.format == .jpeg, let needed = configuration.minimumShortSide, needed > 0 else { return 0 }
        let short = min(metadata.storedWidth, metadata.storedHeight)
        var level = 0
        // FFmpeg's lowres output is ceil(size / 2^level).
        while level < 3 && (short + (1 << (level + 1)) - 1) >> (level + 1) >= needed { level += 1 }
        return level
    }

    private func decodePixels(_ bytes: UnsafeRawBufferPointer, header: ImageHeaderReader.Header, path: String?) throws
        -> DecodedImage
    {
        let metadata = header.metadata
        let context = try CodecContext.decoder(for: metadata.format.codec, path: path)
        let level = reductionLevel(for: metadata)
        context.pointer.pointee.lowres = Int32(level)
        context.pointer.pointee.thread_count = 1
        // A second guard inside the codec, for frames larger than the container header said. FFmpeg
        // checks it against the buffer size with rows padded for SIMD, hence the slack.
        let padded = (metadata.storedWidth + 64) * (metadata.storedHeight + 16)
        context.pointer.pointee.max_pixels = Int64(max(configuration.maxPixels, padded))
        if let color = header.transparentColor {
            // FFmpeg's GIF decoder paints transparent pixels with this ARGB value.
            _ = loupe_set_option_int(context.pointer.pointee.priv_data, "trans_color", Int64(0xFF00_0000 | color))
        }
        try context.open(stage: .decode)

        let packet: Packet
        if let frame = header.firstWebPFrame {
            // The first frame of an animation, rewrapped as a still WebP: RIFF, size, WEBP, chunk.
            let chunk = UnsafeRawBufferPointer(rebasing: bytes[frame])
            let size = UInt32(4 + chunk.count)
            var still = Array("RIFF".utf8) + withUnsafeBytes(of: size.littleEndian, Array.init) + Array("WEBP".utf8)
            still += chunk
            packet = try still.withUnsafeBytes { try Packet(copying: $0, path: path) }
        } else {
            packet = try Packet(copying: bytes, path: path)
        }
        let frame = try Frame()
        var decoded = try context.decode(packet, into: frame)
        if !decoded { decoded = try context.decode(nil, into: frame) }
        guard decoded else {
            throw MediaError(code: .corrupt, message: "the \(metadata.format) decoder produced no picture", path: path)
        }
        let converted = try PixelConverter(path: path).convert(frame)
        var image = DecodedImage(width: frame.width, height: frame.height, pixels: converted, metadata: metadata)
        image.reduction = 1 << level
        if configuration.appliesOrientation && metadata.orientation != 1 {
            let upright = Orientation.apply(metadata.orientation, pixels: converted, width: frame.width, height: frame.height)
            image = DecodedImage(width: upright.width, height: upright.height, pixels: upright.pixels, metadata: metadata)
            image.reduction = 1 << level
        }
        return image
    }
}
