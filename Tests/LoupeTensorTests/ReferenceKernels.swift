import Foundation
@testable import LoupeTensor

/// Straightforward implementations the oneDNN paths are checked against.
enum ReferenceKernels {
    static func linear(_ x: [Float], rows: Int, weight: [Float], bias: [Float]?, inFeatures k: Int, outFeatures n: Int,
                       activation: Activation = .identity) -> [Float] {
        var out = [Float](repeating: 0, count: rows * n)
        for r in 0..<rows {
            for j in 0..<n {
                var acc = Double(bias?[j] ?? 0)
                for i in 0..<k { acc += Double(x[r * k + i]) * Double(weight[j * k + i]) }
                out[r * n + j] = activation.apply(Float(acc))
            }
        }
        return out
    }

    static func layerNorm(_ x: [Float], rows: Int, scale: [Float], shift: [Float], epsilon: Float) -> [Float] {
        let c = scale.count
        var out = x
        for r in 0..<rows {
            let row = x[(r * c)..<((r + 1) * c)].map(Double.init)
            let mean = row.reduce(0, +) / Double(c)
            let variance = row.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(c)
            for i in 0..<c {
                out[r * c + i] = Float((row[i] - mean) / (variance + Double(epsilon)).squareRoot()) * scale[i] + shift[i]
            }
        }
        return out
    }

    /// qkv: [b, s, 3w]; returns [b, s, w].
    static func attention(_ qkv: [Float], batch b: Int, sequence s: Int, width w: Int, heads h: Int, causal: Bool) -> [Float] {
        let d = w / h
        var out = [Float](repeating: 0, count: b * s * w)
        for bi in 0..<b {
            for hi in 0..<h {
                for i in 0..<s {
                    var scores = [Double](repeating: -.infinity, count: s)
                    for j in 0..<s where !causal || j <= i {
                        var dot = 0.0
                        for t in 0..<d {
                            dot += Double(qkv[(bi * s + i) * 3 * w + hi * d + t]) * Double(qkv[(bi * s + j) * 3 * w + w + hi * d + t])
                        }
                        scores[j] = dot / Double(d).squareRoot()
                    }
                    let top = scores.max()!
                    let exps = scores.map { exp($0 - top) }
                    let total = exps.reduce(0, +)
                    for t in 0..<d {
                        var acc = 0.0
                        for j in 0..<s { acc += exps[j] / total * Double(qkv[(bi * s + j) * 3 * w + 2 * w + hi * d + t]) }
                        out[(bi * s + i) * w + hi * d + t] = Float(acc)
                    }
                }
            }
        }
        return out
    }
}

/// A small deterministic generator so test inputs are the same on every run.
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed &+ 0x9E37_79B9_7F4A_7C15 }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

func randomFloats(_ count: Int, seed: UInt64, scale: Float = 1) -> [Float] {
    var rng = SeededGenerator(seed: seed)
    return (0..<count).map { _ in Float.random(in: -scale...scale, using: &rng) }
}

func maxAbsDifference(_ a: [Float], _ b: [Float]) -> Float {
    precondition(a.count == b.count, "compared arrays differ in length: \(a.count) vs \(b.count)")
    return zip(a, b).map { abs($0 - $1) }.max() ?? 0
}

func roundedToBFloat16(_ values: [Float]) -> [Float] {
    values.map { HalfConversion.float(bfloat16: HalfConversion.bfloat16Bits($0)) }
}
