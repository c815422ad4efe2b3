import CFFmpeg

/// A still-image container format, recognised from the file's first bytes (never its name).
public struct ImageFormat: Hashable, Sendable, CustomStringConvertible, Encodable {
    /// Short lowercase name: `jpeg`, `png`, `webp`, `gif`, `bmp`, `tiff`, `ppm`, `qoi`.
    public let name: String
    let codec: AVCodecID

    /// The short name.
    public var description: String { name }

    /// Encodes as the bare name (`"jpeg"`).
    public func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(name)
    }

    /// JPEG (JFIF/EXIF), baseline or progressive, YCbCr, grey, CMYK or YCCK.
    public static let jpeg = ImageFormat(name: "jpeg", codec: AV_CODEC_ID_MJPEG)
    /// PNG, 1 to 16 bits, grey, palette, RGB, with or without alpha.
    public static let png = ImageFormat(name: "png", codec: AV_CODEC_ID_PNG)
    /// WebP, lossy or lossless (the first frame of an animation).
    public static let webp = ImageFormat(name: "webp", codec: AV_CODEC_ID_WEBP)
    /// GIF (the first frame of an animation).
    public static let gif = ImageFormat(name: "gif", codec: AV_CODEC_ID_GIF)
    /// Windows bitmap.
    public static let bmp = ImageFormat(name: "bmp", codec: AV_CODEC_ID_BMP)
    /// TIFF (the first page).
    public static let tiff = ImageFormat(name: "tiff", codec: AV_CODEC_ID_TIFF)
    /// Binary Netpbm (`P5`, `P6`).
    public static let ppm = ImageFormat(name: "ppm", codec: AV_CODEC_ID_PPM)
    /// The Quite OK Image format.
    public static let qoi = ImageFormat(name: "qoi", codec: AV_CODEC_ID_QOI)

    /// JPEG 2000, as a JP2 file or a bare codestream.
    public static let jpeg2000 = ImageFormat(name: "jpeg2000", codec: AV_CODEC_ID_JPEG2000)
    /// ZSoft PCX.
    public static let pcx = ImageFormat(name: "pcx", codec: AV_CODEC_ID_PCX)
    /// Silicon Graphics image.
    public static let sgi = ImageFormat(name: "sgi", codec: AV_CODEC_ID_SGI)
    /// Sun raster.
    public static let sunRaster = ImageFormat(name: "sunrast", codec: AV_CODEC_ID_SUNRAST)

    /// Every format `ImageDecoder` reads.
    public static let all: [ImageFormat] = [.jpeg, .png, .webp, .gif, .bmp, .tiff, .ppm, .qoi, .jpeg2000, .pcx, .sgi, .sunRaster]

    /// The format whose signature starts `bytes`, or nil.
    static func sniff(_ bytes: UnsafeRawBufferPointer) -> ImageFormat? {
        func starts(_ signature: [UInt8], at offset: Int = 0) -> Bool {
            guard bytes.count >= offset + signature.count else { return false }
            for (index, byte) in signature.enumerated() where bytes[offset + index] != byte { return false }
            return true
        }
        if starts([0xFF, 0xD8, 0xFF]) { return .jpeg }
        if starts([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) { return .png }
        if starts(Array("RIFF".utf8)) && starts(Array("WEBP".utf8), at: 8) { return .webp }
        if starts(Array("GIF87a".utf8)) || starts(Array("GIF89a".utf8)) { return .gif }
        if starts(Array("BM".utf8)) && bytes.count >= 26 { return .bmp }
        if starts([0x49, 0x49, 0x2A, 0x00]) || starts([0x4D, 0x4D, 0x00, 0x2A]) { return .tiff }
        if starts(Array("qoif".utf8)) { return .qoi }
        if starts([0x00, 0x00, 0x00, 0x0C, 0x6A, 0x50, 0x20, 0x20, 0x0D, 0x0A, 0x87, 0x0A]) || starts([0xFF, 0x4F, 0xFF, 0x51]) {
            return .jpeg2000
        }
        if starts([0x01, 0xDA]) && bytes.count >= 512 { return .sgi }
        if starts([0x59, 0xA6, 0x6A, 0x95]) { return .sunRaster }
        // PCX has only a weak signature: manufacturer 10, version 0...5, RLE encoding, a known depth.
        if bytes.count >= 128, bytes[0] == 0x0A, bytes[1] <= 5, bytes[2] == 1, [1, 2, 4, 8].contains(bytes[3]) {
            return .pcx
        }
        if bytes.count >= 3, bytes[0] == UInt8(ascii: "P"), bytes[1] == UInt8(ascii: "5") || bytes[1] == UInt8(ascii: "6"),
            (0x09...0x0D).contains(bytes[2]) || bytes[2] == 0x20
        {
            return .ppm
        }
        return nil
    }
}
