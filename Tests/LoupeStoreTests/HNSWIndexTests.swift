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
    func recall(storage: VectorStorage, metric: MetricType, threads: Int, dimension dim: Int = 32) throws -> Double {
        let n = 2000, q = 50
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

    @Test(arguments: [MetricType.cosine, .l2])
    func int8RecallHoldsAtAnOddDimension(metric: MetricType) throws {
        // 37 components: the int8 kernels' masked tails carry most of each distance.
        let r = try recall(storage: .int8, metric: metric, threads: 2, dimension: 37)
        #expect(r >= 0.95, "recall@10 with int8 \(metric) codes of dimension 37 on 2 threads was \(r)")
    }

    @Test func rerankingTheBestCandidatesGivesExactScores() throws {
        let dim = 48, n = 1500
        let base = TestVectors.make(count: n, dimension: dim, seed: 5)
        let queries = TestVectors.make(count: 30, dimension: dim, seed: 6)
        let index = VectorIndex(dimension: dim, metric: .cosine, params: IndexParams(kind: .hnsw, m: 12, efConstruction: 100, storage: .int8))
        nonisolated(unsafe) let pointer = UnsafeMutablePointer<Float>.allocate(capacity: base.count)
        pointer.initialize(from: base, count: base.count)
        defer { pointer.deallocate() }
        index.exactVectors = { UnsafePointer(pointer + Int($0) * dim) }
        index.rerankCandidates = 20
        try base.withUnsafeBufferPointer { try index.add($0, labels: (0..<Int64(n)).map { $0 }, threads: 1) }
        var hits = 0
        for i in 0..<30 {
            let query = Array(queries[i * dim..<(i + 1) * dim])
            let found = try index.search(query, k: 10, ef: 96)
            #expect(found.count == 10)
            for hit in found {
                var dot: Float = 0
                for j in 0..<dim { dot += base[Int(hit.label) * dim + j] * query[j] }
                #expect(abs(hit.score - dot) < 1e-4, "label \(hit.label) scored \(hit.score), its fp32 similarity is \(dot)")
            }
            #expect(zip(found, found.dropFirst()).allSatisfy { $0.score >= $1.score }, "hits are not best first")
            let truth = Set(TestVectors.exactTopK(base: base, query: query[...], dimension: dim, k: 10, metric: .cosine))
            hits += found.filter { truth.contains(Int($0.label)) }.count
        }
        #expect(Double(hits) / 300 >= 0.95, "recall@10 re-ranking the best 20 of 96 was \(Double(hits) / 300)")
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
