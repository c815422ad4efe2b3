import Testing
@testable import LoupeTensor

/// The exact value of an int8 product: the codes multiplied as integers, then dequantised in Double.
private func dequantisedProduct(
    _ x: [Float], rows: Int, weight: [Float], bias: [Float]?, inFeatures k: Int, outFeatures n: Int,
    activation: Activation = .identity
) throws -> [Float] {
    let (xCodes, xScales) = try QuantizedWeights.quantize(x, inFeatures: k, outFeatures: rows)
    let (wCodes, wScales) = try QuantizedWeights.quantize(weight, inFeatures: k, outFeatures: n)
    var out = [Float](repeating: 0, count: rows * n)
    for r in 0..<rows {
        for j in 0..<n {
            var acc = 0
            for i in 0..<k { acc += Int(xCodes[r * k + i]) * Int(wCodes[j * k + i]) }
            let value = Double(acc) * Double(xScales[r]) * Double(wScales[j]) + Double(bias?[j] ?? 0)
            out[r * n + j] = activation.apply(Float(value))
        }
    }
    return out
}

/// Runs `body` with the row passes on the kernels of `level` (one of `RowQuantizer.levels`).
private func atLevel(_ level: String, _ body: () throws -> Void) throws {
    if try RowQuantizer.withLevel(level, body) == nil {
        Issue.record("this processor has no \(level) kernels")
    }
}

private func relativeError(_ a: [Float], _ b: [Float]) -> Double {
    let difference = zip(a, b).map { Double($0 - $1) * Double($0 - $1) }.reduce(0, +)
    let norm = b.map { Double($0) * Double($0) }.reduce(0, +)
    return (difference / norm).squareRoot()
}

private func run(
    _ layer: LinearLayer, _ x: [Float], rows: Int, into out: inout [Float], activation: Activation = .identity,
    accumulate: Bool = false, executor: TensorExecutor
) throws {
    try x.withUnsafeBytes { input in
        try out.withUnsafeMutableBytes { output in
            try executor.linear(layer, input: input.baseAddress!, rows: rows, output: output.baseAddress!,
                                activation: activation, accumulate: accumulate)
        }
    }
}

