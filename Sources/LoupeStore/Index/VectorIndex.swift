import CLoupeSIMD

/// A standalone approximate-nearest-neighbour index (HNSW or exact), the engine under each vector field
/// of a collection, usable directly like hnswlib.
///
/// ```swift
/// let index = VectorIndex(dimension: 512, metric: .cosine, params: IndexParams(m: 16, efConstruction: 200))
/// try index.add(vectors, labels: Array(0..<Int64(n)))
/// let hits = try index.search(query, k: 10, ef: 64)
/// ```
/// Not safe for concurrent mutation: add from one task at a time; searches may not overlap an `add`.
public final class VectorIndex {
    /// The vector dimension.
    public let dimension: Int
    /// How vectors are compared.
    public let metric: MetricType
    /// The index parameters.
    public let params: IndexParams
    let graph: HNSWIndex
    private var scratch: SearchScratch
    /// For quantized storage: where exact fp32 vectors for re-ranking come from, by label.
    public var exactVectors: (@Sendable (Int64) -> UnsafePointer<Float>)?
    /// For quantized storage with `exactVectors`: how many of a search's `ef` candidates (best first by
    /// their codes) are re-ranked exactly; nil re-ranks all of them. Never fewer than `k`.
    public var rerankCandidates: Int?

    /// Creates an empty index. `params.storage` picks fp32, bf16 or int8 codes for traversal.
    public init(dimension: Int, metric: MetricType, params: IndexParams = .hnsw) {
        self.dimension = dimension
        self.metric = metric
        self.params = params
        graph = HNSWIndex(dimension: dimension, metric: metric, storage: params.storage, m: params.m,
                          efConstruction: params.efConstruction)
        scratch = SearchScratch(dimension: dimension, capacity: 1)
    }

    /// Vectors in the index.
    public var count: Int { graph.count }

    /// Memory the index holds per vector (graph links and traversal codes), in bytes.
    public var bytesPerVector: Double { graph.bytesPerVector }

    /// Adds `labels.count` vectors stored row-major in `vectors`, building on `threads` threads.
    /// COSINE vectors are normalised on the way in.
    public func add(_ vectors: UnsafeBufferPointer<Float>, labels: [Int64], threads: Int = 1) throws {
        guard vectors.count == labels.count * dimension else {
            throw StoreError(.invalidArgument,
                             "\(vectors.count) floats do not make \(labels.count) vectors of dimension \(dimension)")
        }
        if metric == .cosine {
            var copy = Array(vectors)
            copy.withUnsafeMutableBufferPointer { b in
                for i in 0..<labels.count { normalizeRow(b.baseAddress! + i * dimension, dimension) }
            }
            copy.withUnsafeBufferPointer { graph.add($0.baseAddress!, labels: labels, threads: max(1, threads)) }
        } else {
            graph.add(vectors.baseAddress!, labels: labels, threads: max(1, threads))
        }
    }

    /// The `k` nearest labels to `query` with Milvus scores (similarity for COSINE/IP, squared distance for L2).
    public func search(_ query: [Float], k: Int, ef: Int) throws -> [(label: Int64, score: Float)] {
        guard query.count == dimension else {
            throw StoreError(.invalidArgument, "query has \(query.count) dimensions, the index \(dimension)")
        }
        var q = query
        if metric == .cosine { normalizeInPlace(&q) }
        let hits: [(label: Int64, distance: Float)] = q.withUnsafeBufferPointer { b in
            graph.search(b.baseAddress!, k: k, ef: ef, allowed: nil, exact: exactVectors, rerank: rerankCandidates,
                         scratch: &scratch)
        }
        return hits.map { ($0.label, graph.code.score($0.distance)) }
    }
}

/// Scales a row to unit length in place.
func normalizeRow(_ row: UnsafeMutablePointer<Float>, _ dimension: Int) {
    let n = loupe_dot_f32(row, row, Int64(dimension))
    guard n > 0 else { return }
    let inv = 1 / n.squareRoot()
    for i in 0..<dimension { row[i] *= inv }
}
