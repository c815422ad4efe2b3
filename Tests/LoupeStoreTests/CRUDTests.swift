import Testing
@testable import LoupeStore

/// A 2-d COSINE collection with scalar, array, JSON, nullable and defaulted fields.
func makeFruitCollection(_ client: LoupeClient, index: IndexParams = .flat) async throws {
    let schema = CollectionSchema(fields: [
        .int64Primary("id"),
        .vector("vector", dimension: 2, metric: .cosine, index: index),
        .scalar("name", .string, maxLength: 20),
        .scalar("price", .double),
        .scalar("stock", .int64, nullable: true),
        .scalar("organic", .bool, defaultValue: false),
        .array("tags", of: .string, maxCapacity: 4),
        .scalar("info", .json, nullable: true),
    ], enableDynamicField: true)
    try await client.createCollection("fruit", schema: schema)
    try await client.insert("fruit", [
        ["id": 1, "vector": .vector([1, 0]), "name": "apple", "price": 1.5, "stock": 10, "tags": ["red", "sweet"],
         "info": ["origin": "NZ"], "color": "red"],
        ["id": 2, "vector": .vector([0, 1]), "name": "banana", "price": 0.5, "stock": nil, "organic": true,
         "tags": ["yellow"], "color": "yellow"],
        ["id": 3, "vector": .vector([1, 1]), "name": "cherry", "price": 4.0, "stock": 3, "tags": ["red"]],
        ["id": 4, "vector": .vector([-1, 0]), "name": "date", "price": 3.0, "stock": 0, "tags": []],
    ])
}

@Suite struct CRUDTests {
    @Test func insertThenGetReturnsFieldsDefaultsAndDynamicKeys() async throws {
        let dir = TemporaryDirectory()
        let client = try LoupeClient(path: dir.path)
        try await makeFruitCollection(client)
        let rows = try await client.get("fruit", ids: [2, 1, 99])
        #expect(rows.count == 2)
        #expect(rows[0]["name"] == "banana")
        #expect(rows[0]["stock"] == .null)
        #expect(rows[0]["organic"] == true)
        #expect(rows[1]["organic"] == false)
        #expect(rows[1]["color"] == "red")
        #expect(rows[1]["info"] == ["origin": "NZ"])
        #expect(rows[1]["vector"] == nil, "vectors come back only when named")
        let withVector = try await client.get("fruit", ids: [3], outputFields: ["vector", "name"])
        #expect(withVector[0]["vector"] == .vector([1, 1]))
        #expect(withVector[0]["price"] == nil)
    }

    @Test func queryFiltersLimitsOffsetsAndCounts() async throws {
        let dir = TemporaryDirectory()
        let client = try LoupeClient(path: dir.path)
        try await makeFruitCollection(client)
        let red = try await client.query("fruit", filter: "array_contains(tags, 'red')", outputFields: ["name"])
        #expect(red.map { $0["name"] } == ["apple", "cherry"])
        let page = try await client.query("fruit", filter: "price > 0", outputFields: ["id"], limit: 2, offset: 1)
        #expect(page.map { $0["id"] } == [2, 3])
        let count = try await client.query("fruit", filter: "stock is null or stock < 5", outputFields: ["count(*)"])
        #expect(count == [["count(*)": 3]])
        let dynamic = try await client.query("fruit", filter: "color == 'yellow'", outputFields: ["name", "color"])
        #expect(dynamic == [["id": 2, "name": "banana", "color": "yellow"]])
        let json = try await client.query("fruit", filter: "info['origin'] == 'NZ'", outputFields: ["name"])
        #expect(json.map { $0["name"] } == ["apple"])
    }

