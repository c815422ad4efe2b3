import Testing
@testable import LoupeStore

/// Deterministic clustered unit vectors, like CLIP embeddings in miniature.
struct TestVectors {
    static func make(count: Int, dimension: Int, seed: UInt64, clusters: Int = 20) -> [Float] {
        var state = seed
        func next() -> Float {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            z ^= z >> 31
            return Float(Double(z >> 11) / Double(1 << 53)) * 2 - 1
        }
        let centers = (0..<clusters * dimension).map { _ in next() }
        var out = [Float](repeating: 0, count: count * dimension)
        for i in 0..<count {
            let c = Int(abs(next()) * Float(clusters - 1))
            var norm: Float = 0
            for j in 0..<dimension {
                let v = centers[c * dimension + j] + 0.6 * next()
                out[i * dimension + j] = v
                norm += v * v
            }
            for j in 0..<dimension { out[i * dimension + j] /= norm.squareRoot() }
        }
        return out
    }

    /// Exact top-k labels by brute force.
    static func exactTopK(base: [Float], query: ArraySlice<Float>, dimension: Int, k: Int, metric: MetricType,
                          allowed: ((Int) -> Bool)? = nil) -> [Int] {
        let n = base.count / dimension
        var scored: [(Float, Int)] = []
        for i in 0..<n where allowed?(i) ?? true {
            var s: Float = 0
            for j in 0..<dimension {
                let a = base[i * dimension + j], b = query[query.startIndex + j]
                s += metric == .l2 ? (a - b) * (a - b) : a * b
            }
            scored.append((metric == .l2 ? s : -s, i))
        }
        return scored.sorted { $0.0 < $1.0 }.prefix(k).map(\.1)
    }
}

@Suite struct HNSWIndexTests {
    func recall(storage: VectorStorage, metric: MetricType, threads: Int) throws -> Double {
        let dim = 32, n = 2000, q = 50
        let base = TestVectors.make(count: n, dimension: dim, seed: 1)
        let queries = TestVectors.make(count: q, dimension: dim, seed: 2)
        let index = VectorIndex(dimension: dim, metric: metric,
                                params: IndexParams(kind: .hnsw, m: 12, efConstruction: 100, storage: storage))
        nonisolated(unsafe) let pointer = UnsafeMutablePointer<Float>.allocate(capacity: base.count)
        pointer.initialize(from: base, count: base.count)
        defer { pointer.deallocate() }
        index.exactVectors = { UnsafePointer(pointer + Int($0) * dim) }
        try base.withUnsafeBufferPointer { try index.add($0, labels: (0..<Int64(n)).map { $0 }, threads: threads) }
        var hits = 0
        for i in 0..<q {
            let query = Array(queries[i * dim..<(i + 1) * dim])
            let truth = Set(TestVectors.exactTopK(base: base, query: query[...], dimension: dim, k: 10, metric: metric))
            hits += try index.search(query, k: 10, ef: 128).filter { truth.contains(Int($0.label)) }.count
        }
        return Double(hits) / Double(q * 10)
    }

    @Test(arguments: [VectorStorage.fp32, .bf16, .int8])
    func recallAtTenIsHighForEveryStorage(storage: VectorStorage) throws {
        let r = try recall(storage: storage, metric: .cosine, threads: 1)
        #expect(r >= 0.95, "recall@10 with \(storage) codes was \(r)")
    }

    @Test func l2AndParallelBuildKeepRecall() throws {
        let r = try recall(storage: .fp32, metric: .l2, threads: 2)
        #expect(r >= 0.95, "recall@10 with L2 on 2 threads was \(r)")
        let q = try recall(storage: .int8, metric: .l2, threads: 2)
        #expect(q >= 0.95, "recall@10 with int8 L2 on 2 threads was \(q)")
    }

    @Test func quantizedCodesTakeLessMemory() {
        let fp32 = VectorIndex(dimension: 512, metric: .cosine, params: IndexParams(storage: .fp32))
        let int8 = VectorIndex(dimension: 512, metric: .cosine, params: IndexParams(storage: .int8))
        #expect(int8.bytesPerVector <= 0.35 * fp32.bytesPerVector)
    }

    @Test func wrongDimensionsAreRejected() throws {
        let index = VectorIndex(dimension: 4, metric: .cosine)
        #expect(throws: StoreError.self) { try index.search([1, 2, 3], k: 1, ef: 10) }
        #expect(throws: StoreError.self) { try [Float](repeating: 1, count: 7).withUnsafeBufferPointer { try index.add($0, labels: [1, 2]) } }
    }
}
