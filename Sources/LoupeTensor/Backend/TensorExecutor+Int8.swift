import CDNNL
import CLoupeQuantize

/// Rows of symmetric int8 codes with one fp32 scale each, `x[r][c] ≈ codes[r * width + c] * scales[r]`: the
/// form in which one int8 layer hands its output straight to the next, without an fp32 copy in between.
public struct QuantizedRows {
    public let codes: UnsafeMutablePointer<Int8>
    public let scales: UnsafeMutablePointer<Float>

    public init(codes: UnsafeMutablePointer<Int8>, scales: UnsafeMutablePointer<Float>) {
        self.codes = codes
        self.scales = scales
    }
}

extension TensorExecutor {
    /// int8 layers: `output = quantise(activation(input · Wᵀ + b))`, one scale per row, on rows quantised
    /// already, for an int8 layer that takes `output` as its `quantizedInput`. The fp32 rows are never
    /// written out.
    ///
    /// - Parameters:
    ///   - input: `rows x layer.inFeatures` codes with their row scales.
    ///   - output: room for `rows x layer.outFeatures` codes and `rows` scales.
    public func linear(
        _ layer: LinearLayer, quantizedInput input: QuantizedRows, rows: Int, quantizedOutput output: QuantizedRows,
        activation: Activation = .identity
    ) throws {
        guard rows > 0 else { return }
        let products = try int8Product(layer, input: .quantized(input), rows: rows)
        loupe_requantize_rows(products, Int64(rows), Int64(layer.outFeatures), input.scales,
                              layer.weightScales!.floats(), layer.bias?.floats(), activation.kernelActivation,
                              output.codes, output.scales)
    }

    /// int8 layers: `output = activation(input · Wᵀ + b)`, or `output += …`, on rows quantised already (as
    /// a layer norm's or another int8 layer's `quantizedOutput` leaves them).
    ///
    /// - Parameters:
    ///   - input: `rows x layer.inFeatures` codes with their row scales.
    ///   - output: `rows x layer.outFeatures` rows in `outputPrecision`: fp32, or bf16 without `accumulate`.
    public func linear(
        _ layer: LinearLayer, quantizedInput input: QuantizedRows, rows: Int, output: UnsafeMutableRawPointer,
        outputPrecision: Precision = .fp32, activation: Activation = .identity, accumulate: Bool = false
    ) throws {
        guard rows > 0 else { return }
        guard outputPrecision == .fp32 || (outputPrecision == .bf16 && !accumulate) else {
            throw TensorError(.invalidArgument, accumulate
                ? "an int8 layer accumulates into fp32 rows, not \(outputPrecision)"
                : "an int8 layer writes fp32 or bf16 rows, or int8 rows through quantizedOutput, not \(outputPrecision)")
        }
        let products = try int8Product(layer, input: .quantized(input), rows: rows)
        if outputPrecision == .bf16 {
            loupe_dequantize_rows_bf16(products, Int64(rows), Int64(layer.outFeatures), input.scales,
                                       layer.weightScales!.floats(), layer.bias?.floats(), activation.kernelActivation,
                                       output.assumingMemoryBound(to: UInt16.self))
        } else {
            loupe_dequantize_rows(products, Int64(rows), Int64(layer.outFeatures), input.scales,
                                  layer.weightScales!.floats(), layer.bias?.floats(), activation.kernelActivation,
                                  accumulate ? 1 : 0, output.assumingMemoryBound(to: Float.self))
        }
    }

    /// `output = activation(dequantise(q(input) · q(W)ᵀ) + b)` for an int8 layer, or `output += …`: the path
    /// `linear(_:input:rows:output:…)` takes for int8 layers, writing fp32.
    func quantizedLinear(
        _ layer: LinearLayer, input: UnsafePointer<Float>, rows: Int, output: UnsafeMutableRawPointer,
        outputPrecision: Precision, activation: Activation, accumulate: Bool
    ) throws {
        guard outputPrecision == .fp32 else {
            throw TensorError(.invalidArgument,
                              "an int8 layer writes fp32 rows, or int8 rows through quantizedOutput, not \(outputPrecision)")
        }
        let products = try int8Product(layer, input: .floats(input), rows: rows)
        loupe_dequantize_rows(products, Int64(rows), Int64(layer.outFeatures), rowScales.floats(),
                              layer.weightScales!.floats(), layer.bias?.floats(), activation.kernelActivation,
                              accumulate ? 1 : 0, output.assumingMemoryBound(to: Float.self))
    }

    /// Layer-normalises each of `rows` fp32 rows straight to int8 codes and row scales, the input of an int8
    /// layer's `quantizedInput`, without writing the fp32 rows.
    public func layerNorm(
        _ layer: LayerNormLayer, input: UnsafePointer<Float>, rows: Int, quantizedOutput output: QuantizedRows
    ) {
        guard rows > 0 else { return }
        loupe_layer_norm_quantize_rows(input, Int64(rows), Int64(layer.width), layer.scale.floats(), layer.shift.floats(),
                                       layer.epsilon, output.codes, output.scales)
    }

