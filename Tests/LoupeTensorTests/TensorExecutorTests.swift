import Testing
@testable import LoupeTensor

@Suite("TensorExecutor")
struct TensorExecutorTests {
    @Test("fp32 linear matches the reference for every activation, with and without bias",
          arguments: Activation.allCases)
    func linearFP32(activation: Activation) throws {
        let (rows, k, n) = (5, 37, 19)
        let x = randomFloats(rows * k, seed: 1)
        let w = randomFloats(n * k, seed: 2, scale: 0.5)
        let b = randomFloats(n, seed: 3)
        let executor = try TensorExecutor(threads: 2)
        executor.prepareThread()
        for bias in [b, nil] {
            let layer = try LinearLayer(weight: w, bias: bias, inFeatures: k, outFeatures: n, precision: .fp32)
            var out = [Float](repeating: 0, count: rows * n)
            try x.withUnsafeBytes { input in
                try out.withUnsafeMutableBytes { output in
                    try executor.linear(layer, input: input.baseAddress!, rows: rows, output: output.baseAddress!,
                                        activation: activation)
                }
            }
            let expected = ReferenceKernels.linear(x, rows: rows, weight: w, bias: bias, inFeatures: k, outFeatures: n,
                                                   activation: activation)
            #expect(maxAbsDifference(out, expected) < 1e-4, "activation \(activation), bias \(bias != nil)")
        }
    }

    @Test("accumulating linear adds to what the output held (the residual connection)")
    func linearAccumulates() throws {
        let (rows, k, n) = (3, 16, 8)
        let x = randomFloats(rows * k, seed: 4)
        let w = randomFloats(n * k, seed: 5)
        let residual = randomFloats(rows * n, seed: 6)
        let layer = try LinearLayer(weight: w, bias: nil, inFeatures: k, outFeatures: n, precision: .fp32)
        let executor = try TensorExecutor()
        var out = residual
        try x.withUnsafeBytes { input in
            try out.withUnsafeMutableBytes { output in
                try executor.linear(layer, input: input.baseAddress!, rows: rows, output: output.baseAddress!,
                                    accumulate: true)
            }
        }
        let product = ReferenceKernels.linear(x, rows: rows, weight: w, bias: nil, inFeatures: k, outFeatures: n)
        #expect(maxAbsDifference(out, zip(product, residual).map(+)) < 1e-4)
    }

    @Test("bf16 linear equals the fp32 product of bf16-rounded inputs and weights",
          .enabled(if: Precision.bf16.isSupported, "bf16 matrix products need AVX-512; this CPU has none"))
    func linearBF16() throws {
        let (rows, k, n) = (33, 64, 48)
        let x = randomFloats(rows * k, seed: 7)
        let w = randomFloats(n * k, seed: 8, scale: 0.3)
        let b = randomFloats(n, seed: 9)
        let layer = try LinearLayer(weight: w, bias: b, inFeatures: k, outFeatures: n, precision: .bf16)
        let executor = try TensorExecutor()
        var xBF16 = x.map { HalfConversion.bfloat16Bits($0) }
        var out = [Float](repeating: 0, count: rows * n)
        try xBF16.withUnsafeMutableBytes { input in
            try out.withUnsafeMutableBytes { output in
                try executor.linear(layer, input: input.baseAddress!, rows: rows, output: output.baseAddress!)
            }
        }
        let expected = ReferenceKernels.linear(roundedToBFloat16(x), rows: rows, weight: roundedToBFloat16(w), bias: b,
                                               inFeatures: k, outFeatures: n)
        #expect(maxAbsDifference(out, expected) < 1e-3)
    }

    @Test("one packed layer serves every row count, through cached primitives")
    func linearManyRowCounts() throws {
        let (k, n) = (24, 40)
        let w = randomFloats(n * k, seed: 10)
        let layer = try LinearLayer(weight: w, bias: nil, inFeatures: k, outFeatures: n, precision: .fp32)
        let executor = try TensorExecutor()
        for rows in [1, 7, 50, 7, 1] {
            let x = randomFloats(rows * k, seed: UInt64(100 + rows))
            var out = [Float](repeating: 0, count: rows * n)
            try x.withUnsafeBytes { input in
                try out.withUnsafeMutableBytes { output in
                    try executor.linear(layer, input: input.baseAddress!, rows: rows, output: output.baseAddress!)
                }
            }
            let expected = ReferenceKernels.linear(x, rows: rows, weight: w, bias: nil, inFeatures: k, outFeatures: n)
            #expect(maxAbsDifference(out, expected) < 1e-4, "rows \(rows)")
        }
    }

