import CFFmpeg
import Foundation

/// Encodes RGB8 pixels as an image file through libavcodec.
///
/// ```swift
/// let png = try ImageEncoder.encode(image, as: .png)
/// let jpeg = try ImageEncoder.encode(image, as: .jpeg(quality: 85))
/// ```
public enum ImageEncoder {
    /// An output format and its settings.
    public enum Format: Sendable, Hashable {
        /// Lossless PNG (RGB, 8 bits per channel).
        case png
        /// Baseline JPEG; quality 1...100 (higher is better), 4:2:0 chroma, or 4:4:4 when `fullChroma`.
        case jpeg(quality: Int, fullChroma: Bool = false)
        /// WebP through libwebp; quality 0...100, or lossless.
        case webp(quality: Int, lossless: Bool = false)
        /// Uncompressed 24-bit BMP.
        case bmp
        /// Uncompressed RGB TIFF.
        case tiff
        /// GIF with a palette of the picture's colours; fails with more than 256 distinct colours.
        case gif
        /// QOI (lossless).
        case qoi
        /// Lossless JPEG 2000 codestream (FFmpeg's own encoder).
        case jpeg2000
        /// PCX (RLE, 24-bit).
        case pcx
        /// SGI image (RLE, 24-bit).
        case sgi
        /// Sun raster (24-bit).
        case sunRaster
    }

    /// Encodes `image`'s pixels.
    public static func encode(_ image: DecodedImage, as format: Format) throws -> Data {
        try encode(pixels: image.pixels, width: image.width, height: image.height, as: format)
    }

    /// Encodes `width * height * 3` RGB bytes.
    ///
    /// - Throws: `MediaError` with `.unsupportedFormat` when the FFmpeg build lacks the encoder (or a
    ///   GIF would need more than 256 colours), `.codecFailure` when encoding fails.
    public static func encode(pixels: [UInt8], width: Int, height: Int, as format: Format) throws -> Data {
        precondition(width > 0 && height > 0 && pixels.count == width * height * 3, "pixels must be width * height * 3 bytes")
        _ = FFmpegLogging.silenced
        let (name, pixelFormat) = codec(for: format)
        let context = try CodecContext.encoder(named: name, path: nil)
        let c = context.pointer
        c.pointee.width = Int32(width)
        c.pointee.height = Int32(height)
        c.pointee.pix_fmt = pixelFormat
        c.pointee.time_base = AVRational(num: 1, den: 25)
        c.pointee.thread_count = 1
        switch format {
        case .jpeg(let quality, _):
            // mjpeg's quantiser scale: 2 (best) ... 31 (worst).
            let q = 2 + (100 - min(max(quality, 1), 100)) * 29 / 99
            c.pointee.flags |= AV_CODEC_FLAG_QSCALE
            c.pointee.global_quality = Int32(q) * FF_QP2LAMBDA
            c.pointee.qmin = Int32(q)
            c.pointee.qmax = Int32(q)
        case .webp(let quality, let lossless):
            c.pointee.flags |= AV_CODEC_FLAG_QSCALE
            c.pointee.global_quality = Int32(min(max(quality, 0), 100)) * FF_QP2LAMBDA
            if lossless { _ = loupe_set_option_int(c.pointee.priv_data, "lossless", 1) }
        case .jpeg2000:
            // The reversible 5/3 wavelet: lossless.
            _ = loupe_set_option(c.pointee.priv_data, "pred", "dwt53")
        default: break
        }
        try context.open(stage: .encode)

        let frame = try Frame()
        frame.pointer.pointee.width = Int32(width)
        frame.pointer.pointee.height = Int32(height)
        frame.pointer.pointee.format = pixelFormat.rawValue
        try FFmpegResult.check(av_frame_get_buffer(frame.pointer, 0), "allocating a frame", stage: .allocate, path: nil)
        try fill(frame, pixels: pixels, width: width, height: height)
        frame.pointer.pointee.pts = 0

        var output: [UInt8] = []
        try context.encode(frame, appendingTo: &output)
        try context.encode(nil, appendingTo: &output)
        guard !output.isEmpty else { throw MediaError(code: .codecFailure, message: "the \(name) encoder wrote nothing") }
        // libavcodec's GIF encoder leaves the trailer to the muxer; a standalone file needs it.
        if case .gif = format, output.last != 0x3B { output.append(0x3B) }
        return Data(output)
    }

