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
        (descriptor, buffer) = try Self.packBlocked(codes, k: k, n: n)
    }

    /// The blocked layout oneDNN picks for a plain 2-D `s8 x s8 -> s32` product.
    private static func packBlocked(_ codes: [Int8], k: Int, n: Int) throws -> (dnnl_memory_desc_t, AlignedBuffer) {
        // Let oneDNN pick the layout for a representative batch, then reorder the codes into it once.
        let probeRows = 1024
        var src = try memoryDescriptor([probeRows, k], type: dnnl_s8)
        var dst = try memoryDescriptor([probeRows, n], type: dnnl_s32)
        var anyWeights = dnnl_memory_desc_t()
        try dnnlCheck(
            loupe_md_init_tag(&anyWeights, 2, [Int64(k), Int64(n)], dnnl_s8, dnnl_format_tag_any),
            "int8 weights descriptor")
        var desc = dnnl_matmul_desc_t()
        try dnnlCheck(dnnl_matmul_desc_init(&desc, &src, &anyWeights, nil, &dst), "int8 matmul descriptor")
        let probe = try DNNLPrimitive(
            operationDescriptor: &desc, attributes: try DNNLAttributes(), arguments: [], name: "int8 weight layout probe")
        guard let chosen = probe.chosenDescriptor(dnnl_query_weights_md) else {
            throw TensorError(.backend, "oneDNN chose no int8 weight layout")
        }
        var packedMD = chosen
        let buffer = AlignedBuffer(byteCount: dnnl_memory_desc_get_size(&packedMD))
        // The codes as a K x N matrix over PyTorch's [N, K] order.
        let sourceMD = try memoryDescriptor([k, n], strides: [1, k], type: dnnl_s8)
        var source = codes
        try source.withUnsafeMutableBytes { bytes in
            try Reorder.run(from: sourceMD, bytes.baseAddress!, to: chosen, buffer.pointer)
        }
        return (chosen, buffer)
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
