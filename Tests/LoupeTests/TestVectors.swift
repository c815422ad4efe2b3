@testable import Loupe

/// Deterministic synthetic embeddings: `count` points scattered tightly around each of a few directions.
enum TestVectors {
    static func unit(_ v: [Float]) -> [Float] { VectorMath.normalized(v)! }

    /// The i-th standard basis vector of `dimension` values.
    static func axis(_ i: Int, dimension: Int) -> [Float] {
        var v = [Float](repeating: 0, count: dimension)
        v[i] = 1
        return v
    }

    /// `perCenter` noisy copies around each of `centers`, noise amplitude `spread`.
    static func clusters(_ centers: [[Float]], perCenter: Int, spread: Float, seed: UInt64) -> (vectors: [[Float]], labels: [Int]) {
        var generator = SplitMix64(seed: seed)
        var vectors: [[Float]] = []
        var labels: [Int] = []
        for (label, center) in centers.enumerated() {
            for _ in 0..<perCenter {
                let noisy = center.map { $0 + spread * Float(generator.nextUnit() * 2 - 1) }
                vectors.append(unit(noisy))
                labels.append(label)
            }
        }
        return (vectors, labels)
    }
}