@Suite("int8 linear layers", .enabled(if: Precision.int8.isSupported, "int8 products need VNNI; this CPU has none"))
struct Int8LinearTests {
    @Test("the row quantiser rounds x * 127 / max|x| to nearest even, for every row length and an all-zero row, at every kernel level",
          arguments: RowQuantizer.levels)
    func rowQuantiser(level: String) throws {
        try atLevel(level) {
            for columns in [1, 7, 15, 16, 17, 33, 64, 100] {
                let rows = 4
                var x = randomFloats(rows * columns, seed: UInt64(columns), scale: 3)
                for i in 0..<columns { x[2 * columns + i] = 0 }
                // A row of exact halves after scaling: max 127 makes the multiplier 1, so x itself is scaled.
                for i in 0..<columns { x[3 * columns + i] = i == 0 ? 127 : Float(i % 9) - 4.5 }
                var codes = [Int8](repeating: 99, count: rows * columns)
                var scales = [Float](repeating: -1, count: rows)
                x.withUnsafeBufferPointer { input in
                    RowQuantizer.quantize(input.baseAddress!, rows: rows, columns: columns, codes: &codes, scales: &scales)
                }
                for r in 0..<rows {
                    let row = x[(r * columns)..<((r + 1) * columns)]
                    let largest = row.map(abs).max()!
                    #expect(scales[r] == (largest > 0 ? largest / 127 : 0), "row \(r) of \(columns)")
                    let inverse = largest > 0 ? 127 / largest : 0
                    let expected = row.map { Int8(($0 * inverse).rounded(.toNearestOrEven)) }
                    #expect(Array(codes[(r * columns)..<((r + 1) * columns)]) == expected,
                            "row \(r) of \(columns) columns (\(RowQuantizer.level) kernel)")
                }
            }
        }
    }

    // 5 rows run the dequantisation on the calling thread; 400 x 300 outputs are enough to share it among
    // OpenMP's threads.
    @Test("int8 linear equals the dequantised integer product, for every activation, with and without bias, on one thread or many, at every kernel level",
          arguments: Activation.allCases, RowQuantizer.levels)
    func exactDequantisation(activation: Activation, level: String) throws {
        try atLevel(level) {
            for (rows, k, n) in [(5, 37, 19), (400, 40, 300)] {
                let x = randomFloats(rows * k, seed: 11)
                let w = randomFloats(n * k, seed: 12, scale: 0.5)
                let b = randomFloats(n, seed: 13)
                let executor = try TensorExecutor(threads: 2)
                executor.prepareThread()
                for bias in [b, nil] {
                    let layer = try LinearLayer(weight: w, bias: bias, inFeatures: k, outFeatures: n, precision: .int8)
                    var out = [Float](repeating: 0, count: rows * n)
                    try run(layer, x, rows: rows, into: &out, activation: activation, executor: executor)
                    let expected = try dequantisedProduct(x, rows: rows, weight: w, bias: bias, inFeatures: k, outFeatures: n,
                                                          activation: activation)
                    #expect(maxAbsDifference(out, expected) < 1e-4, "activation \(activation), \(rows) rows, bias \(bias != nil)")
                }
            }
        }
    }

    @Test("accumulating int8 linear adds to the residual, for every row count through cached primitives")
    func accumulatesAndServesEveryRowCount() throws {
        let (k, n) = (64, 48)
        let w = randomFloats(n * k, seed: 14, scale: 0.2)
        let b = randomFloats(n, seed: 15)
        let layer = try LinearLayer(weight: w, bias: b, inFeatures: k, outFeatures: n, precision: .int8)
        let executor = try TensorExecutor()
        for rows in [1, 3, 50, 7, 1, 2000] {
            let x = randomFloats(rows * k, seed: UInt64(16 + rows))
            let residual = randomFloats(rows * n, seed: UInt64(100 + rows))
            var out = residual
            try run(layer, x, rows: rows, into: &out, accumulate: true, executor: executor)
            let product = try dequantisedProduct(x, rows: rows, weight: w, bias: b, inFeatures: k, outFeatures: n)
            #expect(maxAbsDifference(out, zip(product, residual).map(+)) < 1e-4, "\(rows) rows")
        }
    }

    @Test("int8 linear stays within 1.5% (relative) of the fp32 product, rows of very different sizes included")
    func closeToFloat() throws {
        let (rows, k, n) = (16, 256, 96)
        var x = randomFloats(rows * k, seed: 21)
        // Per-row scales keep small rows precise next to large ones.
        for r in stride(from: 0, to: rows, by: 4) { for i in 0..<k { x[r * k + i] *= 1000 } }
        let w = randomFloats(n * k, seed: 22, scale: 0.1)
        let b = randomFloats(n, seed: 23, scale: 0.1)
        let layer = try LinearLayer(weight: w, bias: b, inFeatures: k, outFeatures: n, precision: .int8)
        var out = [Float](repeating: 0, count: rows * n)
        try run(layer, x, rows: rows, into: &out, activation: .gelu, executor: try TensorExecutor())
        let expected = ReferenceKernels.linear(x, rows: rows, weight: w, bias: b, inFeatures: k, outFeatures: n,
                                               activation: .gelu)
        for r in 0..<rows {
            let error = relativeError(Array(out[(r * n)..<((r + 1) * n)]), Array(expected[(r * n)..<((r + 1) * n)]))
            #expect(error < 0.015, "row \(r): relative error \(error)")
        }
        print("int8 linear vs fp32: relative error \(relativeError(out, expected))")
    }

    @Test("a non-finite weight is an error naming its row, not a crash")
    func nonFiniteWeight() throws {
        var w = randomFloats(4 * 8, seed: 24)
        w[2 * 8 + 3] = .nan
        let error = try #require(throws: TensorError.self) {
            _ = try LinearLayer(weight: w, bias: nil, inFeatures: 8, outFeatures: 4, precision: .int8)
        }
        #expect(error.message.contains("row 2"))
    }

    @Test("an int8 layer refuses to write bf16 or int8 rows through the fp32 entry, and fp32 layers refuse int8 rows")
    func refusesOtherOutputs() throws {
        let layer = try LinearLayer(weight: randomFloats(8 * 8, seed: 25), bias: nil, inFeatures: 8, outFeatures: 8,
                                    precision: .int8)
        let x = randomFloats(8, seed: 26)
        var out = [Float](repeating: 0, count: 8)
        let executor = try TensorExecutor()
        for precision in [Precision.int8, .bf16] {
            let error = try #require(throws: TensorError.self, "\(precision) output") {
                try x.withUnsafeBytes { input in
                    try out.withUnsafeMutableBytes { output in
                        try executor.linear(layer, input: input.baseAddress!, rows: 1, output: output.baseAddress!,
                                            outputPrecision: precision)
                    }
                }
            }
            #expect(error.message.contains("\(precision)"), "\(error.message)")
        }
        let floatLayer = try LinearLayer(weight: randomFloats(8 * 8, seed: 25), bias: nil, inFeatures: 8, outFeatures: 8,
                                         precision: .fp32)
        var codes = [Int8](repeating: 0, count: 8)
        var scales: [Float] = [0]
        #expect(throws: TensorError.self) {
            try codes.withUnsafeMutableBufferPointer { codes in
                try scales.withUnsafeMutableBufferPointer { scales in
                    let rows = QuantizedRows(codes: codes.baseAddress!, scales: scales.baseAddress!)
                    try out.withUnsafeMutableBufferPointer { output in
                        try executor.linear(floatLayer, quantizedInput: rows, rows: 1, output: output.baseAddress!)
                    }
                }
            }
        }
    }

    // The MLP's path: fc1 hands its activated rows to fc2 as codes. They must be exactly the codes of
    // quantising fc1's fp32 output, and fc2 on them exactly fc2 on that fp32 output.
    @Test("an int8 layer's quantised output equals quantising its fp32 output, and the next layer reads it as it would that output",
          arguments: [Activation.quickGelu, .geluTanh, .gelu], RowQuantizer.levels)
    func quantisedHandOver(activation: Activation, level: String) throws {
        try atLevel(level) {
            for rows in [3, 300] {
                let (k, hidden, n) = (48, 320, 40)
                let x = randomFloats(rows * k, seed: 31)
                let fc1 = try LinearLayer(weight: randomFloats(hidden * k, seed: 32, scale: 0.3), bias: randomFloats(hidden, seed: 33),
                                          inFeatures: k, outFeatures: hidden, precision: .int8)
                let fc2 = try LinearLayer(weight: randomFloats(n * hidden, seed: 34, scale: 0.1), bias: randomFloats(n, seed: 35),
                                          inFeatures: hidden, outFeatures: n, precision: .int8)
                let executor = try TensorExecutor(threads: 2)
                executor.prepareThread()

                var floats = [Float](repeating: 0, count: rows * hidden)
                try run(fc1, x, rows: rows, into: &floats, activation: activation, executor: executor)
                var expectedCodes = [Int8](repeating: 0, count: rows * hidden)
                var expectedScales = [Float](repeating: 0, count: rows)
                RowQuantizer.quantize(floats, rows: rows, columns: hidden, codes: &expectedCodes, scales: &expectedScales)
                let residual = randomFloats(rows * n, seed: 36)
                var expectedOut = residual
                try run(fc2, floats, rows: rows, into: &expectedOut, accumulate: true, executor: executor)

                // fc1 on x quantised beforehand, as a layer norm to codes leaves it.
                var xCodes = [Int8](repeating: 0, count: rows * k)
                var xScales = [Float](repeating: 0, count: rows)
                RowQuantizer.quantize(x, rows: rows, columns: k, codes: &xCodes, scales: &xScales)
                var codes = [Int8](repeating: 0, count: rows * hidden)
                var scales = [Float](repeating: 0, count: rows)
                var out = residual
                try xCodes.withUnsafeMutableBufferPointer { xCodes in
                    try xScales.withUnsafeMutableBufferPointer { xScales in
                        try codes.withUnsafeMutableBufferPointer { codes in
                            try scales.withUnsafeMutableBufferPointer { scales in
                            let input = QuantizedRows(codes: xCodes.baseAddress!, scales: xScales.baseAddress!)
                            let handOver = QuantizedRows(codes: codes.baseAddress!, scales: scales.baseAddress!)
                            try executor.linear(fc1, quantizedInput: input, rows: rows, quantizedOutput: handOver,
                                                activation: activation)
                            try out.withUnsafeMutableBufferPointer { output in
                                try executor.linear(fc2, quantizedInput: handOver, rows: rows, output: output.baseAddress!,
                                                    accumulate: true)
                            }
                            }
                        }
                    }
                }
                #expect(codes == expectedCodes, "\(activation), \(rows) rows")
                #expect(scales == expectedScales, "\(activation), \(rows) rows")
                #expect(out == expectedOut, "\(activation), \(rows) rows")
            }
        }
    }

    @Test("an int8 layer's bf16 output is its fp32 output rounded to nearest even, at every kernel level",
          arguments: [2, 300], RowQuantizer.levels)
    func bfloat16Output(rows: Int, level: String) throws {
        try atLevel(level) {
            let (k, n) = (64, 256)
            let x = randomFloats(rows * k, seed: 61)
            let layer = try LinearLayer(weight: randomFloats(n * k, seed: 62, scale: 0.2), bias: randomFloats(n, seed: 63),
                                        inFeatures: k, outFeatures: n, precision: .int8)
            var codes = [Int8](repeating: 0, count: rows * k)
            var scales = [Float](repeating: 0, count: rows)
            RowQuantizer.quantize(x, rows: rows, columns: k, codes: &codes, scales: &scales)
            let executor = try TensorExecutor(threads: 2)
            executor.prepareThread()
            var floats = [Float](repeating: 0, count: rows * n)
            var halves = [UInt16](repeating: 0, count: rows * n)
            try codes.withUnsafeMutableBufferPointer { codes in
                try scales.withUnsafeMutableBufferPointer { scales in
                    let input = QuantizedRows(codes: codes.baseAddress!, scales: scales.baseAddress!)
                    try floats.withUnsafeMutableBufferPointer { output in
                        try executor.linear(layer, quantizedInput: input, rows: rows, output: output.baseAddress!)
                    }
                    try halves.withUnsafeMutableBytes { output in
                        try executor.linear(layer, quantizedInput: input, rows: rows, output: output.baseAddress!,
                                            outputPrecision: .bf16)
                    }
                    var residual = [Float](repeating: 0, count: rows * n)
                    #expect(throws: TensorError.self, "bf16 rows cannot be accumulated into") {
                        try residual.withUnsafeMutableBytes { output in
                            try executor.linear(layer, quantizedInput: input, rows: rows, output: output.baseAddress!,
                                                outputPrecision: .bf16, accumulate: true)
                        }
                    }
                }
            }
            #expect(halves == floats.map { HalfConversion.bfloat16Bits($0) })
        }
    }

    @Test("the row quantiser gives the same codes on OpenMP's threads as on one, at every kernel level",
          arguments: RowQuantizer.levels)
    func rowQuantiserInParallel(level: String) throws {
        try atLevel(level) {
            let (rows, columns) = (512, 768)
            let x = randomFloats(rows * columns, seed: 41, scale: 5)
            var shared = [Int8](repeating: 0, count: rows * columns)
            var sharedScales = [Float](repeating: 0, count: rows)
            RowQuantizer.quantize(x, rows: rows, columns: columns, codes: &shared, scales: &sharedScales)
            var single = [Int8](repeating: 0, count: rows * columns)
            var singleScales = [Float](repeating: 0, count: rows)
            x.withUnsafeBufferPointer { input in
                single.withUnsafeMutableBufferPointer { codes in
                    singleScales.withUnsafeMutableBufferPointer { scales in
                        for r in 0..<rows {
                            RowQuantizer.quantize(input.baseAddress! + r * columns, rows: 1, columns: columns,
                                                  codes: codes.baseAddress! + r * columns, scales: scales.baseAddress! + r)
                        }
                    }
                }
            }
            #expect(shared == single)
            #expect(sharedScales == singleScales)
        }
    }

    // 3 rows run on the calling thread, 300 on OpenMP's threads; the rows sit far from zero, where a
    // one-pass variance would cancel.
    @Test("layer norm straight to int8 gives the codes of quantising the fp32 layer norm, within one step, at every kernel level",
          arguments: [3, 300], RowQuantizer.levels)
    func layerNormToCodes(rows: Int, level: String) throws {
        try atLevel(level) {
            let width = 768
            var x = randomFloats(rows * width, seed: 51, scale: 2)
            for r in 0..<rows { for i in 0..<width { x[r * width + i] += Float(r % 7) * 40 - 100 } }
            let scale = randomFloats(width, seed: 52)
            let shift = randomFloats(width, seed: 53, scale: 0.5)
            let layer = try LayerNormLayer(scale: scale, shift: shift, epsilon: 1e-5)
            let normalised = ReferenceKernels.layerNorm(x, rows: rows, scale: scale, shift: shift, epsilon: 1e-5)
            var expectedCodes = [Int8](repeating: 0, count: rows * width)
            var expectedScales = [Float](repeating: 0, count: rows)
            RowQuantizer.quantize(normalised, rows: rows, columns: width, codes: &expectedCodes, scales: &expectedScales)

            var codes = [Int8](repeating: 0, count: rows * width)
            var scales = [Float](repeating: 0, count: rows)
            let executor = try TensorExecutor(threads: 2)
            executor.prepareThread()
            x.withUnsafeBufferPointer { input in
                codes.withUnsafeMutableBufferPointer { codes in
                    scales.withUnsafeMutableBufferPointer { scales in
                        executor.layerNorm(layer, input: input.baseAddress!, rows: rows,
                                           quantizedOutput: QuantizedRows(codes: codes.baseAddress!, scales: scales.baseAddress!))
                    }
                }
            }
            let steps = zip(codes, expectedCodes).map { abs(Int($0) - Int($1)) }
            #expect(steps.max()! <= 1, "largest code difference \(steps.max()!)")
            #expect(steps.filter { $0 > 0 }.count * 100 < codes.count, "\(steps.filter { $0 > 0 }.count) codes differ")
            for r in 0..<rows {
                #expect(abs(scales[r] - expectedScales[r]) <= 1e-4 * expectedScales[r], "row \(r)")
            }
        }
    }
}
