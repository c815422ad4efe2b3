import LoupeTensor

/// CLIP's image encoder: patch embedding, a transformer, the class token's projection.
final class VisionTower: ImageTower, @unchecked Sendable {
    let configuration: VisionConfiguration
    let precision: Precision
    private let patchEmbedding: LinearLayer
    private let classEmbedding: [Float]
    private let positionEmbedding: [Float]
    private let preNorm: LayerNormLayer
    private let postNorm: LayerNormLayer
    private let encoder: TransformerEncoder
    private let projection: LinearLayer

    init(configuration: VisionConfiguration, projectionDim: Int, weights: WeightSource, precision: Precision) throws {
        self.configuration = configuration
        self.precision = precision
        let c = configuration.transformer.hiddenSize
        let p = configuration.patchSize
        let eps = configuration.transformer.layerNormEpsilon
        // A stride-p convolution without bias is a GEMM over flattened (channel, y, x) patches.
        patchEmbedding = try LinearLayer(
            weight: weights.floats("vision_model.embeddings.patch_embedding.weight", shape: [c, 3, p, p]), bias: nil,
            inFeatures: 3 * p * p, outFeatures: c, precision: precision)
        classEmbedding = try weights.floats("vision_model.embeddings.class_embedding", shape: [c])
        positionEmbedding = try weights.floats(
            "vision_model.embeddings.position_embedding.weight", shape: [configuration.sequenceLength, c])
        // "pre_layrnorm" is how Hugging Face spells it in every CLIP checkpoint.
        preNorm = try LayerNormLayer(
            scale: weights.floats("vision_model.pre_layrnorm.weight", shape: [c]),
            shift: weights.floats("vision_model.pre_layrnorm.bias", shape: [c]), epsilon: eps)
        postNorm = try LayerNormLayer(
            scale: weights.floats("vision_model.post_layernorm.weight", shape: [c]),
            shift: weights.floats("vision_model.post_layernorm.bias", shape: [c]), epsilon: eps)
        encoder = try TransformerEncoder(
            configuration: configuration.transformer, prefix: "vision_model.encoder", weights: weights, precision: precision)
        projection = try LinearLayer(
            weight: weights.floats("visual_projection.weight", shape: [projectionDim, c]), bias: nil,
            inFeatures: c, outFeatures: projectionDim, precision: .fp32)
    }

    var outputDimension: Int { projection.outFeatures }

    /// Embeds `batch` images of channel-planar pixel values (`[batch, 3, size, size]`) into `output`
    /// (`[batch, projectionDim]`, not yet normalised).
    func embed(
        pixels: UnsafePointer<Float>, batch: Int, executor: TensorExecutor, workspace: EncoderWorkspace,
        output: UnsafeMutablePointer<Float>
    ) throws {
        let sequence = configuration.sequenceLength
        try prepareHidden(pixels: pixels, batch: batch, executor: executor, workspace: workspace)
        // Only the class token is pooled.
        try encoder.forward(batch: batch, sequence: sequence, causal: false,
                            pooledRows: (0..<batch).map { $0 * sequence }, executor: executor, workspace: workspace)
        let pooled = workspace.pooled.floats()
        try executor.layerNorm(postNorm, input: pooled, rows: batch, output: pooled)
        try executor.linear(projection, input: pooled, rows: batch, output: output)
    }

