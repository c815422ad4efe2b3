import CDNNL

/// Runs tensor operations on the CPU through oneDNN, caching one compiled primitive per shape.
///
/// An executor owns a oneDNN stream, its primitives and a scratchpad; it is not thread-safe, so each
/// concurrent caller uses its own (model objects keep a small pool). Data is passed as raw pointers to
/// dense row-major buffers the caller owns, which lets models keep their workspaces across calls.
public final class TensorExecutor {
    /// Threads oneDNN uses for each operation of this executor.
    public let threads: Int
    let stream: dnnl_stream_t
    private var primitives: [PrimitiveKey: DNNLPrimitive] = [:]
    private let scratchpad = AlignedBuffer()
    let scores = AlignedBuffer()
    /// Attention's softmax output in bf16, when the products run in bf16.
    let probabilities = AlignedBuffer()
    /// int8 codes and per-row scales of the rows an int8 layer is working on.
    let quantizedRows = AlignedBuffer()
    let rowScales = AlignedBuffer()
    /// The int32 results of an int8 product, before their scales are applied.
    let int8Products = AlignedBuffer()

    /// The number of threads used when none is given: the cores this process may run on.
    public static var defaultThreadCount: Int { max(1, Int(omp_get_max_threads())) }

    public init(threads: Int? = nil) throws {
        self.threads = max(1, threads ?? TensorExecutor.defaultThreadCount)
        var stream: dnnl_stream_t?
        try dnnlCheck(
            dnnl_stream_create(&stream, DNNLEngine.shared.handle, dnnl_stream_default_flags.rawValue), "dnnl_stream_create")
        self.stream = stream!
    }

    deinit { dnnl_stream_destroy(stream) }

    /// Applies the thread count to the calling thread; call once before a sequence of operations.
    ///
    /// OpenMP keeps the setting per OS thread, and Swift tasks move between threads, so models call this
    /// at the start of every forward pass rather than once per executor.
    public func prepareThread() {
        omp_set_num_threads(Int32(threads))
    }

    /// Names of the oneDNN implementations in use, for benchmark reports.
    public var implementations: [String] {
        Array(Set(primitives.values.map(\.implementation))).sorted()
    }

    // MARK: Operations

    /// `output = activation(input · Wᵀ + b)`, or `output += …` when `accumulate` is set.
    ///
    /// - Parameters:
    ///   - input: `rows x layer.inFeatures` in `layer.precision.inputPrecision` (fp32 for int8 layers,
    ///     whose rows are quantised here, one scale per row).
    ///   - output: `rows x layer.outFeatures` in `outputPrecision`.
    public func linear(
        _ layer: LinearLayer, input: UnsafeRawPointer, rows: Int, output: UnsafeMutableRawPointer,
        outputPrecision: Precision = .fp32, activation: Activation = .identity, accumulate: Bool = false
    ) throws {
        guard rows > 0 else { return }
        if layer.precision == .int8 {
            return try quantizedLinear(
                layer, input: input.assumingMemoryBound(to: Float.self), rows: rows, output: output,
                outputPrecision: outputPrecision, activation: activation, accumulate: accumulate)
        }
        let key = PrimitiveKey(
            kind: .linear, a: rows, b: layer.inFeatures, c: layer.outFeatures,
            d: layer.precision == .bf16 ? 1 : 0, e: outputPrecision == .bf16 ? 1 : 0,
            f: accumulate ? 1 : 0, g: Activation.allCases.firstIndex(of: activation)!, h: layer.bias == nil ? 0 : 1)
        let primitive = try cached(key) {
            var src = try memoryDescriptor([rows, layer.inFeatures], type: layer.precision.dnnlType)
            var weights = layer.packedDescriptor
            var dst = try memoryDescriptor([rows, layer.outFeatures], type: outputPrecision.dnnlType)
            var bias = try memoryDescriptor([1, layer.outFeatures], type: dnnl_f32)
            var desc = dnnl_matmul_desc_t()
            if layer.bias != nil {
                try dnnlCheck(dnnl_matmul_desc_init(&desc, &src, &weights, &bias, &dst), "matmul descriptor")
            } else {
                try dnnlCheck(dnnl_matmul_desc_init(&desc, &src, &weights, nil, &dst), "matmul descriptor")
            }
            let attributes = try DNNLAttributes()
            if accumulate { try attributes.appendSum() }
            if let (algorithm, alpha) = activation.dnnlPostOp {
                try attributes.appendEltwise(algorithm, alpha: alpha)
            }
            var arguments: [(Int32, dnnl_memory_desc_t)] = [
                (DNNL_ARG_SRC, src), (DNNL_ARG_WEIGHTS, weights), (DNNL_ARG_DST, dst),
            ]
            if layer.bias != nil { arguments.append((DNNL_ARG_BIAS, bias)) }
            return try DNNLPrimitive(
                operationDescriptor: &desc, attributes: attributes, arguments: arguments,
                name: "linear \(rows)x\(layer.inFeatures)->\(layer.outFeatures) \(layer.precision)")
        }
        var pointers = [UnsafeMutableRawPointer(mutating: input), layer.packedWeights.pointer, output]
        if let bias = layer.bias { pointers.append(bias.pointer) }
        try run(primitive, pointers)
    }