    private static func codec(for format: Format) -> (String, AVPixelFormat) {
        switch format {
        case .png: ("png", AV_PIX_FMT_RGB24)
        case .jpeg(_, let fullChroma): ("mjpeg", fullChroma ? AV_PIX_FMT_YUVJ444P : AV_PIX_FMT_YUVJ420P)
        case .webp(_, let lossless): ("libwebp", lossless ? AV_PIX_FMT_BGRA : AV_PIX_FMT_YUV420P)
        case .bmp: ("bmp", AV_PIX_FMT_BGR24)
        case .tiff: ("tiff", AV_PIX_FMT_RGB24)
        case .gif: ("gif", AV_PIX_FMT_PAL8)
        case .qoi: ("qoi", AV_PIX_FMT_RGB24)
        case .jpeg2000: ("jpeg2000", AV_PIX_FMT_RGB24)
        case .pcx: ("pcx", AV_PIX_FMT_RGB24)
        case .sgi: ("sgi", AV_PIX_FMT_RGB24)
        case .sunRaster: ("sunrast", AV_PIX_FMT_BGR24)
        }
    }

    /// Copies or converts the RGB pixels into `frame`'s planes.
    private static func fill(_ frame: Frame, pixels: [UInt8], width: Int, height: Int) throws {
        let format = frame.pixelFormat
        let plane = frame.pointer.pointee.data.0!
        let stride = Int(frame.pointer.pointee.linesize.0)
        switch format {
        case AV_PIX_FMT_RGB24:
            for y in 0..<height {
                pixels.withUnsafeBufferPointer { source in
                    (plane + y * stride).update(from: source.baseAddress! + y * width * 3, count: width * 3)
                }
            }
        case AV_PIX_FMT_BGR24, AV_PIX_FMT_BGRA:
            let step = format == AV_PIX_FMT_BGRA ? 4 : 3
            for y in 0..<height {
                for x in 0..<width {
                    let to = plane + y * stride + x * step
                    let from = (y * width + x) * 3
                    to[0] = pixels[from + 2]
                    to[1] = pixels[from + 1]
                    to[2] = pixels[from]
                    if step == 4 { to[3] = 255 }
                }
            }
        case AV_PIX_FMT_PAL8:
            try fillPalette(frame, pixels: pixels, width: width, height: height)
        default:
            let scaler = try ScaleContext(from: (width, height, AV_PIX_FMT_RGB24), to: (width, height, format), path: nil)
            scaler.scale(packedRGB: pixels, into: frame)
        }
    }

    private static func fillPalette(_ frame: Frame, pixels: [UInt8], width: Int, height: Int) throws {
        var indices: [UInt32: UInt8] = [:]
        let plane = frame.pointer.pointee.data.0!
        let stride = Int(frame.pointer.pointee.linesize.0)
        let palette = UnsafeMutableRawPointer(frame.pointer.pointee.data.1!).assumingMemoryBound(to: UInt32.self)
        for y in 0..<height {
            for x in 0..<width {
                let i = (y * width + x) * 3
                let color = 0xFF00_0000 | UInt32(pixels[i]) << 16 | UInt32(pixels[i + 1]) << 8 | UInt32(pixels[i + 2])
                var index = indices[color]
                if index == nil {
                    guard indices.count < 256 else {
                        throw MediaError(code: .unsupportedFormat, message: "GIF output needs at most 256 colours")
                    }
                    index = UInt8(indices.count)
                    indices[color] = index
                    palette[Int(index!)] = color
                }
                plane[y * stride + x] = index!
            }
        }
    }
}
