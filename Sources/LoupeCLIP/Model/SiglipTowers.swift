import Foundation
import LoupeTensor

/// SigLIP's image encoder: patch embedding with learned positions (no class token), a transformer, a
/// final layer norm, then multihead attention pooling: one learned probe attends over every patch token,
/// and the result, with an MLP added residually, is the embedding.
final class SiglipVisionTower: ImageTower, @unchecked Sendable {
    let configuration: SiglipVisionConfiguration
    let precision: Precision
    private let patchEmbedding: LinearLayer
    private let positionEmbedding: [Float]
    private let encoder: TransformerEncoder
    private let postNorm: LayerNormLayer
    /// The probe's query (`probe · W_qᵀ + b_q`), already scaled by `1/√head_dim`: it is the same for every image.
    private let query: [Float]
    /// Keys and values of the pooling attention in one GEMM (`in_proj` rows `c..<3c`).
    private let keyValue: LinearLayer
    private let headOutput: LinearLayer
    private let headNorm: LayerNormLayer
    private let headFC1: LinearLayer
    private let headFC2: LinearLayer

    init(configuration: SiglipVisionConfiguration, weights: WeightSource, precision: Precision) throws {
        self.configuration = configuration
        self.precision = precision
        let c = configuration.transformer.hiddenSize
        let p = configuration.patchSize
        let i = configuration.transformer.intermediateSize
        let eps = configuration.transformer.layerNormEpsilon
        let prefix = "vision_model"
        // A stride-p convolution is a GEMM over flattened (channel, y, x) patches; SigLIP's has a bias.
        patchEmbedding = try LinearLayer(
            weight: weights.floats("\(prefix).embeddings.patch_embedding.weight", shape: [c, 3, p, p]),
            bias: weights.floats("\(prefix).embeddings.patch_embedding.bias", shape: [c]),
            inFeatures: 3 * p * p, outFeatures: c, precision: precision)
        positionEmbedding = try weights.floats(
            "\(prefix).embeddings.position_embedding.weight", shape: [configuration.sequenceLength, c])
        encoder = try TransformerEncoder(
            configuration: configuration.transformer, prefix: "\(prefix).encoder", weights: weights, precision: precision)
        func norm(_ name: String) throws -> LayerNormLayer {
            try LayerNormLayer(scale: weights.floats("\(name).weight", shape: [c]),
                               shift: weights.floats("\(name).bias", shape: [c]), epsilon: eps)
        }
        func linear(_ name: String, _ out: Int, _ inp: Int) throws -> LinearLayer {
            try LinearLayer(weight: weights.floats("\(name).weight", shape: [out, inp]),
                            bias: weights.floats("\(name).bias", shape: [out]),
                            inFeatures: inp, outFeatures: out, precision: .fp32)
        }
        postNorm = try norm("\(prefix).post_layernorm")

        // The pooling head is a torch nn.MultiheadAttention: q, k and v packed in in_proj_weight/bias.
        let head = "\(prefix).head"
        let heads = configuration.transformer.attentionHeads
        let probe = try weights.floats("\(head).probe", shape: [1, 1, c])
        let inWeight = try weights.floats("\(head).attention.in_proj_weight", shape: [3 * c, c])
        let inBias = try weights.floats("\(head).attention.in_proj_bias", shape: [3 * c])
        let scale = 1 / Double(c / heads).squareRoot()
        query = (0..<c).map { row in
            var sum = Double(inBias[row])
            for k in 0..<c { sum += Double(inWeight[row * c + k]) * Double(probe[k]) }
            return Float(sum * scale)
        }
        keyValue = try LinearLayer(weight: Array(inWeight[(c * c)...]), bias: Array(inBias[c...]),
                                   inFeatures: c, outFeatures: 2 * c, precision: .fp32)
        headOutput = try linear("\(head).attention.out_proj", c, c)
        headNorm = try norm("\(head).layernorm")
        headFC1 = try linear("\(head).mlp.fc1", i, c)
        headFC2 = try linear("\(head).mlp.fc2", c, i)
    }

    /// The embedding's width: the transformer's hidden size (the attention-pooling head keeps it).
    var outputDimension: Int { configuration.transformer.hiddenSize }

