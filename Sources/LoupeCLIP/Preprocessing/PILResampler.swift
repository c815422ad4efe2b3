/// Resizes 8-bit RGB images exactly as Pillow's `Image.resize(size, filter)` does with no `box`
/// and `reducing_gap=None`, byte for byte.
///
/// Pillow (`ImagingResample` in `src/libImaging/Resample.c`) resizes in two separable passes, each
/// with 22-bit fixed-point weights and rounding back to `UInt8`, the second pass reading the
/// rounded result of the first. Like Pillow 13 it runs the horizontal pass first unless the height
/// shrinks by more than twice as many pixels as the width. Nearest neighbour takes Pillow's
/// separate affine path (`ImagingScaleAffine`). Both paths are re-implemented here, so that CLIP
/// embeddings computed from the output match those of the Python reference.
///
/// ```swift
/// let thumbnail = PILResampler.resize(image, width: 298, height: 224, filter: .bicubic)
/// ```
public enum PILResampler {
    /// Resizes `image` to `width` x `height` pixels.
    ///
    /// - Parameters:
    ///   - image: The source image.
    ///   - width: Output width, at least 1.
    ///   - height: Output height, at least 1.
    ///   - filter: The Pillow filter to use.
    /// - Returns: The resized image; a copy of `image` when the size is unchanged, as in Pillow.
    public static func resize(
        _ image: RGBImage, width: Int, height: Int, filter: ResamplingFilter
    ) -> RGBImage {
        resize(image, width: width, height: height, filter: filter, columns: 0..<width, rows: 0..<height)
    }

    /// Computes only the `columns` x `rows` window of the `width` x `height` resize of `image`.
    ///
    /// Every output pixel depends only on its own weights, so the window is identical to
    /// cropping the full result, but a centre crop skips the work for the discarded border.
    static func resize(
        _ image: RGBImage, width: Int, height: Int, filter: ResamplingFilter,
        columns: Range<Int>, rows: Range<Int>
    ) -> RGBImage {
        precondition(width > 0 && height > 0, "resize target \(width)x\(height) must be at least 1x1")
        precondition(
            !columns.isEmpty && !rows.isEmpty && columns.lowerBound >= 0 && columns.upperBound <= width
                && rows.lowerBound >= 0 && rows.upperBound <= height,
            "window \(columns) x \(rows) is not inside \(width)x\(height)"
        )
        if width == image.width && height == image.height {
            return crop(image, columns: columns, rows: rows)
        }
        if filter == .nearest {
            return nearest(image, width: width, height: height, columns: columns, rows: rows)
        }
        return convolve(image, width: width, height: height, filter: filter, columns: columns, rows: rows)
    }

    static func crop(_ image: RGBImage, columns: Range<Int>, rows: Range<Int>) -> RGBImage {
        if columns == 0..<image.width && rows == 0..<image.height { return image }
        let outRowBytes = columns.count * 3
        let pixels = [UInt8](unsafeUninitializedCapacity: outRowBytes * rows.count) { out, count in
            image.pixels.withUnsafeBufferPointer { src in
                for (r, y) in rows.enumerated() {
                    let from = src.baseAddress! + y * image.rowBytes + columns.lowerBound * 3
                    (out.baseAddress! + r * outRowBytes).initialize(from: from, count: outRowBytes)
                }
            }
            count = outRowBytes * rows.count
        }
        return RGBImage(uncheckedWidth: columns.count, height: rows.count, pixels: pixels)
    }
}

// MARK: - Convolution filters

