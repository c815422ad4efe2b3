import Foundation

/// Fixed-point filter weights for resampling one axis, computed the way Pillow's
/// `precompute_coeffs` and `normalize_coeffs_8bpc` do (`src/libImaging/Resample.c`).
///
/// Output sample `i` is `sum(source[starts[i] + t] * weights[i * taps + t] for t < counts[i])`,
/// accumulated in 32-bit integers from `ResampleKernel.half` and shifted right by
/// `ResampleKernel.precisionBits`.
struct ResampleKernel: Sendable {
    /// Fractional bits of the fixed-point weights: 32 bits minus 8 for the pixel value and 2 of
    /// headroom for kernels with negative lobes (Pillow's `PRECISION_BITS`).
    static let precisionBits: Int32 = 32 - 8 - 2
    /// The rounding offset every accumulator starts from.
    static let half: Int32 = 1 << (precisionBits - 1)

    /// Stride between the weight rows of consecutive outputs.
    let taps: Int
    /// First source index read by each output.
    let starts: [Int]
    /// Number of source samples read by each output.
    let counts: [Int]
    /// `outSize * taps` weights; unused tail entries are zero.
    let weights: [Int32]

    init(inSize: Int, outSize: Int, filter: ResamplingFilter) {
        precondition(inSize > 0 && outSize > 0)
        // Pillow passes the source box as C floats; the width survives that exactly for any
        // realistic image (below 2^24 pixels).
        let scale = Double(Float(inSize)) / Double(outSize)
        // When shrinking, the kernel is stretched so that it averages over every source pixel.
        let filterScale = max(scale, 1.0)
        let support = filter.support * filterScale
        let taps = Int(ceil(support)) * 2 + 1
        let inverseScale = 1.0 / filterScale
        let unit = Double(Int32(1) << Self.precisionBits)

        var starts = [Int](repeating: 0, count: outSize)
        var counts = [Int](repeating: 0, count: outSize)
        var weights = [Int32](repeating: 0, count: outSize * taps)
        var row = [Double](repeating: 0, count: taps)
        for i in 0..<outSize {
            let center = (Double(i) + 0.5) * scale
            // C's (int) casts truncate toward zero, and so do Swift's.
            let lower = max(Int(center - support + 0.5), 0)
            let upper = min(Int(center + support + 0.5), inSize)
            let count = upper - lower
            var total = 0.0
            for t in 0..<count {
                let w = filter.weight((Double(t + lower) - center + 0.5) * inverseScale)
                row[t] = w
                total += w
            }
            if total != 0.0 {
                for t in 0..<count { row[t] /= total }
            }
            for t in 0..<count {
                let w = row[t]
                // Round half away from zero, then truncate, as `normalize_coeffs_8bpc` does.
                weights[i * taps + t] = w < 0 ? Int32(-0.5 + w * unit) : Int32(0.5 + w * unit)
            }
            starts[i] = lower
            counts[i] = count
        }
        self.taps = taps
        self.starts = starts
        self.counts = counts
        self.weights = weights
    }

    /// The source samples read by the outputs in `outputs` (which must not be empty).
    func sourceRange(for outputs: Range<Int>) -> Range<Int> {
        // Both ends of the footprint are non-decreasing in the output index.
        let first = starts[outputs.lowerBound]
        let last = outputs.upperBound - 1
        return first..<(starts[last] + counts[last])
    }
}
