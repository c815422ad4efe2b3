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

    /// Per-row symmetric quantisation: `scale = max|w| / 127`, `q = round(w * 127 / max|w|)` (ties to even).
    /// An all-zero row gets scale 0; a non-finite weight is an error naming its row.
    static func quantize(
        _ weight: [Float], inFeatures k: Int, outFeatures n: Int
    ) throws -> (codes: [Int8], scales: [Float]) {
        precondition(weight.count == n * k, "weight has \(weight.count) values, not \(n) x \(k)")
        if let bad = weight.firstIndex(where: { !$0.isFinite }) {
            throw TensorError(.invalidArgument, "weight row \(bad / k) holds a non-finite value; int8 cannot represent it")
        }
        // The same rule as the activations' (and the same vectorised kernel, on OpenMP's threads): a
        // ViT-B/32's 88 million weights quantise in milliseconds instead of a tenth of a second.
        var codes = [Int8](repeating: 0, count: n * k)
        var scales = [Float](repeating: 0, count: n)
        RowQuantizer.quantize(weight, rows: n, columns: k, codes: &codes, scales: &scales)
        return (codes, scales)
    }
}
