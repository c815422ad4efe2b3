import Testing
@testable import LoupeStore

@Suite struct FilteredSearchTests {
    /// 6,000 clustered vectors, `bucket` = id % 1000, so `bucket < s` keeps s/1000 of the rows.
    static let dim = 24
    static let count = 6000
    static let base = TestVectors.make(count: count, dimension: dim, seed: 11)
    static let queries = TestVectors.make(count: 30, dimension: dim, seed: 12)

    func makeClient(_ dir: TemporaryDirectory, storage: VectorStorage) async throws -> LoupeClient {
        var config = LoupeClient.Configuration()
        // Small data: force the graph path down to 50 matching rows so filtered traversal is what is tested.
        config.exactSearchRowLimit = 50
        config.graphVisitsPerCandidate = 0.01
        config.buildThreads = 2
        let client = try LoupeClient(path: dir.path, configuration: config)
        try await client.createCollection("f", schema: CollectionSchema(fields: [
            .int64Primary("id"),
            .vector("vector", dimension: Self.dim, index: IndexParams(kind: .hnsw, m: 12, efConstruction: 80, storage: storage)),
            .scalar("bucket", .int64),
        ]))
        let rows: [Row] = (0..<Self.count).map { i in
            ["id": .int(Int64(i)), "bucket": .int(Int64(i % 1000)),
             "vector": .vector(Array(Self.base[i * Self.dim..<(i + 1) * Self.dim]))]
        }
        try await client.insert("f", rows)
        return client
    }

    func recall(_ client: LoupeClient, permille: Int) async throws -> Double {
        var hits = 0, total = 0
        for q in 0..<Self.queries.count / Self.dim {
            let query = Array(Self.queries[q * Self.dim..<(q + 1) * Self.dim])
            let truth = TestVectors.exactTopK(base: Self.base, query: query[...], dimension: Self.dim, k: 10, metric: .cosine) {
                $0 % 1000 < permille
            }
            let found = try await client.search("f", vectors: [query], options: SearchOptions(
                limit: 10, filter: "bucket < {s}", filterParameters: ["s": .int(Int64(permille))], ef: 64))[0]
            #expect(found.allSatisfy { Int($0.id.intValue!) % 1000 < permille }, "a hit outside the filter")
            hits += found.filter { truth.contains(Int($0.id.intValue!)) }.count
            total += truth.count
        }
        return Double(hits) / Double(total)
    }

    @Test(arguments: [500, 100, 10, 1])
    func filteredRecallStaysHigh(permille: Int) async throws {
        let dir = TemporaryDirectory()
        let client = try await makeClient(dir, storage: .fp32)
        let r = try await recall(client, permille: permille)
        #expect(r >= 0.95, "recall@10 at \(Double(permille) / 10)% selectivity was \(r)")
    }

    @Test func quantizedFilteredRecallStaysHigh() async throws {
        let dir = TemporaryDirectory()
        let client = try await makeClient(dir, storage: .int8)
        for permille in [500, 100] {
            let r = try await recall(client, permille: permille)
            #expect(r >= 0.95, "int8 recall@10 at \(Double(permille) / 10)% selectivity was \(r)")
        }
    }
}
