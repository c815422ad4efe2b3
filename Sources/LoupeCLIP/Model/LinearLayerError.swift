import LoupeTensor

/// How far one linear layer in a lower precision lands from the same layer in fp32, on the same input.
struct LinearLayerError: Sendable, CustomStringConvertible {
    /// `layers.N.name` inside the encoder, or the layer's own name outside it.
    let name: String
    /// `‖y − y_fp32‖ / ‖y_fp32‖` over every output of the batch.
    let relativeError: Double

    var description: String { "\(name): \(relativeError)" }

    /// Runs `reference` (fp32) and `candidate` on the same fp32 `input` rows and compares the outputs; the
    /// reference output is returned through `keeping` when given (to continue a forward pass with it).
    static func measure(
        _ name: String, _ reference: LinearLayer, _ candidate: LinearLayer, input: UnsafePointer<Float>, rows: Int,
        activation: Activation = .identity, executor: TensorExecutor, keeping: UnsafeMutablePointer<Float>? = nil
    ) throws -> LinearLayerError {
        guard reference.precision == .fp32, candidate.precision.inputPrecision == .fp32 else {
            throw CLIPError(.invalidConfig, "layer errors compare an fp32 layer with an fp32 or int8 one")
        }
        let count = rows * reference.outFeatures
        var expected = [Float](repeating: 0, count: count)
        var actual = [Float](repeating: 0, count: count)
        try expected.withUnsafeMutableBytes { output in
            try executor.linear(reference, input: input, rows: rows, output: output.baseAddress!, activation: activation)
        }
        try actual.withUnsafeMutableBytes { output in
            try executor.linear(candidate, input: input, rows: rows, output: output.baseAddress!, activation: activation)
        }
        keeping?.update(from: expected, count: count)
        var difference = 0.0, norm = 0.0
        for (a, e) in zip(actual, expected) {
            difference += Double(a - e) * Double(a - e)
            norm += Double(e) * Double(e)
        }
        return LinearLayerError(name: name, relativeError: norm > 0 ? (difference / norm).squareRoot() : difference.squareRoot())
    }
}

extension TransformerEncoder {
    /// Runs this (fp32) encoder over `workspace.hidden` and, beside each linear layer, the layer at the same
    /// place in `other`, fed the same fp32 rows: each layer's own error, not the error accumulated before it.
    func linearLayerErrors(
        comparedWith other: TransformerEncoder, batch: Int, sequence: Int, causal: Bool, executor: TensorExecutor,
        workspace: EncoderWorkspace
    ) throws -> [LinearLayerError] {
        guard precision == .fp32, other.layers.count == layers.count else {
            throw CLIPError(.invalidConfig, "layer errors need this encoder in fp32 and another of the same depth")
        }
        let rows = batch * sequence
        let c = configuration.hiddenSize
        let i = configuration.intermediateSize
        workspace.reserve(rows: rows, width: c, intermediate: i)
        let x = workspace.hidden.floats()
        let normed = workspace.normed.floats()
        let qkv = workspace.qkv.floats()
        let attended = workspace.attended.floats()
        let mlp = workspace.mlp.floats()
        var product = [Float](repeating: 0, count: rows * c)
        var errors: [LinearLayerError] = []
        for (index, (layer, candidate)) in zip(layers, other.layers).enumerated() {
            let p = "layers.\(index)"
            try executor.layerNorm(layer.norm1, input: x, rows: rows, output: normed)
            errors.append(try .measure("\(p).qkv", layer.qkv, candidate.qkv, input: normed, rows: rows,
                                       executor: executor, keeping: qkv))
            try executor.attention(qkv: qkv, batch: batch, sequence: sequence, width: c,
                                   heads: configuration.attentionHeads, causal: causal, output: attended)
            try product.withUnsafeMutableBufferPointer { out in
                errors.append(try .measure("\(p).out_proj", layer.outProjection, candidate.outProjection,
                                           input: attended, rows: rows, executor: executor, keeping: out.baseAddress!))
                for j in 0..<(rows * c) { x[j] += out[j] }
            }
            try executor.layerNorm(layer.norm2, input: x, rows: rows, output: normed)
            errors.append(try .measure("\(p).fc1", layer.fc1, candidate.fc1, input: normed, rows: rows,
                                       activation: configuration.activation, executor: executor, keeping: mlp))
            try product.withUnsafeMutableBufferPointer { out in
                errors.append(try .measure("\(p).fc2", layer.fc2, candidate.fc2, input: mlp, rows: rows,
                                           executor: executor, keeping: out.baseAddress!))
                for j in 0..<(rows * c) { x[j] += out[j] }
            }
        }
        return errors
    }
}
