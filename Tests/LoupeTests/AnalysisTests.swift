import Testing
@testable import Loupe

@Suite("Collection analysis")
struct AnalysisTests {
    let centers = (0..<4).map { TestVectors.axis($0 * 3, dimension: 16) }

    @Test("k-means++ recovers well-separated groups and puts central items first")
    func kMeansRecoversClusters() throws {
        let (vectors, labels) = TestVectors.clusters(centers, perCenter: 10, spread: 0.15, seed: 1)
        let clusters = try KMeansClustering(clusterCount: 4).fit(vectors)
        #expect(clusters.count == 4)
        for cluster in clusters {
            #expect(cluster.members.count == 10)
            #expect(Set(cluster.members.map { labels[$0] }).count == 1, "a cluster mixes groups: \(cluster.members)")
            #expect(cluster.similarities == cluster.similarities.sorted(by: >))
            #expect(cluster.representatives(3) == Array(cluster.members.prefix(3)))
        }
    }

    @Test("k-means is deterministic and copes with k larger than the collection")
    func kMeansEdgeCases() throws {
        let (vectors, _) = TestVectors.clusters(centers, perCenter: 3, spread: 0.1, seed: 2)
        #expect(try KMeansClustering(clusterCount: 4).fit(vectors) == (try KMeansClustering(clusterCount: 4).fit(vectors)))
        let few = Array(vectors.prefix(2))
        #expect(try KMeansClustering(clusterCount: 5).fit(few).count <= 2)
        #expect(try KMeansClustering(clusterCount: 3).fit([]).isEmpty)
        #expect(throws: LoupeError.self) { try KMeansClustering(clusterCount: 0).fit(vectors) }
        #expect(throws: LoupeError.self) { try KMeansClustering(clusterCount: 2).fit([[1, 0], [1, 0, 0]]) }
    }

    @Test("near-duplicates group by threshold, through chains, and leave distinct items alone")
    func nearDuplicates() throws {
        let a = TestVectors.unit([1, 0, 0, 0])
        let a1 = TestVectors.unit([1, 0.1, 0, 0])       // cos(a, a1) ≈ 0.995
        let a2 = TestVectors.unit([1, 0.2, 0.02, 0])     // close to a1, a bit further from a
        let b = TestVectors.unit([0, 1, 0, 0])
        let b1 = TestVectors.unit([0, 1, 0.05, 0])
        let c = TestVectors.unit([0, 0, 0, 1])
        let groups = try NearDuplicateFinder(threshold: 0.98).groups([a, b, c, a1, b1, a2])
        #expect(groups == [[0, 3, 5], [1, 4]])
        #expect(try NearDuplicateFinder(threshold: 0.9999).groups([a, b, c, a1]).isEmpty)
        #expect(throws: LoupeError.self) { try NearDuplicateFinder(threshold: 1.5).groups([a]) }
    }

    @Test("the item unlike the rest scores as the top outlier")
    func outliers() throws {
        var (vectors, _) = TestVectors.clusters([centers[0], centers[1]], perCenter: 6, spread: 0.1, seed: 3)
        vectors.insert(TestVectors.axis(15, dimension: 16), at: 4)
        let top = try OutlierScorer(neighbours: 3).top(2, of: vectors)
        #expect(top.first?.index == 4)
        #expect(top[0].score > top[1].score + 0.5)
        #expect(try OutlierScorer().scores([TestVectors.axis(0, dimension: 4)]) == [0])
    }
}