    @Test("layer norm matches the reference in fp32 and rounds correctly to bf16")
    func layerNorm() throws {
        let (rows, c) = (6, 40)
        let x = randomFloats(rows * c, seed: 11, scale: 3)
        let scale = randomFloats(c, seed: 12).map { 1 + $0 * 0.3 }
        let shift = randomFloats(c, seed: 13)
        let layer = try LayerNormLayer(scale: scale, shift: shift, epsilon: 1e-5)
        let executor = try TensorExecutor()
        let expected = ReferenceKernels.layerNorm(x, rows: rows, scale: scale, shift: shift, epsilon: 1e-5)

        var out = [Float](repeating: 0, count: rows * c)
        try x.withUnsafeBufferPointer { input in
            try out.withUnsafeMutableBytes { output in
                try executor.layerNorm(layer, input: input.baseAddress!, rows: rows, output: output.baseAddress!)
            }
        }
        #expect(maxAbsDifference(out, expected) < 1e-4)

        var bf16 = [UInt16](repeating: 0, count: rows * c)
        var temporary = [Float](repeating: 0, count: rows * c)
        try x.withUnsafeBufferPointer { input in
            try bf16.withUnsafeMutableBytes { output in
                try temporary.withUnsafeMutableBufferPointer { temp in
                    try executor.layerNorm(layer, input: input.baseAddress!, rows: rows, output: output.baseAddress!,
                                           outputPrecision: .bf16, temporary: temp.baseAddress!)
                }
            }
        }
        let widened = bf16.map { HalfConversion.float(bfloat16: $0) }
        #expect(maxAbsDifference(widened, roundedToBFloat16(expected)) < 0.02)
    }

    @Test("multi-head attention matches the reference, with and without the causal mask", arguments: [false, true])
    func attention(causal: Bool) throws {
        let (b, s, w, h) = (2, 7, 12, 3)
        let qkv = randomFloats(b * s * 3 * w, seed: 14, scale: 2)
        let executor = try TensorExecutor()
        var out = [Float](repeating: 0, count: b * s * w)
        try qkv.withUnsafeBufferPointer { input in
            try out.withUnsafeMutableBufferPointer { output in
                try executor.attention(qkv: input.baseAddress!, batch: b, sequence: s, width: w, heads: h, causal: causal,
                                       output: output.baseAddress!)
            }
        }
        let expected = ReferenceKernels.attention(qkv, batch: b, sequence: s, width: w, heads: h, causal: causal)
        #expect(maxAbsDifference(out, expected) < 1e-5)
    }

    // The probabilities are rounded to bf16 (relative error 2^-9) before multiplying V, whose values lie
    // within 2: the outputs stay within 0.01 of the reference on the same bf16-rounded rows.
    @Test("bf16 attention matches the reference on bf16-rounded rows, with and without the causal mask",
          .enabled(if: Precision.bf16.isSupported, "bf16 matrix products need AVX-512; this CPU has none"),
          arguments: [false, true])
    func attentionInBFloat16(causal: Bool) throws {
        let (b, s, w, h) = (2, 33, 64, 4)
        let qkv = randomFloats(b * s * 3 * w, seed: 15, scale: 2)
        let qkvBF16 = qkv.map { HalfConversion.bfloat16Bits($0) }
        let executor = try TensorExecutor()
        var out = [Float](repeating: 0, count: b * s * w)
        try qkvBF16.withUnsafeBytes { input in
            try out.withUnsafeMutableBufferPointer { output in
                try executor.attention(qkv: input.baseAddress!, precision: .bf16, batch: b, sequence: s, width: w,
                                       heads: h, causal: causal, output: output.baseAddress!)
            }
        }
        let expected = ReferenceKernels.attention(roundedToBFloat16(qkv), batch: b, sequence: s, width: w, heads: h,
                                                  causal: causal)
        #expect(maxAbsDifference(out, expected) < 0.01)
    }

    @Test("attention rejects a width that heads do not divide")
    func attentionBadHeads() throws {
        let executor = try TensorExecutor()
        var out = [Float](repeating: 0, count: 10)
        let qkv = [Float](repeating: 0, count: 30)
        #expect(throws: TensorError.self) {
            try qkv.withUnsafeBufferPointer { input in
                try out.withUnsafeMutableBufferPointer { output in
                    try executor.attention(qkv: input.baseAddress!, batch: 1, sequence: 1, width: 10, heads: 3,
                                           causal: false, output: output.baseAddress!)
                }
            }
        }
    }

    @Test("half-precision conversions are exact where the formats allow")
    func halfConversions() {
        #expect(HalfConversion.float(float16: 0x3C00) == 1)
        #expect(HalfConversion.float(float16: 0xC000) == -2)
        #expect(HalfConversion.float(float16: 0x0001) == Float(sign: .plus, exponent: -24, significand: 1))
        #expect(HalfConversion.float(float16: 0x7C00) == .infinity)
        #expect(HalfConversion.float(float16: 0x7BFF) == 65504)
        #expect(HalfConversion.float(bfloat16: HalfConversion.bfloat16Bits(1.0)) == 1)
        // 1 + 2^-8 lies halfway between two bf16 values; ties go to the even one (1.0).
        #expect(HalfConversion.bfloat16Bits(1 + 1.0 / 256) == 0x3F80)
        #expect(HalfConversion.bfloat16Bits(1 + 3.0 / 256) == 0x3F82)
    }
}
