import Foundation

/// Reads binary Netpbm images: `P6` (PPM, colour) and `P5` (PGM, grey, expanded to RGB).
///
/// Header tokens may be separated by any whitespace and `#` comments; exactly one whitespace
/// byte separates the maxval from the samples. Any maxval from 1 to 65535 is accepted for `P6`,
/// with samples scaled to 0...255 as Pillow does (`round(v / maxval * 255)`, ties to even); `P5`
/// accepts maxval 1...255 only (Pillow reads deeper grey maps as 32-bit integers, which CLIP
/// preprocessing does not use). Bytes after the image are ignored.
///
/// ```swift
/// let image = try PPMDecoder.decode(contentsOf: URL(fileURLWithPath: "cat.ppm"))
/// ```
public enum PPMDecoder {
    /// The largest image decoded by default: Pillow's decompression-bomb error threshold.
    public static let defaultMaxPixels = 2 * (1024 * 1024 * 1024 / 4 / 3)

    /// Reads and decodes the file at `url`.
    ///
    /// - Throws: `MediaError` naming the file; `.unreadable` when it cannot be read.
    public static func decode(contentsOf url: URL, maxPixels: Int = defaultMaxPixels) throws -> PPMImage {
        let data: Data
        do {
            data = try Data(contentsOf: url, options: .mappedIfSafe)
        } catch {
            throw MediaError(code: .unreadable, message: error.localizedDescription, path: url.path)
        }
        return try decode(data, path: url.path, maxPixels: maxPixels)
    }

    /// Decodes the bytes of a `P5` or `P6` file.
    ///
    /// - Parameters:
    ///   - data: The file's bytes.
    ///   - path: Where the bytes came from, reported in errors.
    ///   - maxPixels: Images with more pixels are rejected before any allocation.
    /// - Throws: `MediaError` with code `.emptyFile`, `.notAnImage` (not Netpbm, malformed header,
    ///   zero size), `.unsupportedFormat` (other Netpbm variants), `.tooManyPixels` or `.truncated`.
    public static func decode(_ data: Data, path: String?, maxPixels: Int = defaultMaxPixels) throws -> PPMImage {
        func fail(_ code: MediaError.Code, _ message: String) -> MediaError {
            MediaError(code: code, message: message, path: path)
        }
        guard !data.isEmpty else { throw fail(.emptyFile, "the file is empty") }
        return try data.withUnsafeBytes { (raw: UnsafeRawBufferPointer) -> PPMImage in
            let bytes = raw.bindMemory(to: UInt8.self)
            guard bytes.count >= 2, bytes[0] == UInt8(ascii: "P") else {
                throw fail(.notAnImage, "missing the P5/P6 signature")
            }
            let channels: Int
            switch bytes[1] {
            case UInt8(ascii: "6"): channels = 3
            case UInt8(ascii: "5"): channels = 1
            case UInt8(ascii: "1")...UInt8(ascii: "4"), UInt8(ascii: "F"), UInt8(ascii: "f"), UInt8(ascii: "7"):
                throw fail(
                    .unsupportedFormat, "Netpbm variant P\(UnicodeScalar(bytes[1])) is not supported; use P5 or P6")
            default:
                throw fail(.notAnImage, "missing the P5/P6 signature")
            }
            var header = HeaderReader(bytes: bytes, offset: 2)
            guard header.offset < bytes.count, HeaderReader.isWhitespace(bytes[header.offset]) else {
                throw fail(bytes.count == 2 ? .truncated : .notAnImage, "the signature must be followed by whitespace")
            }

            let width = try header.readNumber(named: "width", fail: fail)
            let height = try header.readNumber(named: "height", fail: fail)
            let maxval = try header.readNumber(named: "maxval", fail: fail)
            guard width > 0, height > 0 else { throw fail(.notAnImage, "image size \(width)x\(height) is empty") }
            guard (1...65535).contains(maxval) else { throw fail(.notAnImage, "maxval \(maxval) is not in 1...65535") }
            if channels == 1 && maxval > 255 {
                throw fail(.unsupportedFormat, "16-bit PGM (maxval \(maxval)) is not supported")
            }
            let (pixelCount, overflow) = width.multipliedReportingOverflow(by: height)
            guard !overflow, pixelCount <= maxPixels else {
                throw fail(.tooManyPixels, "\(width)x\(height) exceeds the limit of \(maxPixels) pixels")
            }
            // The single whitespace byte that ends the header.
            try header.skipSeparator(fail: fail)

            let sampleBytes = maxval > 255 ? 2 : 1
            let needed = pixelCount * channels * sampleBytes
            let available = bytes.count - header.offset
            guard available >= needed else {
                throw fail(.truncated, "expected \(needed) bytes of pixel data, found \(available)")
            }
            let pixels = expand(
                bytes.baseAddress! + header.offset, pixelCount: pixelCount, channels: channels,
                maxval: maxval)
            return PPMImage(width: width, height: height, pixels: pixels)
        }
    }

