import LoupeTensor

/// CLIP's text encoder: token and position embeddings, a causal transformer, the pooled token's projection.
final class TextTower: @unchecked Sendable {
    let configuration: TextConfiguration
    private let tokenEmbedding: EmbeddingTable
    private let positionEmbedding: [Float]
    private let finalNorm: LayerNormLayer
    private let encoder: TransformerEncoder
    private let projection: LinearLayer

    init(configuration: TextConfiguration, projectionDim: Int, weights: WeightSource, precision: Precision) throws {
        self.configuration = configuration
        let c = configuration.transformer.hiddenSize
        tokenEmbedding = try weights.table(
            "text_model.embeddings.token_embedding.weight", shape: [configuration.vocabularySize, c])
        positionEmbedding = try weights.floats(
            "text_model.embeddings.position_embedding.weight", shape: [configuration.maxPositions, c])
        finalNorm = try LayerNormLayer(
            scale: weights.floats("text_model.final_layer_norm.weight", shape: [c]),
            shift: weights.floats("text_model.final_layer_norm.bias", shape: [c]),
            epsilon: configuration.transformer.layerNormEpsilon)
        encoder = try TransformerEncoder(
            configuration: configuration.transformer, prefix: "text_model.encoder", weights: weights,
            precision: precision.forTextTowers)
        projection = try LinearLayer(
            weight: weights.floats("text_projection.weight", shape: [projectionDim, c]), bias: nil,
            inFeatures: c, outFeatures: projectionDim, precision: .fp32)
    }

    /// The position whose output is pooled, by Hugging Face's rule for this configuration.
    func poolingIndex(_ ids: [Int32]) -> Int {
        if configuration.eosTokenID == 2 {
            // OpenAI's configs: the end-of-text token has the largest id; argmax takes its first occurrence.
            var best = 0
            for (i, id) in ids.enumerated() where id > ids[best] { best = i }
            return best
        }
        return ids.firstIndex(of: Int32(configuration.eosTokenID)) ?? 0
    }

    /// Checks ids before any work: non-empty, within the vocabulary and the context length.
    func validate(_ ids: [Int32], index: Int) throws {
        guard !ids.isEmpty else { throw CLIPError(.invalidInput, "token sequence \(index) is empty") }
        guard ids.count <= configuration.maxPositions else {
            throw CLIPError(.invalidInput,
                            "token sequence \(index) has \(ids.count) tokens; the model takes at most \(configuration.maxPositions)")
        }
        if let bad = ids.first(where: { $0 < 0 || Int($0) >= configuration.vocabularySize }) {
            throw CLIPError(.invalidInput,
                            "token sequence \(index) contains id \(bad), outside the vocabulary of \(configuration.vocabularySize)")
        }
    }

    /// Embeds a batch of token sequences into `output` (`[count, projectionDim]`, not yet normalised).
    ///
    /// Each sequence only runs up to its pooled position: with a causal mask, later tokens cannot change
    /// it, so the result is exact and a short query costs a fraction of a 77-token pass.
    func embed(
        tokens: [[Int32]], executor: TensorExecutor, workspace: EncoderWorkspace, output: UnsafeMutablePointer<Float>
    ) throws {
        let batch = tokens.count
        guard batch > 0 else { return }
        let pooledAt = tokens.map(poolingIndex)
        let sequence = try prepareHidden(tokens: tokens, pooledAt: pooledAt, workspace: workspace)
        try encoder.forward(batch: batch, sequence: sequence, causal: true,
                            pooledRows: pooledAt.enumerated().map { $0 * sequence + $1 }, executor: executor,
                            workspace: workspace)
        let pooled = workspace.pooled.floats()
        try executor.layerNorm(finalNorm, input: pooled, rows: batch, output: pooled)
        try executor.linear(projection, input: pooled, rows: batch, output: output)
    }

    /// Fills `workspace.hidden` with the token and position embeddings of `tokens`, each run to the longest
    /// pooled position, and returns that sequence length.
    private func prepareHidden(tokens: [[Int32]], pooledAt: [Int], workspace: EncoderWorkspace) throws -> Int {
        let c = configuration.transformer.hiddenSize
        let sequence = pooledAt.max()! + 1
        workspace.reserve(rows: tokens.count * sequence, width: c, intermediate: configuration.transformer.intermediateSize)
        let x = workspace.hidden.floats()
        try positionEmbedding.withUnsafeBufferPointer { position in
            for (b, ids) in tokens.enumerated() {
                for t in 0..<sequence {
                    // Positions past this sequence's pooled token are never read back; fill them with its
                    // last token.
                    let id = Int(ids[min(t, ids.count - 1)])
                    let dst = x + (b * sequence + t) * c
                    try tokenEmbedding.read(row: id, into: dst)
                    let pos = position.baseAddress! + t * c
                    for i in 0..<c { dst[i] += pos[i] }
                }
            }
        }
        return sequence
    }

    /// Each linear layer's relative error in `other` (the same weights in another precision) against this
    /// fp32 tower, every layer fed this tower's own fp32 input rows for the token sequences `tokens`.
    func linearLayerErrors(
        comparedWith other: TextTower, tokens: [[Int32]], executor: TensorExecutor, workspace: EncoderWorkspace
    ) throws -> [LinearLayerError] {
        guard !tokens.isEmpty else { return [] }
        for (index, ids) in tokens.enumerated() { try validate(ids, index: index) }
        // The projection stays fp32 in every precision, so only the encoder's layers can differ.
        let sequence = try prepareHidden(tokens: tokens, pooledAt: tokens.map(poolingIndex), workspace: workspace)
        return try encoder.linearLayerErrors(
            comparedWith: other.encoder, batch: tokens.count, sequence: sequence, causal: true, executor: executor,
            workspace: workspace)
    }
}
