import CFFmpeg

/// Converts full-range (JPEG) YCbCr planes to RGB8 exactly as libjpeg(-turbo) does with its
/// defaults, which is what Pillow decodes JPEGs with: "fancy" triangular chroma upsampling for
/// 4:2:0 and 4:2:2, and the fixed-point colour conversion tables of `jdcolor.c`.
///
/// Only the IDCT then differs from Pillow (FFmpeg's and libjpeg's round differently by at most a
/// level or two), and it is several times faster than a general swscale conversion.
struct JPEGColorConverter {
    /// libjpeg's tables, indexed by the 8-bit chroma sample.
    private static let tables: (crR: [Int32], cbB: [Int32], crG: [Int32], cbG: [Int32]) = {
        func fix(_ x: Double) -> Int32 { Int32(x * 65536 + 0.5) }
        let half: Int32 = 1 << 15
        var crR = [Int32](repeating: 0, count: 256), cbB = crR, crG = crR, cbG = crR
        for i in 0..<256 {
            let x = Int32(i - 128)
            crR[i] = (fix(1.40200) * x + half) >> 16
            cbB[i] = (fix(1.77200) * x + half) >> 16
            crG[i] = -fix(0.71414) * x
            cbG[i] = -fix(0.34414) * x + half
        }
        return (crR, cbB, crG, cbG)
    }()

    /// Chroma subsampling (horizontal and vertical factors, 1 or 2) of a full-range YCbCr frame
    /// this converter handles, or nil. The alpha plane of YUVA formats (FFmpeg's YCCK output, where
    /// the decoder has already folded K into Y, Cb and Cr) is ignored.
    static func subsampling(of frame: Frame) -> (Int, Int)? {
        switch frame.pixelFormat {
        case AV_PIX_FMT_YUVJ420P: return (2, 2)
        case AV_PIX_FMT_YUVJ422P: return (2, 1)
        case AV_PIX_FMT_YUVJ444P: return (1, 1)
        case AV_PIX_FMT_YUVJ440P: return (1, 2)
        default: break
        }
        guard frame.pointer.pointee.color_range == AVCOL_RANGE_JPEG else { return nil }
        switch frame.pixelFormat {
        case AV_PIX_FMT_YUV420P, AV_PIX_FMT_YUVA420P: return (2, 2)
        case AV_PIX_FMT_YUV422P, AV_PIX_FMT_YUVA422P: return (2, 1)
        case AV_PIX_FMT_YUV444P, AV_PIX_FMT_YUVA444P: return (1, 1)
        case AV_PIX_FMT_YUV440P: return (1, 2)
        default: return nil
        }
    }

    /// Converts `frame` (one `subsampling(of:)` accepts) into `out`.
    static func convert(_ frame: Frame, factors: (Int, Int), into out: UnsafeMutablePointer<UInt8>) {
        let width = frame.width
        let height = frame.height
        let data = frame.pointer.pointee.data
        let lines = frame.pointer.pointee.linesize
        let luma = data.0!, cb = data.1!, cr = data.2!
        let lumaStride = Int(lines.0), cbStride = Int(lines.1), crStride = Int(lines.2)
        let chromaWidth = (width + factors.0 - 1) / factors.0
        let chromaHeight = (height + factors.1 - 1) / factors.1
        // Per output row: the vertically filtered chroma (scaled by 4 when filtered), then the horizontal pass.
        let cbRow = UnsafeMutablePointer<Int32>.allocate(capacity: chromaWidth)
        let crRow = UnsafeMutablePointer<Int32>.allocate(capacity: chromaWidth)
        let cbLine = UnsafeMutablePointer<Int32>.allocate(capacity: width)
        let crLine = UnsafeMutablePointer<Int32>.allocate(capacity: width)
        defer {
            cbRow.deallocate()
            crRow.deallocate()
            cbLine.deallocate()
            crLine.deallocate()
        }
        tables.crR.withUnsafeBufferPointer { crR in
            tables.cbB.withUnsafeBufferPointer { cbB in
                tables.crG.withUnsafeBufferPointer { crG in
                    tables.cbG.withUnsafeBufferPointer { cbG in
                        for y in 0..<height {
                            verticalPass(
                                y: y, factor: factors.1, chromaHeight: chromaHeight, count: chromaWidth,
                                cb: (cb, cbStride), cr: (cr, crStride), into: (cbRow, crRow))
                            horizontalPass(
                                factors: factors, oddRow: y % 2 == 1, width: width, chromaWidth: chromaWidth,
                                rows: (cbRow, crRow), into: (cbLine, crLine))
                            let yRow = luma + y * lumaStride
                            let vectorEnd = convertVectors(
                                luma: yRow, cb: cbLine, cr: crLine, count: width, into: out + y * width * 3)
                            var o = out + (y * width + vectorEnd) * 3
                            for x in vectorEnd..<width {
                                let l = Int32(yRow[x])
                                let b = Int(cbLine[x]), r = Int(crLine[x])
                                o[0] = clamp(l + crR[r])
                                o[1] = clamp(l + ((cbG[b] + crG[r]) >> 16))
                                o[2] = clamp(l + cbB[b])
                                o += 3
                            }
                        }
                    }
                }
            }
        }
    }

