import CDNNL
import CLoupeQuantize

extension TensorExecutor {
    /// `output = activation(dequantise(q(input) · q(W)ᵀ) + b)` for an int8 layer, or `output += …`.
    ///
    /// Each input row is quantised to symmetric int8 with its own scale (`max|x| / 127`); oneDNN
    /// multiplies the codes with int32 accumulation, and the scales, bias, sum and activation are applied
    /// as the layer's `Int8Layout` says: as post-ops of a 3-D product (image batches), or after a 2-D
    /// product on blocked weights (a few rows, as text queries are).
    func quantizedLinear(
        _ layer: LinearLayer, input: UnsafePointer<Float>, rows: Int, output: UnsafeMutableRawPointer,
        outputPrecision: Precision, activation: Activation, accumulate: Bool
    ) throws {
        switch layer.int8Layout {
        case .fusedScales:
            try quantizedLinearFusedScales(layer, input: input, rows: rows, output: output, outputPrecision: outputPrecision,
                                           activation: activation, accumulate: accumulate)
        case .blockedWeights:
            try quantizedLinearBlocked(layer, input: input, rows: rows, output: output, outputPrecision: outputPrecision,
                                       activation: activation, accumulate: accumulate)
        }
    }

    /// Dequantisation, bias, sum and activation in the product's post-ops, over `[1, rows, features]`.
    private func quantizedLinearFusedScales(
        _ layer: LinearLayer, input: UnsafePointer<Float>, rows: Int, output: UnsafeMutableRawPointer,
        outputPrecision: Precision, activation: Activation, accumulate: Bool
    ) throws {
        guard let weightScales = layer.weightScales else {
            throw TensorError(.invalidArgument, "int8 linear layer has no weight scales")
        }
        guard outputPrecision != .int8 else {
            throw TensorError(.invalidArgument, "an int8 layer writes fp32 or bf16 rows, not int8")
        }
        let k = layer.inFeatures
        let n = layer.outFeatures
        quantizedRows.reserve(rows * k)
        rowScales.reserve(rows * 4)
        RowQuantizer.quantize(input, rows: rows, columns: k,
                              codes: quantizedRows.pointer.assumingMemoryBound(to: Int8.self), scales: rowScales.floats())

        let key = PrimitiveKey(
            kind: .linearInt8, a: rows, b: k, c: n, d: 0, e: outputPrecision == .bf16 ? 1 : 0,
            f: accumulate ? 1 : 0, g: Activation.allCases.firstIndex(of: activation)!, h: layer.bias == nil ? 0 : 1)
        let primitive = try cached(key) {
            var src = try memoryDescriptor([1, rows, k], type: dnnl_s8)
            var weights = layer.packedDescriptor
            var dst = try memoryDescriptor([1, rows, n], type: outputPrecision.dnnlType)
            var desc = dnnl_matmul_desc_t()
            try dnnlCheck(dnnl_matmul_desc_init(&desc, &src, &weights, nil, &dst), "int8 matmul descriptor")
            let perRow = try memoryDescriptor([1, rows, 1], type: dnnl_f32)
            let perChannel = try memoryDescriptor([1, 1, n], type: dnnl_f32)
            let attributes = try DNNLAttributes()
            try attributes.appendBinary(dnnl_binary_mul, operand: perRow)
            try attributes.appendBinary(dnnl_binary_mul, operand: perChannel)
            var arguments: [(Int32, dnnl_memory_desc_t)] = [
                (DNNL_ARG_SRC, src), (DNNL_ARG_WEIGHTS, weights), (DNNL_ARG_DST, dst),
                (loupe_arg_post_op_src1(0), perRow), (loupe_arg_post_op_src1(1), perChannel),
            ]
            // In oneDNN 2.x an int8 product's own bias is added before the output scales; a binary
            // post-op adds it after the dequantisation instead, in fp32.
            if layer.bias != nil {
                try attributes.appendBinary(dnnl_binary_add, operand: perChannel)
                arguments.append((loupe_arg_post_op_src1(2), perChannel))
            }
            if accumulate { try attributes.appendSum() }
            if let (algorithm, alpha) = activation.dnnlPostOp {
                try attributes.appendEltwise(algorithm, alpha: alpha)
            }
            let name = "int8 linear \(rows)x\(k)->\(n)"
            let primitive = try DNNLPrimitive(
                operationDescriptor: &desc, attributes: attributes, arguments: arguments, name: name)
            // A reference kernel here would be hundreds of times slower than fp32: refuse it loudly.
            guard !primitive.implementation.hasPrefix("ref") else {
                throw TensorError(.backend, "\(name): oneDNN offers only its reference kernel (\(primitive.implementation))")
            }
            return primitive
        }
        var pointers = [quantizedRows.pointer, layer.packedWeights.pointer, output, rowScales.pointer,
                        weightScales.pointer]
        if let bias = layer.bias { pointers.append(bias.pointer) }
        try run(primitive, pointers)
    }

    /// A 2-D product with int32 results, then one pass for the scales, bias and sum, and oneDNN's eltwise
    /// kernel for the activation.
    private func quantizedLinearBlocked(
        _ layer: LinearLayer, input: UnsafePointer<Float>, rows: Int, output: UnsafeMutableRawPointer,
        outputPrecision: Precision, activation: Activation, accumulate: Bool
    ) throws {
        guard let weightScales = layer.weightScales else {
            throw TensorError(.invalidArgument, "int8 linear layer has no weight scales")
        }
        guard outputPrecision == .fp32 else {
            throw TensorError(.invalidArgument, "an int8 layer writes fp32 rows, not \(outputPrecision)")
        }
        let k = layer.inFeatures
        let n = layer.outFeatures
        quantizedRows.reserve(rows * k)
        rowScales.reserve(rows * 4)
        int8Products.reserve(rows * n * 4)
        RowQuantizer.quantize(input, rows: rows, columns: k,
                              codes: quantizedRows.pointer.assumingMemoryBound(to: Int8.self), scales: rowScales.floats())

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
        try run(primitive, [quantizedRows.pointer, layer.packedWeights.pointer, int8Products.pointer])

        let target = output.assumingMemoryBound(to: Float.self)
        loupe_dequantize_rows(int8Products.pointer.assumingMemoryBound(to: Int32.self), Int64(rows), Int64(n),
                              rowScales.floats(), weightScales.floats(), layer.bias?.floats(), accumulate ? 1 : 0, target)
        if let (algorithm, alpha) = activation.dnnlPostOp {
            let activationKey = PrimitiveKey(kind: .eltwise, a: rows * n, b: Int(algorithm.rawValue), c: Int(alpha.bitPattern),
                                             d: 0, e: 0, f: 0, g: 0, h: 0)
            let eltwise = try cached(activationKey) {
                var data = try memoryDescriptor([rows * n], type: dnnl_f32)
                var desc = dnnl_eltwise_desc_t()
                try dnnlCheck(dnnl_eltwise_forward_desc_init(&desc, dnnl_forward_inference, algorithm, &data, alpha, 0),
                              "activation descriptor")
                return try DNNLPrimitive(operationDescriptor: &desc, attributes: try DNNLAttributes(),
                                         arguments: [(DNNL_ARG_SRC, data), (DNNL_ARG_DST, data)], name: "activation \(rows * n)")
            }
            try run(eltwise, [UnsafeMutableRawPointer(target), UnsafeMutableRawPointer(target)])
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

    /// The instruction set the kernel uses ("avx512", "avx2", "portable").
    package static var level: String { String(cString: loupe_quantize_level()) }
}
