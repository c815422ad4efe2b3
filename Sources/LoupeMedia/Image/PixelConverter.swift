import CFFmpeg

/// Turns a decoded frame into packed RGB8 the way Pillow's `convert("RGB")` treats the same source:
/// alpha is dropped (not blended), palettes are looked up, 8-bit grey is repeated into R, G and B,
/// 16-bit colour keeps the high byte (Pillow's `RGB;16B` unpacking), and 16-bit grey is clipped to
/// 255 (Pillow's `I;16` to `RGB` conversion), JPEG's YCbCr is converted as libjpeg does
/// (`JPEGColorConverter`). Other formats (WebP's limited-range YUV, ...) go through swscale with
/// accurate rounding.
struct PixelConverter {
    let path: String?

    /// Packed layouts Loupe copies itself: bytes per pixel and where R, G, B sit.
    private struct PackedLayout {
        let bytesPerPixel: Int
        let red: Int, green: Int, blue: Int
    }

    private static func packedLayout(_ format: AVPixelFormat) -> PackedLayout? {
        switch format {
        case AV_PIX_FMT_RGB24: PackedLayout(bytesPerPixel: 3, red: 0, green: 1, blue: 2)
        case AV_PIX_FMT_BGR24: PackedLayout(bytesPerPixel: 3, red: 2, green: 1, blue: 0)
        case AV_PIX_FMT_RGBA, AV_PIX_FMT_RGB0: PackedLayout(bytesPerPixel: 4, red: 0, green: 1, blue: 2)
        case AV_PIX_FMT_BGRA, AV_PIX_FMT_BGR0: PackedLayout(bytesPerPixel: 4, red: 2, green: 1, blue: 0)
        case AV_PIX_FMT_ARGB, AV_PIX_FMT_0RGB: PackedLayout(bytesPerPixel: 4, red: 1, green: 2, blue: 3)
        case AV_PIX_FMT_ABGR, AV_PIX_FMT_0BGR: PackedLayout(bytesPerPixel: 4, red: 3, green: 2, blue: 1)
        // 16-bit big-endian samples: the high byte comes first.
        case AV_PIX_FMT_RGB48BE: PackedLayout(bytesPerPixel: 6, red: 0, green: 2, blue: 4)
        case AV_PIX_FMT_RGBA64BE: PackedLayout(bytesPerPixel: 8, red: 0, green: 2, blue: 4)
        case AV_PIX_FMT_RGB48LE: PackedLayout(bytesPerPixel: 6, red: 1, green: 3, blue: 5)
        case AV_PIX_FMT_RGBA64LE: PackedLayout(bytesPerPixel: 8, red: 1, green: 3, blue: 5)
        // Grey (and grey + alpha): the same byte three times.
        case AV_PIX_FMT_GRAY8: PackedLayout(bytesPerPixel: 1, red: 0, green: 0, blue: 0)
        case AV_PIX_FMT_YA8: PackedLayout(bytesPerPixel: 2, red: 0, green: 0, blue: 0)
        case AV_PIX_FMT_YA16BE: PackedLayout(bytesPerPixel: 4, red: 0, green: 0, blue: 0)
        case AV_PIX_FMT_YA16LE: PackedLayout(bytesPerPixel: 4, red: 1, green: 1, blue: 1)
        default: nil
        }
    }

    /// Converts `frame` to `width * height * 3` RGB bytes.
    func convert(_ frame: Frame) throws -> [UInt8] {
        let width = frame.width
        let height = frame.height
        let format = frame.pixelFormat
        let count = width * height * 3
        let data = frame.pointer.pointee.data
        let lines = frame.pointer.pointee.linesize
        let plane0 = data.0!
        let stride0 = Int(lines.0)

        if let layout = Self.packedLayout(format) {
            return [UInt8](unsafeUninitializedCapacity: count) { out, initialized in
                for y in 0..<height {
                    var source = plane0 + y * stride0
                    var to = y * width * 3
                    for _ in 0..<width {
                        out[to] = source[layout.red]
                        out[to + 1] = source[layout.green]
                        out[to + 2] = source[layout.blue]
                        source += layout.bytesPerPixel
                        to += 3
                    }
                }
                initialized = count
            }
        }
        if let factors = JPEGColorConverter.subsampling(of: frame) {
            return [UInt8](unsafeUninitializedCapacity: count) { out, initialized in
                JPEGColorConverter.convert(frame, factors: factors, into: out.baseAddress!)
                initialized = count
            }
        }
        switch format {
        case AV_PIX_FMT_GRAY16BE, AV_PIX_FMT_GRAY16LE:
            let bigEndian = format == AV_PIX_FMT_GRAY16BE
            return [UInt8](unsafeUninitializedCapacity: count) { out, initialized in
                for y in 0..<height {
                    let row = plane0 + y * stride0
                    for x in 0..<width {
                        let a = Int(row[2 * x]), b = Int(row[2 * x + 1])
                        let value = UInt8(min(255, bigEndian ? a << 8 | b : b << 8 | a))
                        out[(y * width + x) * 3] = value
                        out[(y * width + x) * 3 + 1] = value
                        out[(y * width + x) * 3 + 2] = value
                    }
                }
                initialized = count
            }
        case AV_PIX_FMT_PAL8:
            // The palette is 256 native-endian 0xAARRGGBB words in plane 1.
            let palette = UnsafeRawPointer(data.1!).assumingMemoryBound(to: UInt32.self)
            return [UInt8](unsafeUninitializedCapacity: count) { out, initialized in
                for y in 0..<height {
                    let row = plane0 + y * stride0
                    for x in 0..<width {
                        let color = palette[Int(row[x])]
                        out[(y * width + x) * 3] = UInt8(truncatingIfNeeded: color >> 16)
                        out[(y * width + x) * 3 + 1] = UInt8(truncatingIfNeeded: color >> 8)
                        out[(y * width + x) * 3 + 2] = UInt8(truncatingIfNeeded: color)
                    }
                }
                initialized = count
            }
        case AV_PIX_FMT_GBRP, AV_PIX_FMT_GBRAP:
            let green = plane0, blue = data.1!, red = data.2!
            let strides = (Int(lines.0), Int(lines.1), Int(lines.2))
            return [UInt8](unsafeUninitializedCapacity: count) { out, initialized in
                for y in 0..<height {
                    for x in 0..<width {
                        out[(y * width + x) * 3] = red[y * strides.2 + x]
                        out[(y * width + x) * 3 + 1] = green[y * strides.0 + x]
                        out[(y * width + x) * 3 + 2] = blue[y * strides.1 + x]
                    }
                }
                initialized = count
            }
        default:
            let scaler = try ScaleContext(
                from: (width, height, format), to: (width, height, AV_PIX_FMT_RGB24), path: path)
            return [UInt8](unsafeUninitializedCapacity: count) { out, initialized in
                scaler.scale(frame, into: out.baseAddress!)
                initialized = count
            }
        }
    }
}
