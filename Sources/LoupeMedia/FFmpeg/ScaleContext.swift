import CFFmpeg

/// Owns a `SwsContext` converting frames of one size and pixel format to another.
final class ScaleContext {
    let pointer: OpaquePointer
    let source: (width: Int, height: Int, format: AVPixelFormat)
    let destination: (width: Int, height: Int, format: AVPixelFormat)

    /// - Parameter flags: swscale flags; the default resamples bicubically with accurate rounding
    ///   and full chroma interpolation, the settings closest to libjpeg's colour conversion.
    init(
        from source: (width: Int, height: Int, format: AVPixelFormat),
        to destination: (width: Int, height: Int, format: AVPixelFormat),
        flags: Int32 = SWS_BICUBIC | SWS_ACCURATE_RND | SWS_FULL_CHR_H_INT | SWS_FULL_CHR_H_INP,
        path: String?
    ) throws {
        guard
            let context = sws_getContext(
                Int32(source.width), Int32(source.height), source.format,
                Int32(destination.width), Int32(destination.height), destination.format,
                flags, nil, nil, nil)
        else {
            let name = av_get_pix_fmt_name(source.format).map { String(cString: $0) } ?? "unknown"
            throw MediaError(code: .unsupportedFormat, message: "cannot convert pixel format \(name) to RGB", path: path)
        }
        pointer = context
        self.source = source
        self.destination = destination
    }

    deinit { sws_freeContext(pointer) }

    /// Uses `frame`'s YUV matrix (BT.601 unless it says BT.709, BT.2020, ...) and range for the
    /// conversion to RGB; swscale would otherwise assume limited-range BT.601 for every source.
    func useColorimetry(of frame: Frame) {
        let coefficients: Int32
        switch frame.pointer.pointee.colorspace {
        case AVCOL_SPC_BT709: coefficients = SWS_CS_ITU709
        case AVCOL_SPC_BT2020_NCL, AVCOL_SPC_BT2020_CL: coefficients = SWS_CS_BT2020
        case AVCOL_SPC_SMPTE240M: coefficients = SWS_CS_SMPTE240M
        case AVCOL_SPC_FCC: coefficients = SWS_CS_FCC
        default: coefficients = SWS_CS_DEFAULT
        }
        let fullRange: Int32 = frame.pointer.pointee.color_range == AVCOL_RANGE_JPEG ? 1 : 0
        let table = sws_getCoefficients(coefficients)
        _ = sws_setColorspaceDetails(pointer, table, fullRange, sws_getCoefficients(SWS_CS_DEFAULT), 1, 0, 1 << 16, 1 << 16)
    }

    /// Converts RGB into limited-range YCbCr with the matrix `coefficients` (an `SWS_CS_*` value).
    func useOutputMatrix(_ coefficients: Int32) {
        let table = sws_getCoefficients(coefficients)
        _ = sws_setColorspaceDetails(pointer, table, 1, table, 0, 0, 1 << 16, 1 << 16)
    }

    /// Whether this context converts `frame`'s size and format.
    func matches(_ frame: Frame) -> Bool {
        frame.width == source.width && frame.height == source.height && frame.pixelFormat == source.format
    }

    /// Converts `frame` into packed RGB24 rows of `destination.width * 3` bytes at `output`.
    func scale(_ frame: Frame, into output: UnsafeMutablePointer<UInt8>) {
        var planes: [UnsafeMutablePointer<UInt8>?] = [output, nil, nil, nil]
        var strides: [Int32] = [Int32(destination.width * 3), 0, 0, 0]
        withUnsafePointer(to: frame.pointer.pointee.data) { data in
            withUnsafePointer(to: frame.pointer.pointee.linesize) { lines in
                data.withMemoryRebound(to: UnsafePointer<UInt8>?.self, capacity: 8) { sourcePlanes in
                    lines.withMemoryRebound(to: Int32.self, capacity: 8) { sourceStrides in
                        _ = sws_scale(
                            pointer, sourcePlanes, sourceStrides, 0, Int32(source.height), &planes, &strides)
                    }
                }
            }
        }
    }

    /// Converts packed RGB24 pixels of the source size into `frame`'s planes.
    func scale(packedRGB pixels: [UInt8], into frame: Frame) {
        pixels.withUnsafeBufferPointer { source in
            var planes: [UnsafePointer<UInt8>?] = [source.baseAddress, nil, nil, nil]
            var strides: [Int32] = [Int32(self.source.width * 3), 0, 0, 0]
            withUnsafeMutablePointer(to: &frame.pointer.pointee.data) { data in
                withUnsafeMutablePointer(to: &frame.pointer.pointee.linesize) { lines in
                    data.withMemoryRebound(to: UnsafeMutablePointer<UInt8>?.self, capacity: 8) { destinationPlanes in
                        lines.withMemoryRebound(to: Int32.self, capacity: 8) { destinationStrides in
                            _ = sws_scale(
                                pointer, &planes, &strides, 0, Int32(self.source.height), destinationPlanes,
                                destinationStrides)
                        }
                    }
                }
            }
        }
    }

    /// Resamples packed RGB24 pixels of the source size into packed RGB24 of the destination size.
    func scale(packedRGB pixels: UnsafePointer<UInt8>, into output: UnsafeMutablePointer<UInt8>) {
        var planes: [UnsafePointer<UInt8>?] = [pixels, nil, nil, nil]
        var strides: [Int32] = [Int32(source.width * 3), 0, 0, 0]
        var outPlanes: [UnsafeMutablePointer<UInt8>?] = [output, nil, nil, nil]
        var outStrides: [Int32] = [Int32(destination.width * 3), 0, 0, 0]
        _ = sws_scale(pointer, &planes, &strides, 0, Int32(source.height), &outPlanes, &outStrides)
    }
}