    /// Normalises each of `rows` rows of fp32 `input` into `output` (`outputPrecision`); in place is allowed
    /// for fp32 output.
    public func layerNorm(
        _ layer: LayerNormLayer, input: UnsafePointer<Float>, rows: Int, output: UnsafeMutableRawPointer,
        outputPrecision: Precision = .fp32, temporary: UnsafeMutablePointer<Float>? = nil
    ) throws {
        guard rows > 0 else { return }
        let key = PrimitiveKey(kind: .layerNorm, a: rows, b: layer.width, c: 0, d: 0, e: 0, f: 0, g: 0, h: 0)
        let primitive = try cached(key) {
            var data = try memoryDescriptor([rows, layer.width], type: dnnl_f32)
            let channel = try memoryDescriptor([layer.width], type: dnnl_f32)
            var desc = dnnl_layer_normalization_desc_t()
            try dnnlCheck(
                dnnl_layer_normalization_forward_desc_init(
                    &desc, dnnl_forward_inference, &data, nil, layer.epsilon,
                    UInt32(dnnl_use_scale.rawValue | dnnl_use_shift.rawValue)),
                "layer norm descriptor")
            return try DNNLPrimitive(
                operationDescriptor: &desc, attributes: try DNNLAttributes(),
                arguments: [(DNNL_ARG_SRC, data), (DNNL_ARG_DST, data), (DNNL_ARG_SCALE, channel),
                            (DNNL_ARG_SHIFT, channel)],
                name: "layer norm \(rows)x\(layer.width)")
        }
        if outputPrecision == .fp32 {
            try run(primitive, [UnsafeMutableRawPointer(mutating: input), output, layer.scale.pointer,
                                layer.shift.pointer])
        } else {
            // oneDNN 2.6 normalises within one data type; convert the fp32 result afterwards.
            guard let temporary else {
                throw TensorError(.invalidArgument, "bf16 layer norm output needs an fp32 temporary")
            }
            try run(primitive, [UnsafeMutableRawPointer(mutating: input), UnsafeMutableRawPointer(temporary),
                                layer.scale.pointer, layer.shift.pointer])
            try convert(temporary, count: rows * layer.width, toBFloat16: output)
        }
    }

    /// Converts `count` fp32 values to bf16 (round to nearest even).
    public func convert(_ input: UnsafePointer<Float>, count: Int, toBFloat16 output: UnsafeMutableRawPointer) throws {
        guard count > 0 else { return }
        let key = PrimitiveKey(kind: .toBF16, a: count, b: 0, c: 0, d: 0, e: 0, f: 0, g: 0, h: 0)
        let primitive = try cached(key) {
            var src = try memoryDescriptor([count], type: dnnl_f32)
            var dst = try memoryDescriptor([count], type: dnnl_bf16)
            let engine = DNNLEngine.shared.handle
            var pd: dnnl_primitive_desc_t?
            let attributes = try DNNLAttributes()
            try dnnlCheck(
                dnnl_reorder_primitive_desc_create(&pd, &src, engine, &dst, engine, attributes.handle),
                "reorder descriptor")
            defer { dnnl_primitive_desc_destroy(pd) }
            return try DNNLPrimitive(
                reorderDescriptor: pd!, arguments: [(DNNL_ARG_FROM, src), (DNNL_ARG_TO, dst)],
                name: "fp32->bf16 \(count)")
        }
        try run(primitive, [UnsafeMutableRawPointer(mutating: input), output])
    }

    // MARK: Plumbing

    func cached(_ key: PrimitiveKey, make: () throws -> DNNLPrimitive) throws -> DNNLPrimitive {
        if let primitive = primitives[key] { return primitive }
        let primitive = try make()
        primitives[key] = primitive
        scratchpad.reserve(primitive.scratchpadBytes)
        return primitive
    }

    func run(_ primitive: DNNLPrimitive, _ pointers: [UnsafeMutableRawPointer]) throws {
        try primitive.execute(pointers, scratchpad: scratchpad.pointer, stream: stream)
    }
}

/// Identifies a compiled primitive: its kind and the integers that shape it.
struct PrimitiveKey: Hashable {
    enum Kind: UInt8 { case linear, linearInt8Blocked, layerNorm, toBF16, attentionScores, softmax, attentionValues }
    var kind: Kind
    var a: Int, b: Int, c: Int, d: Int, e: Int, f: Int, g: Int, h: Int
}
