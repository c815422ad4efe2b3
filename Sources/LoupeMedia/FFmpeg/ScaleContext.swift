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