    @Test func upsertReplacesAndDeleteRemoves() async throws {
        let dir = TemporaryDirectory()
        let client = try LoupeClient(path: dir.path)
        try await makeFruitCollection(client)
        try await client.upsert("fruit", [["id": 1, "vector": .vector([0, 1]), "name": "apple2", "price": 2.0, "tags": []],
                                          ["id": 5, "vector": .vector([1, 0]), "name": "elder", "price": 9.0, "tags": []]])
        #expect(try await client.get("fruit", ids: [1])[0]["name"] == "apple2")
        #expect(try await client.query("fruit", outputFields: ["count(*)"]) == [["count(*)": 5]])
        let byID = try await client.delete("fruit", ids: [2, 42])
        #expect(byID.count == 1)
        let byFilter = try await client.delete("fruit", filter: "price >= 4")
        #expect(Set(byFilter.ids) == [3, 5])
        #expect(try await client.query("fruit", outputFields: ["id"]).map { $0["id"] } == [4, 1])
        let hits = try await client.search("fruit", vectors: [[0, 1]], options: SearchOptions(limit: 10))
        #expect(hits[0].map(\.id) == [1, 4], "deleted rows never come back from search")
    }

    @Test func badRowsAreRejectedNamingTheField() async throws {
        let dir = TemporaryDirectory()
        let client = try LoupeClient(path: dir.path)
        try await makeFruitCollection(client)
        func expectError(_ row: Row, field: String, code: StoreError.Code = .invalidArgument) async {
            do {
                try await client.insert("fruit", [row])
                Issue.record("insert of \(row) succeeded")
            } catch let e as StoreError {
                #expect(e.code == code)
                #expect(e.field == field, "\(e)")
            } catch { Issue.record("\(error)") }
        }
        let ok: Row = ["id": 10, "vector": .vector([1, 0]), "name": "x", "price": 1.0, "tags": []]
        var r = ok; r["vector"] = .vector([1, 0, 0]); await expectError(r, field: "vector")
        r = ok; r["vector"] = nil; await expectError(r, field: "vector")
        r = ok; r["name"] = "a very long fruit name indeed"; await expectError(r, field: "name")
        r = ok; r["price"] = "cheap"; await expectError(r, field: "price")
        r = ok; r["price"] = nil; await expectError(r, field: "price")
        r = ok; r["tags"] = ["a", "b", "c", "d", "e"]; await expectError(r, field: "tags")
        r = ok; r["tags"] = [1]; await expectError(r, field: "tags")
        r = ok; r["vector"] = .vector([.nan, 0]); await expectError(r, field: "vector")
        do {
            try await client.insert("fruit", [["id": 1, "vector": .vector([1, 0]), "name": "dup", "price": 1.0, "tags": []]])
            Issue.record("duplicate key accepted")
        } catch let e as StoreError { #expect(e.code == .alreadyExists) }
        await #expect(throws: StoreError.self) { try await client.query("nope") }
        await #expect(throws: StoreError.self) { try await client.query("fruit", filter: "price >") }
        #expect(try await client.query("fruit", outputFields: ["count(*)"]) == [["count(*)": 4]], "failed inserts wrote nothing")
    }

    @Test func autoIDAndStringKeys() async throws {
        let dir = TemporaryDirectory()
        let client = try LoupeClient(path: dir.path)
        try await client.createCollection("auto", dimension: 2, index: .flat, autoID: true)
        let a = try await client.insert("auto", [["vector": .vector([1, 0])], ["vector": .vector([0, 1])]])
        let b = try await client.insert("auto", [["vector": .vector([1, 1])]])
        #expect(a.ids == [1, 2])
        #expect(b.ids == [3])
        await #expect(throws: StoreError.self) { try await client.insert("auto", [["id": 7, "vector": .vector([1, 0])]]) }
        let schema = CollectionSchema(fields: [.stringPrimary("key"), .vector("v", dimension: 2, index: .flat)])
        try await client.createCollection("docs", schema: schema)
        try await client.insert("docs", [["key": "a", "v": .vector([1, 0])], ["key": "b", "v": .vector([0, 1])]])
        #expect(try await client.get("docs", ids: ["b"]) == [["key": "b"]])
        await #expect(throws: StoreError.self) { try await client.insert("docs", [["key": "c", "v": .vector([1, 0]), "extra": 1]]) }
        await #expect(throws: StoreError.self) { try await client.query("docs", filter: "extra > 1") }
    }

    @Test func stringAutoIDsAreTheDecimalTextOfTheCounter() async throws {
        let dir = TemporaryDirectory()
        let client = try LoupeClient(path: dir.path)
        var key = FieldSchema.stringPrimary("key")
        key.autoID = true
        try await client.createCollection("s", schema: CollectionSchema(fields: [key, .vector("v", dimension: 2, index: .flat)]))
        let a = try await client.insert("s", [["v": .vector([1, 0])], ["v": .vector([0, 1])]])
        #expect(a.ids == ["1", "2"])
        // An upserted key that reads as a number is never handed out again.
        try await client.upsert("s", [["key": "7", "v": .vector([1, 1])]])
        let b = try await client.insert("s", [["v": .vector([1, 0])]])
        #expect(b.ids == ["8"])
        #expect(try await client.get("s", ids: ["2"]) == [["key": "2"]])
    }

    @Test func collectionsAreListedDescribedRenamedAndDropped() async throws {
        let dir = TemporaryDirectory()
        let client = try LoupeClient(path: dir.path)
        try await makeFruitCollection(client)
        try await client.createCollection("other", dimension: 3)
        #expect(await client.listCollections() == ["fruit", "other"])
        await #expect(throws: StoreError.self) { try await client.createCollection("other", dimension: 3) }
        await #expect(throws: StoreError.self) { try await client.createCollection("bad name", dimension: 3) }
        try await client.renameCollection("fruit", to: "produce")
        #expect(try await client.describeCollection("produce").schema.field("price")?.dataType == .double)
        #expect(try await client.stats("produce").rowCount == 4)
        try await client.dropCollection("other")
        #expect(await client.listCollections() == ["produce"])
        try await client.close()
        let reopened = try LoupeClient(path: dir.path)
        #expect(await reopened.listCollections() == ["produce"])
        #expect(try await reopened.query("produce", filter: "name == 'cherry'", outputFields: ["price"]) == [["id": 3, "price": 4.0]])
    }

    @Test func partitionsScopeInsertsQueriesAndSearches() async throws {
        let dir = TemporaryDirectory()
        let client = try LoupeClient(path: dir.path)
        try await client.createCollection("p", dimension: 2, index: .flat)
        try await client.createPartition("p", partition: "cats")
        try await client.insert("p", [["id": 1, "vector": .vector([1, 0])]])
        try await client.insert("p", [["id": 2, "vector": .vector([1, 0.1])]], partition: "cats")
        await #expect(throws: StoreError.self) { try await client.insert("p", [["id": 3, "vector": .vector([1, 0])]], partition: "dogs") }
        #expect(try await client.listPartitions("p") == ["_default", "cats"])
        let hits = try await client.search("p", vectors: [[1, 0]], options: SearchOptions(partitionNames: ["cats"]))
        #expect(hits[0].map(\.id) == [2])
        #expect(try await client.query("p", partitionNames: ["_default"]).map { $0["id"] } == [1])
        try await client.dropPartition("p", partition: "cats")
        #expect(try await client.query("p", outputFields: ["count(*)"]) == [["count(*)": 1]])
        await #expect(throws: StoreError.self) { try await client.dropPartition("p", partition: "_default") }
    }
}

@Suite struct AutoIDUpsertTests {
    @Test func upsertedIDsAreNotReassignedByAutoID() async throws {
        let dir = TemporaryDirectory()
        let client = try LoupeClient(path: dir.path)
        try await client.createCollection("a", dimension: 2, index: .flat, autoID: true)
        try await client.insert("a", [["vector": .vector([1, 0])]])
        try await client.upsert("a", [["id": 5, "vector": .vector([0, 1])]])
        let next = try await client.insert("a", [["vector": .vector([1, 1])]])
        #expect(next.ids == [6])
        try await client.close()
        let reopened = try LoupeClient(path: dir.path)
        #expect(try await reopened.insert("a", [["vector": .vector([1, 1])]]).ids == [7], "the counter survives a reopen")
    }
}
