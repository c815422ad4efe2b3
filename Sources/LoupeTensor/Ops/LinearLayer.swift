import CDNNL

/// A dense layer `y = x Wᵀ + b` whose weights are packed once into oneDNN's blocked layout.
///
/// In `int8` the weights are quantised at load, symmetric per output channel (`scale = max|w| / 127`
/// for each row of PyTorch's `[out, in]`); inputs are fp32 rows that the executor quantises per row, or
/// rows quantised already (`QuantizedRows`).
///
/// The weights are packed by `WeightPacking`. Immutable after creation, so one layer serves any number
/// of executors.
public final class LinearLayer: @unchecked Sendable {
    public let inFeatures: Int
    public let outFeatures: Int
    /// The precision of the weights and of the input rows this layer expects.
    public let precision: Precision
    let packedWeights: AlignedBuffer
    let packedDescriptor: dnnl_memory_desc_t
    let bias: AlignedBuffer?
    /// int8 layers: one fp32 scale per output channel (`w ≈ q * scale`), applied after the int32 product.
    let weightScales: AlignedBuffer?

    /// Packs `weight` (row-major `[outFeatures, inFeatures]`, as PyTorch stores `nn.Linear.weight`).
    public init(
        weight: [Float], bias: [Float]?, inFeatures: Int, outFeatures: Int,
        precision: Precision
    ) throws {
        guard weight.count == inFeatures * outFeatures else {
            throw TensorError(
                .shapeMismatch,
                "linear weight has \(weight.count) values, expected \(outFeatures) x \(inFeatures)")
        }
        if let bias, bias.count != outFeatures {
            throw TensorError(.shapeMismatch, "linear bias has \(bias.count) values, expected \(outFeatures)")
        }
        self.inFeatures = inFeatures
        self.outFeatures = outFeatures
        self.precision = precision

        if precision == .int8 {
            let packed = try QuantizedWeights(weight: weight, inFeatures: inFeatures, outFeatures: outFeatures)
            packedDescriptor = packed.descriptor
            packedWeights = packed.buffer
            weightScales = packed.scales
        } else {
            (packedDescriptor, packedWeights) = try WeightPacking.pack(
                weight, sourceType: dnnl_f32, weightType: precision.dnnlType, inputType: precision.dnnlType,
                outputType: dnnl_f32, inFeatures: inFeatures, outFeatures: outFeatures)
            weightScales = nil
        }

        if let bias {
            let buffer = AlignedBuffer(byteCount: outFeatures * 4)
            buffer.floats().update(from: bias, count: outFeatures)
            self.bias = buffer
        } else {
            self.bias = nil
        }
    }
}

/// One-off memory reorders (weight packing, dtype conversion) outside any executor.
enum Reorder {
    static func run(
        from source: dnnl_memory_desc_t, _ sourcePointer: UnsafeMutableRawPointer,
        to destination: dnnl_memory_desc_t, _ destinationPointer: UnsafeMutableRawPointer
    ) throws {
        let engine = DNNLEngine.shared.handle
        var src = source
        var dst = destination
        var pd: dnnl_primitive_desc_t?
        try dnnlCheck(dnnl_reorder_primitive_desc_create(&pd, &src, engine, &dst, engine, nil), "reorder descriptor")
        defer { dnnl_primitive_desc_destroy(pd) }
        var primitive: dnnl_primitive_t?
        try dnnlCheck(dnnl_primitive_create(&primitive, pd), "reorder primitive")
        defer { dnnl_primitive_destroy(primitive) }
        var stream: dnnl_stream_t?
        try dnnlCheck(dnnl_stream_create(&stream, engine, dnnl_stream_default_flags.rawValue), "stream")
        defer { dnnl_stream_destroy(stream) }
        var srcMemory: dnnl_memory_t?
        var dstMemory: dnnl_memory_t?
        try dnnlCheck(dnnl_memory_create(&srcMemory, &src, engine, sourcePointer), "reorder source")
        defer { dnnl_memory_destroy(srcMemory) }
        try dnnlCheck(dnnl_memory_create(&dstMemory, &dst, engine, destinationPointer), "reorder destination")
        defer { dnnl_memory_destroy(dstMemory) }
        var args = [
            dnnl_exec_arg_t(arg: DNNL_ARG_FROM, memory: srcMemory),
            dnnl_exec_arg_t(arg: DNNL_ARG_TO, memory: dstMemory),
        ]
        try dnnlCheck(dnnl_primitive_execute(primitive, stream, 2, &args), "reorder")
        try dnnlCheck(dnnl_stream_wait(stream), "reorder wait")
    }
}
