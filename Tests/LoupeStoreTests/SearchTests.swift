import Foundation
import Testing
@testable import LoupeStore

/// Video segments on a line: vectors at angles, grouped by video, with captions for BM25.
func makeSegments(_ client: LoupeClient, metric: MetricType = .cosine, index: IndexParams = .flat) async throws {
    let schema = CollectionSchema(fields: [
        .int64Primary("id"),
        .vector("image", dimension: 2, metric: metric, index: index),
        .vector("text", dimension: 2, metric: metric, index: index),
        .scalar("video", .string),
        FieldSchema(name: "caption", dataType: .string, maxLength: 200, enableKeywordSearch: true),
    ])
    try await client.createCollection("seg", schema: schema)
    // id: (image vector, text vector, video, caption)
    let data: [(Int64, [Float], [Float], String, String)] = [
        (1, [1, 0], [0, 1], "a", "a cat sleeps on the sofa"),
        (2, [0.99, 0.14], [0.1, 1], "a", "the cat wakes up"),
        (3, [0.98, 0.2], [1, 0], "a", "a dog barks"),
        (4, [0.95, 0.31], [0.7, 0.7], "b", "dog and cat play"),
        (5, [0.9, 0.44], [0, 1], "b", "sunset over the sea"),
        (6, [0.7, 0.71], [1, 0.1], "c", "cat cat cat"),
    ]
    try await client.insert("seg", data.map { d in
        ["id": .int(d.0), "image": .vector(d.1), "text": .vector(d.2), "video": .string(d.3), "caption": .string(d.4)]
    })
}

@Suite struct SearchTests {
    @Test func searchOrdersByCosineWithOffsetAndOutputFields() async throws {
        let dir = TemporaryDirectory()
        let client = try LoupeClient(path: dir.path)
        try await makeSegments(client)
        let hits = try await client.search("seg", vectors: [[1, 0], [0, 1]],
                                           options: SearchOptions(annsField: "image", limit: 3, outputFields: ["video"]))
        #expect(hits[0].map(\.id) == [1, 2, 3])
        #expect(hits[1].map(\.id) == [6, 5, 4])
        #expect(abs(hits[0][0].distance - 1) < 1e-5)
        #expect(hits[0][0].fields == ["video": "a"])
        let paged = try await client.search("seg", vectors: [[1, 0]], options: SearchOptions(annsField: "image", limit: 2, offset: 2))
        #expect(paged[0].map(\.id) == [3, 4])
        await #expect(throws: StoreError.self) { try await client.search("seg", vectors: [[1, 0]]) }
        await #expect(throws: StoreError.self) { try await client.search("seg", vectors: [[1, 0, 0]], options: SearchOptions(annsField: "image")) }
    }

    @Test func l2ScoresAreSquaredDistancesAscending() async throws {
        let dir = TemporaryDirectory()
        let client = try LoupeClient(path: dir.path)
        try await makeSegments(client, metric: .l2)
        let hits = try await client.search("seg", vectors: [[0, 1]], options: SearchOptions(annsField: "text", limit: 3))
        #expect(Set(hits[0].prefix(2).map(\.id)) == [1, 5])
        #expect(hits[0][0].distance == 0)
        #expect(abs(hits[0][2].distance - 0.01) < 1e-5, "id 2 is at (0.1, 1): squared distance 0.01")
    }

    @Test func rangeSearchKeepsHitsBetweenRadiusAndRangeFilter() async throws {
        let dir = TemporaryDirectory()
        let client = try LoupeClient(path: dir.path)
        try await makeSegments(client)
        // Cosine to (1,0) of the image vectors: 1, .990, .980, .951, .898, .702.
        let hits = try await client.search("seg", vectors: [[1, 0]], options: SearchOptions(
            annsField: "image", limit: 10, radius: 0.9, rangeFilter: 0.985))
        #expect(hits[0].map(\.id) == [3, 4])
    }

    @Test func groupByReturnsGroupSizeHitsPerGroup() async throws {
        let dir = TemporaryDirectory()
        let client = try LoupeClient(path: dir.path)
        try await makeSegments(client)
        let one = try await client.search("seg", vectors: [[1, 0]], options: SearchOptions(
            annsField: "image", limit: 2, outputFields: ["video"], groupByField: "video"))
        #expect(one[0].map(\.id) == [1, 4])
        let two = try await client.search("seg", vectors: [[1, 0]], options: SearchOptions(
            annsField: "image", limit: 3, groupByField: "video", groupSize: 2))
        #expect(two[0].map(\.id) == [1, 2, 4, 5, 6])
    }

    @Test func filteredSearchOnlyReturnsMatches() async throws {
        let dir = TemporaryDirectory()
        let client = try LoupeClient(path: dir.path)
        try await makeSegments(client)
        let hits = try await client.search("seg", vectors: [[1, 0]], options: SearchOptions(
            annsField: "image", limit: 5, filter: "video in {v}", filterParameters: ["v": ["b", "c"]]))
        #expect(hits[0].map(\.id) == [4, 5, 6])
    }