    private enum Int8Source {
        /// fp32 rows, quantised into the executor's `quantizedRows` and `rowScales`.
        case floats(UnsafePointer<Float>)
        case quantized(QuantizedRows)
    }

    /// The int32 product of the layer's codes with the input's, in the executor's `int8Products`.
    ///
    /// oneDNN 2.6's int8 kernels cannot take a per-row (per-token) scale on a 2-D product, so the product
    /// runs on weights packed once in oneDNN's blocked layout with int32 results, and one row pass on the
    /// same OpenMP threads applies the scales, bias, sum and activation. Measured on ViT-B/32 images, this
    /// beats a 3-D product with the scales as post-ops, for which oneDNN repacks the weights on every call.
    private func int8Product(_ layer: LinearLayer, input: Int8Source, rows: Int) throws -> UnsafeMutablePointer<Int32> {
        guard layer.precision == .int8, layer.weightScales != nil else {
            throw TensorError(.invalidArgument, "a \(layer.precision) layer has no int8 product")
        }
        let k = layer.inFeatures
        let n = layer.outFeatures
        int8Products.reserve(rows * n * 4)
        let codes: UnsafeMutablePointer<Int8>
        switch input {
        case .floats(let values):
            quantizedRows.reserve(rows * k)
            rowScales.reserve(rows * 4)
            codes = quantizedRows.pointer.assumingMemoryBound(to: Int8.self)
            RowQuantizer.quantize(values, rows: rows, columns: k, codes: codes, scales: rowScales.floats())
        case .quantized(let rows):
            codes = rows.codes
        }

        let key = PrimitiveKey(kind: .linearInt8Blocked, a: rows, b: k, c: n, d: 0, e: 0, f: 0, g: 0, h: 0)
        let primitive = try cached(key) {
            var src = try memoryDescriptor([rows, k], type: dnnl_s8)
            var weights = layer.packedDescriptor
            var dst = try memoryDescriptor([rows, n], type: dnnl_s32)
            var desc = dnnl_matmul_desc_t()
            try dnnlCheck(dnnl_matmul_desc_init(&desc, &src, &weights, nil, &dst), "int8 matmul descriptor")
            let name = "int8 linear \(rows)x\(k)->\(n)"
            let primitive = try DNNLPrimitive(
                operationDescriptor: &desc, attributes: try DNNLAttributes(),
                arguments: [(DNNL_ARG_SRC, src), (DNNL_ARG_WEIGHTS, weights), (DNNL_ARG_DST, dst)], name: name)
            // A reference kernel here would be hundreds of times slower than fp32: refuse it loudly.
            guard !primitive.implementation.hasPrefix("ref") else {
                throw TensorError(.backend, "\(name): oneDNN offers only its reference kernel (\(primitive.implementation))")
            }
            return primitive
        }
        try run(primitive, [UnsafeMutableRawPointer(codes), layer.packedWeights.pointer, int8Products.pointer])
        return int8Products.pointer.assumingMemoryBound(to: Int32.self)
    }
}

extension Activation {
    /// The activation as CLoupeQuantize's dequantisation kernels name it.
    var kernelActivation: loupe_activation {
        switch self {
        case .identity: LOUPE_ACTIVATION_IDENTITY
        case .gelu: LOUPE_ACTIVATION_GELU
        case .geluTanh: LOUPE_ACTIVATION_GELU_TANH
        case .quickGelu: LOUPE_ACTIVATION_QUICK_GELU
        case .relu: LOUPE_ACTIVATION_RELU
        }
    }
}

/// Dynamic per-row int8 quantisation of activations (the vectorised kernel in CLoupeQuantize).
package enum RowQuantizer {
    /// Quantises each of `rows` rows of `columns` values: `scales[r] = max|x| / 127` and
    /// `codes = round(x * (127 / max|x|))`, ties to even, in `[-127, 127]`; an all-zero row gets scale 0.
    package static func quantize(
        _ input: UnsafePointer<Float>, rows: Int, columns: Int, codes: UnsafeMutablePointer<Int8>,
        scales: UnsafeMutablePointer<Float>
    ) {
        loupe_quantize_rows_s8(input, Int64(rows), Int64(columns), codes, scales)
    }

    /// The instruction set the kernels use on this thread ("avx512", "avx2", "portable").
    package static var level: String { String(cString: loupe_quantize_level()) }

    /// Every level of CLoupeQuantize's kernels this processor runs, best first.
    package static var levels: [String] {
        ["avx512", "avx2", "portable"].filter { name in
            withLevel(name) { true } ?? false
        }
    }

    /// Runs `body` with this thread's row passes (quantisation, dequantisation, layer norm to codes) on the
    /// kernels of `level`, or returns nil without running it when the processor lacks that level. For tests:
    /// the passes started in `body` must not move to another thread (no `await`).
    package static func withLevel<T>(_ level: String, _ body: () throws -> T) rethrows -> T? {
        guard loupe_quantize_use_level(level) == 0 else { return nil }
        defer { loupe_quantize_use_level(nil) }
        return try body()
    }
}
