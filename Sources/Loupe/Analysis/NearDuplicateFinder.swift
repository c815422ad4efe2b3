/// Finds groups of near-duplicate items: resized, re-encoded or lightly edited copies of one picture.
///
/// Two items are linked when the cosine of their embeddings reaches `threshold`; groups are the
/// connected components of those links (so a chain of close copies forms one group).
public struct NearDuplicateFinder: Sendable {
    /// Cosine similarity at or above which two items count as copies.
    public var threshold: Float

    public init(threshold: Float = 0.95) {
        self.threshold = threshold
    }

    /// Groups of indices into `vectors` with at least two members, each sorted ascending, largest group first.
    public func groups(_ vectors: [[Float]]) throws -> [[Int]] {
        guard threshold > -1, threshold <= 1 else {
            throw LoupeError(.invalidArgument, "threshold \(threshold) must lie in (-1, 1]")
        }
        guard let dimension = vectors.first?.count else { return [] }
        guard vectors.allSatisfy({ $0.count == dimension }) else {
            throw LoupeError(.dimensionMismatch, "embeddings of different lengths cannot be compared")
        }
        let table = VectorTable(vectors.map { VectorMath.normalized($0) ?? $0 }, dimension: dimension)
        var components = DisjointSets(count: table.count)
        for i in 0..<table.count {
            for j in (i + 1)..<table.count where table.similarity(i, j) >= threshold {
                components.union(i, j)
            }
        }
        var byRoot: [Int: [Int]] = [:]
        for i in 0..<table.count { byRoot[components.find(i), default: []].append(i) }
        return byRoot.values.filter { $0.count > 1 }
            .sorted { $0.count != $1.count ? $0.count > $1.count : $0[0] < $1[0] }
    }
}

/// Union-find with path halving and union by size.
struct DisjointSets {
    private var parent: [Int]
    private var size: [Int]

    init(count: Int) {
        parent = Array(0..<count)
        size = [Int](repeating: 1, count: count)
    }

    mutating func find(_ x: Int) -> Int {
        var x = x
        while parent[x] != x {
            parent[x] = parent[parent[x]]
            x = parent[x]
        }
        return x
    }

    mutating func union(_ a: Int, _ b: Int) {
        var ra = find(a), rb = find(b)
        guard ra != rb else { return }
        if size[ra] < size[rb] { swap(&ra, &rb) }
        parent[rb] = ra
        size[ra] += size[rb]
    }
}