extension PILResampler {
    private static func convolve(
        _ image: RGBImage, width: Int, height: Int, filter: ResamplingFilter,
        columns: Range<Int>, rows: Range<Int>
    ) -> RGBImage {
        let horizontal =
            width != image.width
            ? ResampleKernel(inSize: image.width, outSize: width, filter: filter) : nil
        let vertical =
            height != image.height
            ? ResampleKernel(inSize: image.height, outSize: height, filter: filter) : nil
        // Pillow 13 runs the vertical pass first when the height shrinks by more than twice as
        // many pixels as the width (`ImagingResampleInner`); earlier versions always ran the
        // horizontal pass first. The passes round in between, so the order shows in the result.
        let heightDrop = image.height - height
        let verticalFirst = heightDrop > 0 && heightDrop > (image.width - width) * 2
        let outRowBytes = columns.count * 3

        let pixels = image.pixels.withUnsafeBufferPointer { buffer -> [UInt8] in
            let source = buffer.baseAddress!
            switch (horizontal, vertical) {
            case (let horizontal?, let vertical?) where !verticalFirst:
                // Only the source rows the vertical pass reads go through the horizontal pass.
                let used = vertical.sourceRange(for: rows)
                let temp = newPixels(count: outRowBytes * used.count) { out in
                    horizontalPass(
                        source: source, rowBytes: image.rowBytes, rows: used, firstColumn: 0,
                        kernel: horizontal, columns: columns, into: out)
                }
                return newPixels(count: outRowBytes * rows.count) { out in
                    temp.withUnsafeBufferPointer { temp in
                        verticalPass(
                            source: temp.baseAddress!, rowBytes: outRowBytes, firstRow: used.lowerBound,
                            kernel: vertical, rows: rows, rowWidth: outRowBytes, into: out)
                    }
                }
            case (let horizontal?, let vertical?):
                // Only the source columns the horizontal pass reads go through the vertical pass.
                let used = horizontal.sourceRange(for: columns)
                let tempRowBytes = used.count * 3
                let temp = newPixels(count: tempRowBytes * rows.count) { out in
                    verticalPass(
                        source: source + used.lowerBound * 3, rowBytes: image.rowBytes, firstRow: 0,
                        kernel: vertical, rows: rows, rowWidth: tempRowBytes, into: out)
                }
                return newPixels(count: outRowBytes * rows.count) { out in
                    temp.withUnsafeBufferPointer { temp in
                        horizontalPass(
                            source: temp.baseAddress!, rowBytes: tempRowBytes, rows: 0..<rows.count,
                            firstColumn: used.lowerBound, kernel: horizontal, columns: columns, into: out)
                    }
                }
            case (let horizontal?, nil):
                return newPixels(count: outRowBytes * rows.count) { out in
                    horizontalPass(
                        source: source, rowBytes: image.rowBytes, rows: rows, firstColumn: 0,
                        kernel: horizontal, columns: columns, into: out)
                }
            case (nil, let vertical?):
                return newPixels(count: outRowBytes * rows.count) { out in
                    verticalPass(
                        source: source + columns.lowerBound * 3, rowBytes: image.rowBytes, firstRow: 0,
                        kernel: vertical, rows: rows, rowWidth: outRowBytes, into: out)
                }
            case (nil, nil):
                preconditionFailure("convolve needs a size change")
            }
        }
        return RGBImage(uncheckedWidth: columns.count, height: rows.count, pixels: pixels)
    }

    /// An array of `count` bytes, all written by `fill`.
    private static func newPixels(count: Int, fill: (UnsafeMutablePointer<UInt8>) -> Void) -> [UInt8] {
        [UInt8](unsafeUninitializedCapacity: count) { buffer, initialized in
            fill(buffer.baseAddress!)
            initialized = count
        }
    }

    /// Pillow's `clip8`: drops the fraction bits of a fixed-point sum (which already includes the
    /// rounding offset) and saturates to `0...255`.
    @inline(__always)
    private static func clip8<Sum: FixedWidthInteger>(_ sum: Sum) -> UInt8 {
        let value = sum >> ResampleKernel.precisionBits
        return value < 0 ? 0 : (value > 255 ? 255 : UInt8(truncatingIfNeeded: value))
    }

    /// Rounds an exact double-precision fixed-point sum the way `clip8` rounds Pillow's integer one.
    @inline(__always)
    private static func clip8(exact sum: Double) -> UInt8 {
        clip8(Int64(sum) &+ Int64(ResampleKernel.half))
    }

    /// Resamples `rows` of `source` horizontally, writing only the output `columns`, packed.
    /// Byte 0 of each source row is input pixel `firstColumn` of `kernel`.
    private static func horizontalPass(
        source: UnsafePointer<UInt8>, rowBytes: Int, rows: Range<Int>, firstColumn: Int,
        kernel: ResampleKernel, columns: Range<Int>, into out: UnsafeMutablePointer<UInt8>
    ) {
        // The sums are formed in double precision. Every product (8-bit pixel, 23-bit signed
        // weight) and every partial sum is an integer of magnitude below 2^31, so each is exact
        // and the result equals Pillow's 32-bit integer sum. Doubles are used because x86-64's
        // baseline SSE2 has no 32-bit integer vector multiply, which makes the integer version
        // about twice as slow.
        let used = kernel.sourceRange(for: columns)
        let offset = used.lowerBound - firstColumn
        // One source row as [R, G] and [B, 0] pairs, converted once and read by several outputs.
        let values = UnsafeMutablePointer<SIMD2<Double>>.allocate(capacity: used.count * 2)
        defer { values.deallocate() }
        let outRowBytes = columns.count * 3
        let weights = kernel.weights.map(Double.init)
        weights.withUnsafeBufferPointer { weights in
            for (r, y) in rows.enumerated() {
                let line = source + y * rowBytes + offset * 3
                for i in 0..<used.count {
                    values[2 * i] = SIMD2(Double(line[3 * i]), Double(line[3 * i + 1]))
                    values[2 * i + 1] = SIMD2(Double(line[3 * i + 2]), 0)
                }
                var dst = out + r * outRowBytes
                for x in columns {
                    let k = weights.baseAddress! + x * kernel.taps
                    let p = values + 2 * (kernel.starts[x] - used.lowerBound)
                    let count = kernel.counts[x]
                    // Two sets of accumulators halve the floating-point add dependency chain.
                    var rg0 = SIMD2<Double>()
                    var b0 = SIMD2<Double>()
                    var rg1 = SIMD2<Double>()
                    var b1 = SIMD2<Double>()
                    var t = 0
                    while t + 1 < count {
                        rg0 += p[2 * t] * k[t]
                        b0 += p[2 * t + 1] * k[t]
                        rg1 += p[2 * t + 2] * k[t + 1]
                        b1 += p[2 * t + 3] * k[t + 1]
                        t += 2
                    }
                    if t < count {
                        rg0 += p[2 * t] * k[t]
                        b0 += p[2 * t + 1] * k[t]
                    }
                    let rg = rg0 + rg1
                    let b = b0 + b1
                    dst[0] = clip8(exact: rg[0])
                    dst[1] = clip8(exact: rg[1])
                    dst[2] = clip8(exact: b[0])
                    dst += 3
                }
            }
        }
    }

