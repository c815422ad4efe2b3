import CLoupeSIMD
import Testing
@testable import LoupeStore

/// A seeded stream of bytes and floats (SplitMix64), so every run checks the same vectors.
private struct SeededStream {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func byte() -> Int8 { Int8(truncatingIfNeeded: next()) }
    mutating func float() -> Float { Float(Double(next() >> 11) / Double(1 << 53)) * 2 - 1 }
}

@Suite struct QuantizedCodeTests {
    /// Dimensions around every vector width and tail length the kernels have (16, 32, 64, 128 lanes).
    static let dimensions = Array(0...130) + [191, 255, 256, 257, 383, 511, 512, 513, 767, 768, 1000, 1024, 1537]

    @Test func everyInt8KernelMatchesTheScalarDotProduct() {
        var stream = SeededStream(state: 7)
        let kernels = Int(loupe_s8_kernel_count())
        #expect(kernels >= 1)
        for n in Self.dimensions {
            let a = (0..<n).map { _ in stream.byte() }
            let b = (0..<n).map { _ in stream.byte() }
            let expected = zip(a, b).reduce(Int32(0)) { $0 + Int32($1.0) * Int32($1.1) }
            for kernel in 0..<kernels {
                let got = loupe_dot_s8_kernel(Int32(kernel), a, b, Int64(n))
                #expect(got == expected, "kernel \(kernel) gave \(got) for n=\(n), scalar \(expected)")
            }
            #expect(loupe_dot_s8(a, b, Int64(n)) == expected, "dispatched kernel (\(String(cString: loupe_s8_level()))) at n=\(n)")
        }
    }

    @Test func int8KernelsHandleTheExtremes() {
        // -128 * -128 is the one product that does not fit int16 pairs twice; 127 * -128 the most negative.
        for n in [1, 63, 64, 65, 512, 1537] {
            let low = [Int8](repeating: -128, count: n), high = [Int8](repeating: 127, count: n)
            for kernel in 0..<Int(loupe_s8_kernel_count()) {
                #expect(loupe_dot_s8_kernel(Int32(kernel), low, low, Int64(n)) == Int32(n * 16384), "kernel \(kernel), n=\(n), -128·-128")
                #expect(loupe_dot_s8_kernel(Int32(kernel), high, low, Int64(n)) == Int32(n * -16256), "kernel \(kernel), n=\(n), 127·-128")
            }
        }
    }

    @Test(arguments: [MetricType.cosine, .innerProduct, .l2], [3, 37, 512])
    func int8DistancesFollowTheFloatOnes(metric: MetricType, dimension: Int) {
        var stream = SeededStream(state: UInt64(dimension))
        let code = QuantizedCode(dimension: dimension, metric: metric, storage: .int8)
        let queryBytes = UnsafeMutablePointer<Int8>.allocate(capacity: dimension)
        defer { queryBytes.deallocate() }
        var worst: Float = 0
        for _ in 0..<50 {
            var x = (0..<dimension).map { _ in stream.float() }, y = (0..<dimension).map { _ in stream.float() }
            normalizeInPlace(&x)
            normalizeInPlace(&y)
            let stored = UnsafeMutableRawPointer.allocate(byteCount: 2 * dimension, alignment: 64)
            defer { stored.deallocate() }
            let (sx, nx) = code.encode(x, into: stored)
            let (sy, ny) = code.encode(y, into: stored + dimension)
            let exact = x.withUnsafeBufferPointer { xp in y.withUnsafeBufferPointer { code.exactDistance(xp.baseAddress!, $0.baseAddress!) } }
            let query = x.withUnsafeBufferPointer { code.prepare($0.baseAddress!, bytes: queryBytes) }
            let fromQuery = code.distance(query, code: stored + dimension, scale: sy, squaredNorm: ny)
            let fromCodes = code.int8Distance(stored, scale: sx, squaredNorm: nx, stored + dimension, scale: sy, squaredNorm: ny)
            // The query's int8 code is its stored code; only L2's norm differs: the query keeps its fp32 one.
            let normGap = metric == .l2 ? x.reduce(0) { $0 + $1 * $1 } - nx : 0
            #expect(abs(fromQuery - fromCodes - normGap) <= 1e-5, "query code and stored code disagree: \(fromQuery) vs \(fromCodes)")
            worst = max(worst, abs(fromQuery - exact))
        }
        // Two 8-bit roundings of unit vectors: errors near 1/127 of a component, summed over the dimension.
        #expect(worst < 0.03, "int8 distance strayed \(worst) from the fp32 one (\(metric), dimension \(dimension))")
    }

    @Test func queriesOfZerosGiveZeroDistance() {
        let code = QuantizedCode(dimension: 5, metric: .innerProduct, storage: .int8)
        let bytes = UnsafeMutablePointer<Int8>.allocate(capacity: 5)
        defer { bytes.deallocate() }
        let zero = [Float](repeating: 0, count: 5), one: [Float] = [1, 0, 0, 0, 0]
        let stored = UnsafeMutableRawPointer.allocate(byteCount: 5, alignment: 8)
        defer { stored.deallocate() }
        let (s, n) = code.encode(one, into: stored)
        let query = zero.withUnsafeBufferPointer { code.prepare($0.baseAddress!, bytes: bytes) }
        #expect(code.distance(query, code: stored, scale: s, squaredNorm: n) == 0)
    }
}
