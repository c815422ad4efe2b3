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
        config.backgroundIndexing = false
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

    @Test func graphsGrowInTheBackgroundWhileSearchesScanPendingRowsExactly() async throws {
        let dir = TemporaryDirectory()
        var config = LoupeClient.Configuration()
        config.pendingRowsBeforeIndexing = 100
        config.exactSearchRowLimit = 0
        let client = try LoupeClient(path: dir.path, configuration: config)
        let dim = 16, n = 2000
        let base = TestVectors.make(count: n, dimension: dim, seed: 23)
        func vector(_ i: Int) -> [Float] { Array(base[i * dim..<(i + 1) * dim]) }
        try await client.createCollection("g", dimension: dim, index: IndexParams(kind: .hnsw, m: 8, efConstruction: 64))
        try await client.insert("g", (0..<n).map { ["id": .int(Int64($0)), "vector": .vector(vector($0))] })
        // The insert started a build; searches answer at once meanwhile (pending rows are scanned exactly).
        for i in [0, 999, 1999] {
            let hits = try await client.search("g", vectors: [vector(i)], options: SearchOptions(limit: 1))
            #expect(hits[0].first?.id == .int(Int64(i)))
        }
        try await client.flush()
        #expect(try await client.stats("g").indexedRows["vector"] == n, "flush waits for the build")
        try await client.insert("g", [["id": .int(Int64(n)), "vector": .vector(vector(5).map { -$0 })]])
        let hits = try await client.search("g", vectors: [vector(5).map { -$0 }], options: SearchOptions(limit: 1))
        #expect(hits[0].first?.id == .int(Int64(n)), "a row added after the build is found by the exact scan")
        try await client.close()
        // The saved graph covers every row, including the one added after the build.
        let reopened = try LoupeClient(path: dir.path, configuration: config)
        #expect(try await reopened.stats("g").indexedRows["vector"] == n + 1)
    }

    @Test func indexingPendingRowsCoversEvenAFewAndStatsReportThem() async throws {
        let dir = TemporaryDirectory()
        var config = LoupeClient.Configuration()
        config.pendingRowsBeforeIndexing = 10_000
        config.backgroundIndexing = false
        let client = try LoupeClient(path: dir.path, configuration: config)
        let dim = 8, n = 300
        let base = TestVectors.make(count: n, dimension: dim, seed: 29)
        try await client.createCollection("p", dimension: dim, index: IndexParams(kind: .hnsw, m: 8, efConstruction: 32))
        try await client.insert("p", (0..<n).map { ["id": .int(Int64($0)), "vector": .vector(Array(base[$0 * dim..<($0 + 1) * dim]))] })
        try await client.delete("p", ids: [.int(0), .int(1)])
        var stats = try await client.stats("p")
        // Fewer rows than the threshold: nothing built them, and the deleted ones do not count as waiting.
        #expect(stats.indexedRows["vector"] == 0)
        #expect(stats.pendingRows["vector"] == n - 2)
        #expect(stats.indexing.isEmpty)
        try await client.indexPendingRows("p")
        stats = try await client.stats("p")
        #expect(stats.indexedRows["vector"] == n)
        #expect(stats.pendingRows["vector"] == 0)
        await #expect(throws: StoreError.self) { try await client.indexPendingRows("missing") }
    }

    @Test func replaceSwapsTheMatchingRowsForNewOnesInOneCall() async throws {
        let dir = TemporaryDirectory()
        let client = try LoupeClient(path: dir.path)
        try await client.createCollection("r", dimension: 2, index: .flat, autoID: true)
        try await client.insert("r", [["vector": .vector([1, 0]), "file": "a"], ["vector": .vector([0, 1]), "file": "a"],
                                      ["vector": .vector([1, 1]), "file": "b"]])
        let result = try await client.replace("r", matching: .equals("file", "a"), with: [["vector": .vector([1, 0.5]), "file": "a"]])
        #expect(result.deleted == 2)
        #expect(try await client.query("r", filter: "file == 'a'", outputFields: ["count(*)"]) == [["count(*)": 1]])
        #expect(try await client.query("r", filter: "file == 'b'", outputFields: ["count(*)"]) == [["count(*)": 1]])
        // A row that fails validation leaves everything as it was.
        await #expect(throws: StoreError.self) {
            try await client.replace("r", matching: .equals("file", "b"), with: [["vector": .vector([1, 2, 3]), "file": "b"]])
        }
        #expect(try await client.query("r", filter: "file == 'b'", outputFields: ["count(*)"]) == [["count(*)": 1]])
    }

    @Test func filtersBuiltInCodeMatchTheirTextAndCombineWithIt() async throws {
        let dir = TemporaryDirectory()
        let client = try LoupeClient(path: dir.path)
        try await client.createCollection("f", dimension: 2, index: .flat)
        try await client.insert("f", [["id": 1, "vector": .vector([1, 0]), "path": "/a/x_1.jpg", "w": 10],
                                      ["id": 2, "vector": .vector([0, 1]), "path": "/a/x%1.jpg", "w": 20],
                                      ["id": 3, "vector": .vector([1, 1]), "path": "/b/y.jpg", "w": 30]])
        let prefix = FilterExpression.hasPrefix("path", "/a/x_")
        #expect(try await client.query("f", expression: prefix, outputFields: ["id"]) == [["id": 1]], "_ is a character")
        let both = FilterExpression.all([.hasPrefix("path", "/a/"), .field("w") >= 15])
        #expect(try await client.query("f", expression: both, outputFields: ["id"]) == [["id": 2]])
        #expect(try await client.query("f", filter: "id != 2", expression: .hasPrefix("path", "/a/"), outputFields: ["id"]) == [["id": 1]])
        // The text form parses back to a filter that selects the same rows.
        for expression in [prefix, both, .oneOf("id", [1, 3]), .not(.equals("path", "/b/y.jpg"))] {
            let text = expression.description
            let reparsed = try FilterExpression.parse(text)
            #expect(try await client.query("f", expression: reparsed, outputFields: ["id"])
                    == client.query("f", expression: expression, outputFields: ["id"]), "\(text)")
        }
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