    /// Converts samples to RGB8, scaling when maxval is not 255 and repeating grey into R, G, B.
    private static func expand(
        _ samples: UnsafePointer<UInt8>, pixelCount: Int, channels: Int, maxval: Int
    ) -> [UInt8] {
        if maxval == 255 && channels == 3 {
            return Array(UnsafeBufferPointer(start: samples, count: pixelCount * 3))
        }
        // Pillow's PpmDecoder: min(255, round(value / maxval * 255)), Python's round (ties to even).
        let scale = (0...maxval).map { value in
            UInt8(min(255, (Double(value) / Double(maxval) * 255).rounded(.toNearestOrEven)))
        }
        let wide = maxval > 255
        return scale.withUnsafeBufferPointer { scale in
            [UInt8](unsafeUninitializedCapacity: pixelCount * 3) { out, count in
                for i in 0..<(pixelCount * channels) {
                    let value = wide ? Int(samples[2 * i]) << 8 | Int(samples[2 * i + 1]) : Int(samples[i])
                    // Samples above maxval are malformed; saturate them rather than fail.
                    let byte = scale[min(value, maxval)]
                    if channels == 3 {
                        out[i] = byte
                    } else {
                        out[3 * i] = byte
                        out[3 * i + 1] = byte
                        out[3 * i + 2] = byte
                    }
                }
                count = pixelCount * 3
            }
        }
    }
}

/// Walks the ASCII header of a Netpbm file.
private struct HeaderReader {
    let bytes: UnsafeBufferPointer<UInt8>
    var offset = 0

    static func isWhitespace(_ byte: UInt8) -> Bool {
        byte == 0x20 || (0x09...0x0D).contains(byte)
    }

    private static func isLineEnd(_ byte: UInt8) -> Bool { byte == 0x0A || byte == 0x0D }

    /// Skips whitespace and comments, then reads a decimal number of at most 10 digits.
    mutating func readNumber(
        named name: String, fail: (MediaError.Code, String) -> MediaError
    ) throws -> Int {
        while offset < bytes.count {
            let byte = bytes[offset]
            if Self.isWhitespace(byte) {
                offset += 1
            } else if byte == UInt8(ascii: "#") {
                while offset < bytes.count && !Self.isLineEnd(bytes[offset]) { offset += 1 }
            } else {
                break
            }
        }
        guard offset < bytes.count else { throw fail(.truncated, "the header ends before the \(name)") }
        var value = 0
        var digits = 0
        while offset < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[offset]) {
            value = value * 10 + Int(bytes[offset] - UInt8(ascii: "0"))
            digits += 1
            offset += 1
            guard digits <= 10 else { throw fail(.notAnImage, "the \(name) has too many digits") }
        }
        guard digits > 0 else {
            throw fail(
                .notAnImage, "expected a number for the \(name), found byte 0x\(String(bytes[offset], radix: 16))")
        }
        guard offset < bytes.count else { throw fail(.truncated, "the header ends after the \(name)") }
        let next = bytes[offset]
        guard Self.isWhitespace(next) || next == UInt8(ascii: "#") else {
            throw fail(.notAnImage, "unexpected byte 0x\(String(next, radix: 16)) after the \(name)")
        }
        return value
    }

    /// Consumes the separator between the maxval and the samples: one whitespace byte, or a
    /// comment through its line end.
    mutating func skipSeparator(fail: (MediaError.Code, String) -> MediaError) throws {
        if bytes[offset] == UInt8(ascii: "#") {
            while offset < bytes.count && !Self.isLineEnd(bytes[offset]) { offset += 1 }
            guard offset < bytes.count else { throw fail(.truncated, "the header ends inside a comment") }
        }
        offset += 1
    }
}
