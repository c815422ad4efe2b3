import Testing
@testable import LoupeStore

@Suite struct StoreIndexTests {
    @Test func innerProductRanksByRawDotProduct() async throws {
        let dir = TemporaryDirectory()
        let client = try LoupeClient(path: dir.path)
        try await client.createCollection("ip", dimension: 2, metric: .innerProduct, index: .flat)
        try await client.insert("ip", [["id": 1, "vector": .vector([1, 0])], ["id": 2, "vector": .vector([3, 0])],
                                       ["id": 3, "vector": .vector([0, 5])]])
        let hits = try await client.search("ip", vectors: [[2, 1]], options: SearchOptions(limit: 3))[0]
        // Dots: 2, 6, 5 — inner product does not normalise, unlike COSINE.
        #expect(hits.map(\.id) == [2, 3, 1])
        #expect(hits.map(\.distance) == [6, 5, 2])
    }

    @Test(arguments: [VectorStorage.bf16, .int8])
    func quantizedStoreSearchFindsEachRowByItsOwnVector(storage: VectorStorage) async throws {
        let dir = TemporaryDirectory()
        var config = LoupeClient.Configuration()
        config.pendingRowsBeforeIndexing = 0
        config.exactSearchRowLimit = 0
        let client = try LoupeClient(path: dir.path, configuration: config)
        let dim = 16, n = 800
        let base = TestVectors.make(count: n, dimension: dim, seed: 21)
        try await client.createCollection("q", dimension: dim,
                                          index: IndexParams(kind: .hnsw, m: 8, efConstruction: 64, storage: storage))
        try await client.insert("q", (0..<n).map { ["id": .int(Int64($0)), "vector": .vector(Array(base[$0 * dim..<($0 + 1) * dim]))] })
        var found = 0
        for i in stride(from: 0, to: n, by: 8) {
            let hits = try await client.search("q", vectors: [Array(base[i * dim..<(i + 1) * dim])], options: SearchOptions(limit: 1))
            if hits[0].first?.id == .int(Int64(i)) { found += 1 }
            // Re-ranking with fp32 makes the reported score exact even though traversal used codes.
            if let top = hits[0].first, top.id == .int(Int64(i)) { #expect(abs(top.distance - 1) < 1e-4) }
        }
        #expect(found >= 95, "\(found) of 100 rows found themselves with \(storage) codes")
        let stats = try await client.stats("q")
        #expect(stats.indexedRows["vector"] == n, "the search built the graph over every row")
        #expect(stats.indexBytesPerVector["vector"]! < 400)
    }

    @Test func multipleQueryVectorsGetOneListEach() async throws {
        let dir = TemporaryDirectory()
        let client = try LoupeClient(path: dir.path)
        try await client.createCollection("m", dimension: 2, index: .flat)
        try await client.insert("m", [["id": 1, "vector": .vector([1, 0])], ["id": 2, "vector": .vector([0, 1])]])
        let hits = try await client.search("m", vectors: [[1, 0], [0, 1], [1, 1]], options: SearchOptions(limit: 1))
        #expect(hits.count == 3)
        #expect(hits[0].map(\.id) == [1])
        #expect(hits[1].map(\.id) == [2])
        #expect(hits[2].count == 1)
    }
}