    /// The colour conversion of `convert`, eight pixels at a time: the table entries written out as
    /// the same fixed-point arithmetic (`FIX(1.402) = 91881`, ...), so results are identical.
    /// Returns how many pixels it converted (a multiple of 8).
    @inline(__always)
    private static func convertVectors(
        luma: UnsafePointer<UInt8>, cb: UnsafePointer<Int32>, cr: UnsafePointer<Int32>, count: Int,
        into out: UnsafeMutablePointer<UInt8>
    ) -> Int {
        typealias Lanes = SIMD8<Int32>
        let half = Lanes(repeating: 1 << 15)
        let low = Lanes(repeating: 0), high = Lanes(repeating: 255)
        var x = 0
        while x + 8 <= count {
            let l = Lanes(truncatingIfNeeded: UnsafeRawPointer(luma + x).loadUnaligned(as: SIMD8<UInt8>.self))
            let b = UnsafeRawPointer(cb + x).loadUnaligned(as: Lanes.self) &- 128
            let r = UnsafeRawPointer(cr + x).loadUnaligned(as: Lanes.self) &- 128
            let red = (l &+ ((91881 &* r &+ half) &>> 16)).clamped(lowerBound: low, upperBound: high)
            let green = (l &+ ((-22554 &* b &+ half &- 46802 &* r) &>> 16)).clamped(lowerBound: low, upperBound: high)
            let blue = (l &+ ((116130 &* b &+ half) &>> 16)).clamped(lowerBound: low, upperBound: high)
            let o = out + x * 3
            for lane in 0..<8 {
                o[3 * lane] = UInt8(truncatingIfNeeded: red[lane])
                o[3 * lane + 1] = UInt8(truncatingIfNeeded: green[lane])
                o[3 * lane + 2] = UInt8(truncatingIfNeeded: blue[lane])
            }
            x += 8
        }
        return x
    }

    @inline(__always)
    private static func clamp(_ v: Int32) -> UInt8 { UInt8(truncatingIfNeeded: min(max(v, 0), 255)) }

    /// libjpeg's h2v2 step 1: `3 * nearer row + farther row` (the row above for even output rows,
    /// below for odd ones, the edge row repeated at the borders); a plain copy (times 4) for v1.
    private static func verticalPass(
        y: Int, factor: Int, chromaHeight: Int, count: Int,
        cb: (UnsafeMutablePointer<UInt8>, Int), cr: (UnsafeMutablePointer<UInt8>, Int),
        into rows: (UnsafeMutablePointer<Int32>, UnsafeMutablePointer<Int32>)
    ) {
        let row = min(y / factor, chromaHeight - 1)
        if factor == 1 {
            for i in 0..<count {
                rows.0[i] = Int32(cb.0[row * cb.1 + i]) * 4
                rows.1[i] = Int32(cr.0[row * cr.1 + i]) * 4
            }
            return
        }
        let neighbour = min(max(y % 2 == 0 ? row - 1 : row + 1, 0), chromaHeight - 1)
        let cbNear = cb.0 + row * cb.1, cbFar = cb.0 + neighbour * cb.1
        let crNear = cr.0 + row * cr.1, crFar = cr.0 + neighbour * cr.1
        for i in 0..<count {
            rows.0[i] = Int32(cbNear[i]) * 3 + Int32(cbFar[i])
            rows.1[i] = Int32(crNear[i]) * 3 + Int32(crFar[i])
        }
    }

    /// libjpeg's horizontal step: `(3 * nearer + farther + bias) >> shift` with bias 8/7 after a
    /// vertical filter (h2v2) or 1/2 (h2v1), from the rows the vertical pass left scaled by 4.
    private static func horizontalPass(
        factors: (Int, Int), oddRow: Bool, width: Int, chromaWidth: Int,
        rows: (UnsafeMutablePointer<Int32>, UnsafeMutablePointer<Int32>),
        into lines: (UnsafeMutablePointer<Int32>, UnsafeMutablePointer<Int32>)
    ) {
        if factors.0 == 1 {
            // h1v2 rounds with bias 1 on the upper and 2 on the lower row of each pair; 4:4:4 rows
            // were only scaled by 4, so the bias vanishes in the shift.
            let bias: Int32 = factors.1 == 2 ? (oddRow ? 2 : 1) : 0
            for x in 0..<width {
                lines.0[x] = (rows.0[x] + bias) >> 2
                lines.1[x] = (rows.1[x] + bias) >> 2
            }
            return
        }
        // h2v2 sums carry 4x the sample value; h2v1 rows were scaled by 4 here, so undo that first.
        let filtered = factors.1 == 2
        let last = chromaWidth - 1
        for c in 0...last {
            let left = c > 0 ? c - 1 : 0, right = c < last ? c + 1 : last
            let x = 2 * c
            if filtered {
                lines.0[x] = (rows.0[c] * 3 + rows.0[left] + 8) >> 4
                lines.1[x] = (rows.1[c] * 3 + rows.1[left] + 8) >> 4
                if x + 1 < width {
                    lines.0[x + 1] = (rows.0[c] * 3 + rows.0[right] + 7) >> 4
                    lines.1[x + 1] = (rows.1[c] * 3 + rows.1[right] + 7) >> 4
                }
            } else {
                let (b, bl, br) = (rows.0[c] >> 2, rows.0[left] >> 2, rows.0[right] >> 2)
                let (r, rl, rr) = (rows.1[c] >> 2, rows.1[left] >> 2, rows.1[right] >> 2)
                lines.0[x] = (b * 3 + bl + 1) >> 2
                lines.1[x] = (r * 3 + rl + 1) >> 2
                if x + 1 < width {
                    lines.0[x + 1] = (b * 3 + br + 2) >> 2
                    lines.1[x + 1] = (r * 3 + rr + 2) >> 2
                }
            }
        }
    }
}