    @Test func keywordSearchRanksByBM25() async throws {
        let dir = TemporaryDirectory()
        let client = try LoupeClient(path: dir.path)
        try await makeSegments(client)
        let hits = try await client.keywordSearch("seg", field: "caption", text: "cat", limit: 10)
        #expect(hits.first?.id == 6, "the caption saying cat three times ranks first")
        #expect(Set(hits.map(\.id)) == [1, 2, 4, 6])
        #expect(hits.map(\.distance) == hits.map(\.distance).sorted(by: >))
        let filtered = try await client.keywordSearch("seg", field: "caption", text: "dog", filter: "video == 'b'")
        #expect(filtered.map(\.id) == [4])
        await #expect(throws: StoreError.self) { try await client.keywordSearch("seg", field: "video", text: "a") }
        try await client.delete("seg", ids: [6])
        #expect(try await client.keywordSearch("seg", field: "caption", text: "cat").contains { $0.id == 6 } == false)
    }

    @Test func hybridSearchFusesWithRRFAndWeights() async throws {
        let dir = TemporaryDirectory()
        let client = try LoupeClient(path: dir.path)
        try await makeSegments(client)
        let image = AnnSearchRequest(vectors: [[1, 0]], field: "image", limit: 3)  // 1, 2, 3
        let text = AnnSearchRequest(vectors: [[1, 0]], field: "text", limit: 3)  // 3 (1.0), 6 (.995), 4 (.707)
        let rrf = try await client.hybridSearch("seg", requests: [image, text], ranker: .rrf(k: 60), limit: 3)
        // 3: 1/63 + 1/61; 1: 1/61; 6: 1/62; 2: 1/62.
        #expect(rrf[0].map(\.id) == [3, 1, 2], "ties (2 and 6) break by id")
        let rrfTop: Double = 1.0 / 63 + 1.0 / 61
        let rrfError = abs(Double(rrf[0][0].distance) - rrfTop)
        #expect(rrfError < 1e-6)
        let weighted = try await client.hybridSearch("seg", requests: [image, text], ranker: .weighted([0.1, 0.9]), limit: 2)
        #expect(weighted[0].map(\.id) == [3, 6])
        let imageScore: Double = 0.5 + atan(0.98058) / Double.pi
        let textScore: Double = 0.5 + atan(1.0) / Double.pi
        let expected = 0.1 * imageScore + 0.9 * textScore
        let weightedError = abs(Double(weighted[0][0].distance) - expected)
        #expect(weightedError < 1e-4)
        let keyword = AnnSearchRequest(text: ["sunset sea"], field: "caption", limit: 3)
        let mixed = try await client.hybridSearch("seg", requests: [image, keyword], ranker: .rrf(), limit: 1)
        #expect(mixed[0].map(\.id) == [1] || mixed[0].map(\.id) == [5])
        await #expect(throws: StoreError.self) {
            try await client.hybridSearch("seg", requests: [image, text], ranker: .weighted([1]))
        }
    }

    @Test func iteratorsPagePastAnyLimit() async throws {
        let dir = TemporaryDirectory()
        let client = try LoupeClient(path: dir.path)
        try await makeSegments(client)
        var it = try await client.queryIterator("seg", filter: "id != 3", outputFields: ["id"], batchSize: 2)
        var ids: [FieldValue] = []
        while true {
            let batch = try await it.next()
            if batch.isEmpty { break }
            #expect(batch.count <= 2)
            ids += batch.map { $0["id"]! }
        }
        #expect(ids == [1, 2, 4, 5, 6])
        var search = try await client.searchIterator("seg", vector: [1, 0], options: SearchOptions(annsField: "image"), batchSize: 4)
        let first = try await search.next()
        let second = try await search.next()
        let third = try await search.next()
        #expect(first.map(\.id) == [1, 2, 3, 4])
        #expect(second.map(\.id) == [5, 6])
        #expect(third.isEmpty)
    }
}

@Suite struct SearchLimitTests {
    @Test func oversizedRequestsAreRefusedNotAllocated() async throws {
        let dir = TemporaryDirectory()
        let client = try LoupeClient(path: dir.path)
        try await makeSegments(client)
        for options in [SearchOptions(annsField: "image", limit: 1_000_000_000), SearchOptions(annsField: "image", limit: 0),
                        SearchOptions(annsField: "image", offset: Int.max), SearchOptions(annsField: "image", ef: Int.max),
                        SearchOptions(annsField: "image", groupByField: "video", groupSize: Int.max / 8)] {
            await #expect(throws: StoreError.self) { try await client.search("seg", vectors: [[1, 0]], options: options) }
        }
        await #expect(throws: StoreError.self) { try await client.keywordSearch("seg", field: "caption", text: "cat", limit: Int.max) }
        #expect(try FilterExpression.parse("x % -1 == 0").matches(["x": .int(Int64.min)]))
    }
}