    /// Patch embedding, class token, positions and the pre-norm: the encoder's input in `workspace.hidden`,
    /// with the flattened patches left in `workspace.staging`.
    private func prepareHidden(
        pixels: UnsafePointer<Float>, batch: Int, executor: TensorExecutor, workspace: EncoderWorkspace
    ) throws {
        let c = configuration.transformer.hiddenSize
        let p = configuration.patchSize
        let side = configuration.imageSize
        let grid = configuration.patchesPerSide
        let patches = grid * grid
        let sequence = configuration.sequenceLength
        let patchWidth = 3 * p * p
        workspace.reserve(rows: batch * sequence, width: c, intermediate: configuration.transformer.intermediateSize)
        workspace.staging.reserve(batch * patches * patchWidth * 4)

        let columns = workspace.staging.floats()
        gatherPatches(pixels: pixels, batch: batch, side: side, patch: p, into: columns)
        let patchOut = workspace.qkv.floats()
        try linearFromFP32(patchEmbedding, input: columns, rows: batch * patches, output: patchOut,
                           executor: executor, workspace: workspace)

        // Class token and patches, plus position embeddings.
        let x = workspace.hidden.floats()
        positionEmbedding.withUnsafeBufferPointer { position in
            classEmbedding.withUnsafeBufferPointer { cls in
                for b in 0..<batch {
                    let base = x + b * sequence * c
                    for i in 0..<c { base[i] = cls[i] + position[i] }
                    for t in 1..<sequence {
                        let dst = base + t * c
                        let src = patchOut + (b * patches + t - 1) * c
                        let pos = position.baseAddress! + t * c
                        for i in 0..<c { dst[i] = src[i] + pos[i] }
                    }
                }
            }
        }
        try executor.layerNorm(preNorm, input: x, rows: batch * sequence, output: x)
    }

    /// Each linear layer's relative error in `other` (the same weights in another precision) against this
    /// fp32 tower, every layer fed this tower's own fp32 input rows for `batch` images.
    func linearLayerErrors(
        comparedWith other: VisionTower, pixels: UnsafePointer<Float>, batch: Int, executor: TensorExecutor,
        workspace: EncoderWorkspace
    ) throws -> [LinearLayerError] {
        let rows = batch * configuration.patchesPerSide * configuration.patchesPerSide
        try prepareHidden(pixels: pixels, batch: batch, executor: executor, workspace: workspace)
        let patchError = try LinearLayerError.measure(
            "patch_embedding", patchEmbedding, other.patchEmbedding, input: workspace.staging.floats(), rows: rows,
            executor: executor)
        return [patchError] + (try encoder.linearLayerErrors(
            comparedWith: other.encoder, batch: batch, sequence: configuration.sequenceLength, causal: false,
            executor: executor, workspace: workspace))
    }
}

/// im2col for a stride-`patch` convolution: one row per patch (row-major over the grid), columns ordered
/// (channel, y, x) like the convolution weight. `pixels` is `[batch, 3, side, side]`.
func gatherPatches(pixels: UnsafePointer<Float>, batch: Int, side: Int, patch p: Int, into columns: UnsafeMutablePointer<Float>) {
    let grid = side / p
    let patches = grid * grid
    let patchWidth = 3 * p * p
    for b in 0..<batch {
        for py in 0..<grid {
            for px in 0..<grid {
                var row = columns + ((b * patches) + py * grid + px) * patchWidth
                for channel in 0..<3 {
                    let plane = pixels + (b * 3 + channel) * side * side
                    for y in 0..<p {
                        row.update(from: plane + (py * p + y) * side + px * p, count: p)
                        row += p
                    }
                }
            }
        }
    }
}

/// A linear layer over fp32 input, converting it to bf16 first when the layer is bf16.
func linearFromFP32(
    _ layer: LinearLayer, input: UnsafeMutablePointer<Float>, rows: Int, output: UnsafeMutablePointer<Float>,
    executor: TensorExecutor, workspace: EncoderWorkspace
) throws {
    if layer.precision == .bf16 {
        workspace.stagingBF16.reserve(rows * layer.inFeatures * 2)
        try executor.convert(input, count: rows * layer.inFeatures, toBFloat16: workspace.stagingBF16.pointer)
        try executor.linear(layer, input: workspace.stagingBF16.pointer, rows: rows, output: output)
    } else {
        try executor.linear(layer, input: input, rows: rows, output: output)
    }
}
