/// Scores how unusual each item is in its collection: one minus the mean cosine similarity to its
/// `neighbours` nearest other items. A photo unlike anything else in the library scores high.
public struct OutlierScorer: Sendable {
    public var neighbours: Int

    public init(neighbours: Int = 5) {
        self.neighbours = neighbours
    }

    /// One score per input vector, in input order (higher is more unusual).
    public func scores(_ vectors: [[Float]]) throws -> [Float] {
        guard neighbours >= 1 else { throw LoupeError(.invalidArgument, "neighbours must be at least 1") }
        guard let dimension = vectors.first?.count else { return [] }
        guard vectors.allSatisfy({ $0.count == dimension }) else {
            throw LoupeError(.dimensionMismatch, "embeddings of different lengths cannot be compared")
        }
        let table = VectorTable(vectors.map { VectorMath.normalized($0) ?? $0 }, dimension: dimension)
        let n = table.count
        guard n > 1 else { return [Float](repeating: 0, count: n) }
        let k = min(neighbours, n - 1)
        return (0..<n).map { i in
            var nearest = [Float]()
            nearest.reserveCapacity(n - 1)
            for j in 0..<n where j != i { nearest.append(table.similarity(i, j)) }
            nearest.sort(by: >)
            let mean = nearest.prefix(k).reduce(0, +) / Float(k)
            return 1 - mean
        }
    }

    /// The indices of the `count` most unusual items with their scores, most unusual first.
    public func top(_ count: Int, of vectors: [[Float]]) throws -> [(index: Int, score: Float)] {
        let all = try scores(vectors)
        return all.enumerated().map { (index: $0.offset, score: $0.element) }
            .sorted { $0.score != $1.score ? $0.score > $1.score : $0.index < $1.index }
            .prefix(count).map { $0 }
    }
}