    /// Embeds `batch` images of channel-planar pixel values (`[batch, 3, size, size]`) into `output`
    /// (`[batch, hidden]`, not yet normalised).
    func embed(
        pixels: UnsafePointer<Float>, batch: Int, executor: TensorExecutor, workspace: EncoderWorkspace,
        output: UnsafeMutablePointer<Float>
    ) throws {
        let transformer = configuration.transformer
        let c = transformer.hiddenSize
        let p = configuration.patchSize
        let sequence = configuration.sequenceLength
        let rows = batch * sequence
        workspace.reserve(rows: rows, width: c, intermediate: transformer.intermediateSize)
        workspace.staging.reserve(rows * 3 * p * p * 4)

        let columns = workspace.staging.floats()
        gatherPatches(pixels: pixels, batch: batch, side: configuration.imageSize, patch: p, into: columns)
        let patchOut = workspace.qkv.floats()
        try linearFromFP32(patchEmbedding, input: columns, rows: rows, output: patchOut,
                           executor: executor, workspace: workspace)
        let x = workspace.hidden.floats()
        positionEmbedding.withUnsafeBufferPointer { position in
            for row in 0..<rows {
                let dst = x + row * c
                let src = patchOut + row * c
                let pos = position.baseAddress! + (row % sequence) * c
                for k in 0..<c { dst[k] = src[k] + pos[k] }
            }
        }
        // Every token is pooled (by the head, below).
        try encoder.forward(batch: batch, sequence: sequence, causal: false, pooledRows: Array(0..<rows),
                            executor: executor, workspace: workspace)
        let tokens = workspace.pooled.floats()
        try executor.layerNorm(postNorm, input: tokens, rows: rows, output: tokens)

        // Attention pooling: the probe's query against every token's key and value.
        let kv = workspace.qkv.floats()
        try executor.linear(keyValue, input: tokens, rows: rows, output: kv)
        let pooled = workspace.attended.floats()
        let heads = transformer.attentionHeads
        let width = c / heads
        var weights = [Double](repeating: 0, count: sequence)
        query.withUnsafeBufferPointer { query in
            for b in 0..<batch {
                for h in 0..<heads {
                    let q = query.baseAddress! + h * width
                    var largest = -Double.infinity
                    for t in 0..<sequence {
                        let key = kv + (b * sequence + t) * 2 * c + h * width
                        var dot: Float = 0
                        for d in 0..<width { dot += q[d] * key[d] }
                        weights[t] = Double(dot)
                        largest = max(largest, weights[t])
                    }
                    var total = 0.0
                    for t in 0..<sequence {
                        weights[t] = exp(weights[t] - largest)
                        total += weights[t]
                    }
                    let out = pooled + b * c + h * width
                    for d in 0..<width { out[d] = 0 }
                    for t in 0..<sequence {
                        let value = kv + (b * sequence + t) * 2 * c + c + h * width
                        let w = Float(weights[t] / total)
                        for d in 0..<width { out[d] += w * value[d] }
                    }
                }
            }
        }
        try executor.linear(headOutput, input: pooled, rows: batch, output: output)
        let normed = workspace.hidden.floats()
        try executor.layerNorm(headNorm, input: output, rows: batch, output: normed)
        let mlp = workspace.mlp.floats()
        try executor.linear(headFC1, input: normed, rows: batch, output: mlp, activation: transformer.activation)
        try executor.linear(headFC2, input: mlp, rows: batch, output: output, accumulate: true)
    }
}

/// SigLIP's text encoder: token and position embeddings, a bidirectional transformer, a final layer norm;
/// the last position's output through the `head` linear layer is the embedding.
final class SiglipTextTower: @unchecked Sendable {
    let configuration: SiglipTextConfiguration
    private let tokenEmbedding: EmbeddingTable
    private let positionEmbedding: [Float]
    private let encoder: TransformerEncoder
    private let finalNorm: LayerNormLayer
    private let head: LinearLayer

    init(configuration: SiglipTextConfiguration, weights: WeightSource, precision: Precision) throws {
        self.configuration = configuration
        let c = configuration.transformer.hiddenSize
        tokenEmbedding = try weights.table(
            "text_model.embeddings.token_embedding.weight", shape: [configuration.vocabularySize, c])
        positionEmbedding = try weights.floats(
            "text_model.embeddings.position_embedding.weight", shape: [configuration.maxPositions, c])
        encoder = try TransformerEncoder(
            configuration: configuration.transformer, prefix: "text_model.encoder", weights: weights,
            precision: precision.forTextTowers)
        finalNorm = try LayerNormLayer(
            scale: weights.floats("text_model.final_layer_norm.weight", shape: [c]),
            shift: weights.floats("text_model.final_layer_norm.bias", shape: [c]),
            epsilon: configuration.transformer.layerNormEpsilon)
        head = try LinearLayer(
            weight: weights.floats("text_model.head.weight", shape: [configuration.projectionSize, c]),
            bias: weights.floats("text_model.head.bias", shape: [configuration.projectionSize]),
            inFeatures: c, outFeatures: configuration.projectionSize, precision: .fp32)
    }

    /// Checks ids before any work: non-empty, within the vocabulary and the position table.
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

    /// Embeds token sequences of one length into `output` (`[count, projectionSize]`, not yet normalised).
    /// Attention is bidirectional, so every position counts: the whole sequence runs.
    func embed(
        tokens: [[Int32]], executor: TensorExecutor, workspace: EncoderWorkspace, output: UnsafeMutablePointer<Float>
    ) throws {
        let batch = tokens.count
        guard batch > 0 else { return }
        let sequence = tokens[0].count
        precondition(tokens.allSatisfy { $0.count == sequence }, "a text batch must have one length")
        let c = configuration.transformer.hiddenSize
        workspace.reserve(rows: batch * sequence, width: c, intermediate: configuration.transformer.intermediateSize)
        let x = workspace.hidden.floats()
        try positionEmbedding.withUnsafeBufferPointer { position in
            for (b, ids) in tokens.enumerated() {
                for (t, id) in ids.enumerated() {
                    let dst = x + (b * sequence + t) * c
                    try tokenEmbedding.read(row: Int(id), into: dst)
                    let pos = position.baseAddress! + t * c
                    for k in 0..<c { dst[k] += pos[k] }
                }
            }
        }
        try encoder.forward(batch: batch, sequence: sequence, causal: false,
                            pooledRows: (0..<batch).map { $0 * sequence + sequence - 1 }, executor: executor,
                            workspace: workspace)
        let pooled = workspace.pooled.floats()
        try executor.layerNorm(finalNorm, input: pooled, rows: batch, output: pooled)
        try executor.linear(head, input: pooled, rows: batch, output: output)
    }
}
