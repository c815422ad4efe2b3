import CDNNL

extension TensorExecutor {
    /// Multi-head scaled dot-product attention, `softmax(Q Kᵀ / √d) V`, over a fused QKV buffer.
    ///
    /// The heads are read in place through strided views (no transposes): oneDNN multiplies
    /// `[batch, heads, sequence, headDim]` views of the QKV rows and writes the result straight into
    /// `[batch, sequence, width]` order.
    ///
    /// With bf16 QKV rows both products run in bf16 (with fp32 sums): on a processor with native bf16
    /// they take half the time of fp32's, and the softmax, computed in fp32, writes bf16 probabilities.
    ///
    /// - Parameters:
    ///   - qkv: `[batch, sequence, 3 * width]` in `precision` (fp32 or bf16), each row holding q, then k,
    ///     then v.
    ///   - causal: when set, position i attends only to positions ≤ i (the CLIP text tower).
    ///   - output: fp32 `[batch, sequence, width]`.
    public func attention(
        qkv: UnsafeRawPointer, precision: Precision = .fp32, batch: Int, sequence: Int, width: Int, heads: Int,
        causal: Bool, output: UnsafeMutablePointer<Float>
    ) throws {
        guard batch > 0, sequence > 0 else { return }
        guard heads > 0, width % heads == 0 else {
            throw TensorError(.invalidArgument, "width \(width) is not divisible into \(heads) heads")
        }
        guard precision == .fp32 || precision == .bf16 else {
            throw TensorError(.invalidArgument, "attention takes fp32 or bf16 rows, not \(precision)")
        }
        let headDim = width / heads
        let (b, h, s, d) = (batch, heads, sequence, headDim)
        let rowStride = 3 * width
        let type = precision.dnnlType
        let half = precision == .bf16 ? 1 : 0
        scores.reserve(b * h * s * s * 4)
        if precision == .bf16 { probabilities.reserve(b * h * s * s * 2) }

        let scoresPrimitive = try cached(
            PrimitiveKey(kind: .attentionScores, a: b, b: h, c: s, d: d, e: half, f: 0, g: 0, h: 0)
        ) {
            var q = try memoryDescriptor([b, h, s, d], strides: [s * rowStride, d, rowStride, 1], type: type)
            var kT = try memoryDescriptor([b, h, d, s], strides: [s * rowStride, d, 1, rowStride], type: type)
            var dst = try memoryDescriptor([b, h, s, s], type: dnnl_f32)
            var desc = dnnl_matmul_desc_t()
            try dnnlCheck(dnnl_matmul_desc_init(&desc, &q, &kT, nil, &dst), "attention scores descriptor")
            let attributes = try DNNLAttributes()
            try attributes.setOutputScale(1 / Float(d).squareRoot())
            return try DNNLPrimitive(
                operationDescriptor: &desc, attributes: attributes,
                arguments: [(DNNL_ARG_SRC, q), (DNNL_ARG_WEIGHTS, kT), (DNNL_ARG_DST, dst)],
                name: "attention scores \(b)x\(h)x\(s)x\(d) \(precision)")
        }
        let softmaxPrimitive = try cached(
            PrimitiveKey(kind: .softmax, a: b * h * s, b: s, c: half, d: 0, e: 0, f: 0, g: 0, h: 0)
        ) {
            var source = try memoryDescriptor([b * h * s, s], type: dnnl_f32)
            var destination = try memoryDescriptor([b * h * s, s], type: type)
            var desc = dnnl_softmax_v2_desc_t()
            try dnnlCheck(
                dnnl_softmax_v2_forward_desc_init(&desc, dnnl_forward_inference, dnnl_softmax_accurate, &source,
                                                  &destination, 1),
                "softmax descriptor")
            return try DNNLPrimitive(
                operationDescriptor: &desc, attributes: try DNNLAttributes(),
                arguments: [(DNNL_ARG_SRC, source), (DNNL_ARG_DST, destination)], name: "softmax \(b * h * s)x\(s)")
        }
        let valuesPrimitive = try cached(
            PrimitiveKey(kind: .attentionValues, a: b, b: h, c: s, d: d, e: half, f: 0, g: 0, h: 0)
        ) {
            var p = try memoryDescriptor([b, h, s, s], type: type)
            var v = try memoryDescriptor([b, h, s, d], strides: [s * rowStride, d, rowStride, 1], type: type)
            var dst = try memoryDescriptor([b, h, s, d], strides: [s * width, d, width, 1], type: dnnl_f32)
            var desc = dnnl_matmul_desc_t()
            try dnnlCheck(dnnl_matmul_desc_init(&desc, &p, &v, nil, &dst), "attention values descriptor")
            return try DNNLPrimitive(
                operationDescriptor: &desc, attributes: try DNNLAttributes(),
                arguments: [(DNNL_ARG_SRC, p), (DNNL_ARG_WEIGHTS, v), (DNNL_ARG_DST, dst)],
                name: "attention values \(b)x\(h)x\(s)x\(d) \(precision)")
        }

        let base = UnsafeMutableRawPointer(mutating: qkv)
        let bytes = precision == .bf16 ? 2 : 4
        let q = base
        let k = base + width * bytes
        let v = base + 2 * width * bytes
        let weights = precision == .bf16 ? probabilities.pointer : scores.pointer
        try run(scoresPrimitive, [q, k, scores.pointer])
        if causal { maskFuture(scores.floats(), matrices: b * h, sequence: s) }
        try run(softmaxPrimitive, [scores.pointer, weights])
        try run(valuesPrimitive, [weights, v, UnsafeMutableRawPointer(output)])
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
