/// Spherical k-means with k-means++ seeding over unit embeddings: groups a collection into themes.
///
/// Similarity is the cosine (dot product of unit vectors) and centroids are re-normalised means, which
/// is the natural geometry for CLIP embeddings. Seeding and ties are deterministic for a given `seed`.
public struct KMeansClustering: Sendable {
    /// One cluster: its members (indices into the input, most central first) and its centroid.
    public struct Cluster: Sendable, Equatable {
        public var centroid: [Float]
        /// Member indices sorted by similarity to the centroid, highest first.
        public var members: [Int]
        /// Similarity of each member to the centroid, in the order of `members`.
        public var similarities: [Float]
        /// The `n` most central members: the items that best represent the cluster.
        public func representatives(_ n: Int) -> [Int] { Array(members.prefix(n)) }
    }

    public var clusterCount: Int
    public var maxIterations = 50
    public var seed: UInt64 = 0x10CE

    public init(clusterCount: Int) {
        self.clusterCount = clusterCount
    }

    /// Clusters `vectors` (all of one dimension). Clusters come back largest first.
    public func fit(_ vectors: [[Float]]) throws -> [Cluster] {
        guard clusterCount >= 1 else { throw LoupeError(.invalidArgument, "the number of clusters must be at least 1") }
        guard let dimension = vectors.first?.count else { return [] }
        guard vectors.allSatisfy({ $0.count == dimension }) else {
            throw LoupeError(.dimensionMismatch, "embeddings of different lengths cannot be clustered together")
        }
        let table = VectorTable(vectors.map { VectorMath.normalized($0) ?? $0 }, dimension: dimension)
        let n = table.count
        let k = min(clusterCount, n)
        var centroids = seedCentroids(table, k: k)
        var assignment = [Int](repeating: -1, count: n)
        for _ in 0..<maxIterations {
            var changed = false
            for i in 0..<n {
                let best = nearest(table, i, centroids).index
                if best != assignment[i] {
                    assignment[i] = best
                    changed = true
                }
            }
            centroids = recomputeCentroids(table, assignment: assignment, previous: centroids)
            if !changed { break }
        }
        var clusters = (0..<k).map { Cluster(centroid: centroids[$0], members: [], similarities: []) }
        for i in 0..<n {
            clusters[assignment[i]].members.append(i)
        }
        for c in clusters.indices {
            let scored = clusters[c].members.map { ($0, table.similarity($0, to: clusters[c].centroid)) }
                .sorted { $0.1 != $1.1 ? $0.1 > $1.1 : $0.0 < $1.0 }
            clusters[c].members = scored.map(\.0)
            clusters[c].similarities = scored.map(\.1)
        }
        return clusters.filter { !$0.members.isEmpty }
            .sorted { $0.members.count != $1.members.count ? $0.members.count > $1.members.count : $0.members[0] < $1.members[0] }
    }

    /// k-means++: each next seed is drawn with probability proportional to its squared distance
    /// (here `1 - cosine`, squared) from the nearest seed so far.
    private func seedCentroids(_ table: VectorTable, k: Int) -> [[Float]] {
        var generator = SplitMix64(seed: seed)
        let n = table.count
        var chosen = [Int(generator.next() % UInt64(n))]
        var distance = (0..<n).map { i in squaredDistance(1 - table.similarity(i, chosen[0])) }
        while chosen.count < k {
            let total = distance.reduce(0, +)
            var pick: Int
            if total <= 0 {
                // Every point coincides with a seed: take the first unused index.
                pick = (0..<n).first { !chosen.contains($0) } ?? 0
            } else {
                var target = Double(generator.nextUnit()) * total
                pick = n - 1
                for i in 0..<n {
                    target -= distance[i]
                    if target <= 0 && distance[i] > 0 { pick = i; break }
                }
            }
            chosen.append(pick)
            for i in 0..<n { distance[i] = min(distance[i], squaredDistance(1 - table.similarity(i, pick))) }
        }
        return chosen.map { Array(table.row($0)) }
    }

    private func squaredDistance(_ d: Float) -> Double { Double(max(d, 0)) * Double(max(d, 0)) }

    private func nearest(_ table: VectorTable, _ i: Int, _ centroids: [[Float]]) -> (index: Int, similarity: Float) {
        var best = (index: 0, similarity: -Float.infinity)
        for (c, centroid) in centroids.enumerated() {
            let s = table.similarity(i, to: centroid)
            if s > best.similarity { best = (c, s) }
        }
        return best
    }

    private func recomputeCentroids(_ table: VectorTable, assignment: [Int], previous: [[Float]]) -> [[Float]] {
        var sums = [[Float]](repeating: [Float](repeating: 0, count: table.dimension), count: previous.count)
        var counts = [Int](repeating: 0, count: previous.count)
        for (i, c) in assignment.enumerated() {
            counts[c] += 1
            let row = table.row(i)
            for (d, value) in row.enumerated() { sums[c][d] += value }
        }
        return sums.indices.map { c in counts[c] == 0 ? previous[c] : (VectorMath.normalized(sums[c]) ?? previous[c]) }
    }
}