    /// Resamples vertically, writing output `rows` packed, `rowWidth` bytes each. Source rows
    /// are `rowBytes` apart, and row 0 at `source` is input row `firstRow` of `kernel`.
    private static func verticalPass(
        source: UnsafePointer<UInt8>, rowBytes: Int, firstRow: Int, kernel: ResampleKernel,
        rows: Range<Int>, rowWidth width: Int, into out: UnsafeMutablePointer<UInt8>
    ) {
        // Here the weight is the same across a row, so plain 32-bit integer arithmetic, as in
        // Pillow, vectorises well enough.
        let accumulator = UnsafeMutablePointer<Int32>.allocate(capacity: width)
        defer { accumulator.deallocate() }
        kernel.weights.withUnsafeBufferPointer { weights in
            for (r, y) in rows.enumerated() {
                accumulator.update(repeating: ResampleKernel.half, count: width)
                let k = weights.baseAddress! + y * kernel.taps
                let first = kernel.starts[y] - firstRow
                for t in 0..<kernel.counts[y] {
                    let line = source + (first + t) * rowBytes
                    let w = k[t]
                    for i in 0..<width {
                        accumulator[i] &+= Int32(line[i]) &* w
                    }
                }
                let dst = out + r * width
                for i in 0..<width {
                    dst[i] = clip8(accumulator[i])
                }
            }
        }
    }
}

// MARK: - Nearest neighbour

extension PILResampler {
    /// Pillow's `ImagingScaleAffine`: source coordinates advance by repeated addition in double
    /// precision from the first pixel centre, then truncate. Positions that fall outside the
    /// source stay black, as in Pillow (this can only happen through rounding at the far edge).
    private static func nearest(
        _ image: RGBImage, width: Int, height: Int, columns: Range<Int>, rows: Range<Int>
    ) -> RGBImage {
        let xTable = nearestIndices(inSize: image.width, outSize: width)
        let yTable = nearestIndices(inSize: image.height, outSize: height)
        let firstX = xTable.firstIndex { $0 >= 0 } ?? width
        let endX = (xTable.lastIndex { $0 >= 0 } ?? -1) + 1
        let outRowBytes = columns.count * 3
        let pixels = [UInt8](unsafeUninitializedCapacity: outRowBytes * rows.count) { out, count in
            let dstBase = out.baseAddress!
            dstBase.initialize(repeating: 0, count: outRowBytes * rows.count)
            image.pixels.withUnsafeBufferPointer { source in
                for (r, y) in rows.enumerated() where yTable[y] >= 0 {
                    let line = source.baseAddress! + yTable[y] * image.rowBytes
                    for x in columns where x >= firstX && x < endX {
                        // Pillow's table is zero-filled, so a gap inside the span reads column 0.
                        let sx = max(xTable[x], 0)
                        let dst = dstBase + r * outRowBytes + (x - columns.lowerBound) * 3
                        dst[0] = line[sx * 3]
                        dst[1] = line[sx * 3 + 1]
                        dst[2] = line[sx * 3 + 2]
                    }
                }
            }
            count = outRowBytes * rows.count
        }
        return RGBImage(uncheckedWidth: columns.count, height: rows.count, pixels: pixels)
    }

    /// Source index for each output index, or -1 where Pillow's coordinate leaves the image.
    private static func nearestIndices(inSize: Int, outSize: Int) -> [Int] {
        let step = Double(Float(inSize)) / Double(outSize)
        var position = step * 0.5
        var table = [Int](repeating: -1, count: outSize)
        for i in 0..<outSize {
            // COORD(): negative coordinates map to -1, others truncate.
            let index = position < 0 ? -1 : Int(position)
            if index >= 0 && index < inSize { table[i] = index }
            position += step
        }
        return table
    }
}
