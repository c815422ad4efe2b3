import CDNNL

extension TensorExecutor {
    /// Multi-head scaled dot-product attention, `softmax(Q Kᵀ / √d) V`, over a fused QKV buffer.
    ///
    /// The heads are read in place through strided views (no transposes): oneDNN multiplies
    /// `[batch, heads, sequence, headDim]` views of the QKV rows and writes the result straight into
    /// `[batch, sequence, width]` order.
    ///
    /// - Parameters:
    ///   - qkv: fp32 `[batch, sequence, 3 * width]`, each row holding q, then k, then v.
    ///   - causal: when set, position i attends only to positions ≤ i (the CLIP text tower).
    ///   - output: fp32 `[batch, sequence, width]`.
    public func attention(
        qkv: UnsafePointer<Float>, batch: Int, sequence: Int, width: Int, heads: Int, causal: Bool,
        output: UnsafeMutablePointer<Float>
    ) throws {
        guard batch > 0, sequence > 0 else { return }
        guard heads > 0, width % heads == 0 else {
            throw TensorError(.invalidArgument, "width \(width) is not divisible into \(heads) heads")
        }
        let headDim = width / heads
        let (b, h, s, d) = (batch, heads, sequence, headDim)
        let rowStride = 3 * width
        scores.reserve(b * h * s * s * 4)

        let scoresPrimitive = try cached(
            PrimitiveKey(kind: .attentionScores, a: b, b: h, c: s, d: d, e: 0, f: 0, g: 0, h: 0)
        ) {
            var q = try memoryDescriptor([b, h, s, d], strides: [s * rowStride, d, rowStride, 1], type: dnnl_f32)
            var kT = try memoryDescriptor([b, h, d, s], strides: [s * rowStride, d, 1, rowStride], type: dnnl_f32)
            var dst = try memoryDescriptor([b, h, s, s], type: dnnl_f32)
            var desc = dnnl_matmul_desc_t()
            try dnnlCheck(dnnl_matmul_desc_init(&desc, &q, &kT, nil, &dst), "attention scores descriptor")
            let attributes = try DNNLAttributes()
            try attributes.setOutputScale(1 / Float(d).squareRoot())
            return try DNNLPrimitive(
                operationDescriptor: &desc, attributes: attributes,
                arguments: [(DNNL_ARG_SRC, q), (DNNL_ARG_WEIGHTS, kT), (DNNL_ARG_DST, dst)],
                name: "attention scores \(b)x\(h)x\(s)x\(d)")
        }
        let softmaxPrimitive = try cached(
            PrimitiveKey(kind: .softmax, a: b * h * s, b: s, c: 0, d: 0, e: 0, f: 0, g: 0, h: 0)
        ) {
            var data = try memoryDescriptor([b * h * s, s], type: dnnl_f32)
            var desc = dnnl_softmax_desc_t()
            try dnnlCheck(dnnl_softmax_forward_desc_init(&desc, dnnl_forward_inference, &data, 1), "softmax descriptor")
            return try DNNLPrimitive(
                operationDescriptor: &desc, attributes: try DNNLAttributes(),
                arguments: [(DNNL_ARG_SRC, data), (DNNL_ARG_DST, data)], name: "softmax \(b * h * s)x\(s)")
        }
        let valuesPrimitive = try cached(
            PrimitiveKey(kind: .attentionValues, a: b, b: h, c: s, d: d, e: 0, f: 0, g: 0, h: 0)
        ) {
            var p = try memoryDescriptor([b, h, s, s], type: dnnl_f32)
            var v = try memoryDescriptor([b, h, s, d], strides: [s * rowStride, d, rowStride, 1], type: dnnl_f32)
            var dst = try memoryDescriptor([b, h, s, d], strides: [s * width, d, width, 1], type: dnnl_f32)
            var desc = dnnl_matmul_desc_t()
            try dnnlCheck(dnnl_matmul_desc_init(&desc, &p, &v, nil, &dst), "attention values descriptor")
            return try DNNLPrimitive(
                operationDescriptor: &desc, attributes: try DNNLAttributes(),
                arguments: [(DNNL_ARG_SRC, p), (DNNL_ARG_WEIGHTS, v), (DNNL_ARG_DST, dst)],
                name: "attention values \(b)x\(h)x\(s)x\(d)")
        }

        let base = UnsafeMutableRawPointer(mutating: qkv)
        let q = base
        let k = base + width * 4
        let v = base + 2 * width * 4
        try run(scoresPrimitive, [q, k, scores.pointer])
        if causal { maskFuture(scores.floats(), matrices: b * h, sequence: s) }
        try run(softmaxPrimitive, [scores.pointer, scores.pointer])
        try run(valuesPrimitive, [scores.pointer, v, UnsafeMutableRawPointer(output)])
    }

    /// Sets the scores of positions after the query position to -inf, so softmax gives them zero weight.
    private func maskFuture(_ scores: UnsafeMutablePointer<Float>, matrices: Int, sequence s: Int) {
        for m in 0..<matrices {
            let matrix = scores + m * s * s
            for i in 0..<s where i + 1 < s {
                (matrix + i * s + i + 1).update(repeating: -.infinity, count: s - i - 1)
            }
        }
    }
}
