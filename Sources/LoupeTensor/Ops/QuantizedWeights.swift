import CDNNL

/// A linear layer's weights as symmetric int8, one scale per output channel, packed once in the blocked
/// layout oneDNN picks for a plain 2-D `s8 x s8 -> s32` product.
struct QuantizedWeights {
    let descriptor: dnnl_memory_desc_t
    let buffer: AlignedBuffer
    /// fp32 `[outFeatures]`: `w[n][k] ≈ q[n][k] * scales[n]`.
    let scales: AlignedBuffer

    /// Quantises `weight` (row-major `[outFeatures, inFeatures]`) and packs the codes.
    init(weight: [Float], inFeatures k: Int, outFeatures n: Int) throws {
        let (codes, scaleValues) = try QuantizedWeights.quantize(weight, inFeatures: k, outFeatures: n)
        scales = AlignedBuffer(byteCount: n * 4)
        scales.floats().update(from: scaleValues, count: n)
        (descriptor, buffer) = try WeightPacking.pack(codes, sourceType: dnnl_s8, weightType: dnnl_s8, inputType: dnnl_s8,
                                                      outputType: dnnl_s32, inFeatures: k, outFeatures: n)
    }

    /// Per-row symmetric quantisation: `scale = max|w| / 127`, `q = round(w / scale)` (ties to even).
    /// An all-zero row gets scale 0; a non-finite weight is an error naming its row.
    static func quantize(
        _ weight: [Float], inFeatures k: Int, outFeatures n: Int
    ) throws -> (codes: [Int8], scales: [Float]) {
        var codes = [Int8](repeating: 0, count: n * k)
        var scales = [Float](repeating: 0, count: n)
        for row in 0..<n {
            let values = weight[(row * k)..<((row + 1) * k)]
            guard values.allSatisfy(\.isFinite) else {
                throw TensorError(.invalidArgument, "weight row \(row) holds a non-finite value; int8 cannot represent it")
            }
            let largest = values.reduce(Float(0)) { max($0, abs($1)) }
            guard largest > 0 else { continue }
            let inverse = 127 / largest
            for (i, value) in values.enumerated() {
                codes[row * k + i] = Int8(min(max((value * inverse).rounded(.toNearestOrEven), -127), 127))
            }
            scales[row] = largest / 127
        }
        return (codes, scales)
    }
}
