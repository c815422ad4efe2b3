import Testing
@testable import LoupeStore

@Suite struct AliasTests {
    @Test func anAliasReachesItsCollectionForReadsAndWrites() async throws {
        let dir = TemporaryDirectory()
        let client = try LoupeClient(path: dir.path)
        try await makeFruitCollection(client)
        try await client.createAlias("live", collection: "fruit")
        try await client.createAlias("live", collection: "fruit")  // the same alias again: nothing to do

        #expect(await client.hasCollection("live"))
        #expect(await client.listCollections() == ["fruit"], "aliases are not collections")
        let description = try await client.describeCollection("live")
        #expect(description.name == "fruit")
        #expect(description.aliases == ["live"])
        try await client.insert("live", [["id": 5, "vector": .vector([0.5, 0.5]), "name": "elderberry", "price": 2.0,
                                          "tags": []]])
        #expect(try await client.get("fruit", ids: [5]).first?["name"] == "elderberry")
        let hits = try await client.search("live", vectors: [[1, 0]], options: SearchOptions(limit: 1))
        #expect(hits[0].map(\.id) == [1])
        #expect(try await client.describeAlias("live") == "fruit")
        #expect(try await client.listAliases(collection: "live") == ["live"])
    }

    @Test func namesAreSharedAndMisusesAreRefusedNamingTheAlias() async throws {
        let dir = TemporaryDirectory()
        let client = try LoupeClient(path: dir.path)
        try await makeFruitCollection(client)
        try await client.createCollection("veg", dimension: 2)
        try await client.createAlias("live", collection: "fruit")

        func code(_ body: () async throws -> Void) async -> StoreError? {
            do { try await body(); return nil } catch let error as StoreError { return error } catch { return nil }
        }
        let taken = await code { try await client.createAlias("live", collection: "veg") }
        #expect(taken?.code == .alreadyExists)
        #expect(taken?.alias == "live")
        #expect(taken?.description.contains("fruit") == true, "the error names the collection the alias has")
        #expect(await code { try await client.createAlias("veg", collection: "fruit") }?.code == .alreadyExists)
        let onAlias = await code { try await client.createAlias("other", collection: "live") }
        #expect(onAlias?.code == .notFound, "an alias names a collection, not another alias")
        #expect(onAlias?.description.contains("itself an alias") == true)
        #expect(await code { try await client.createAlias("other", collection: "nothing") }?.code == .notFound)
        #expect(await code { try await client.createAlias("1bad", collection: "fruit") }?.code == .invalidArgument)
        #expect(await code { try await client.createCollection("live", dimension: 2) }?.code == .alreadyExists)
        #expect(await code { try await client.renameCollection("veg", to: "live") }?.code == .alreadyExists)
        #expect(await code { try await client.dropCollection("live") }?.code == .invalidArgument)
        #expect(await code { try await client.renameCollection("live", to: "x") }?.code == .invalidArgument)
        #expect(try await client.dropAlias("nothing") == false, "dropping a missing alias does nothing, as in Milvus")
        let missing = await code { try await client.alterAlias("nothing", collection: "veg") }
        #expect(missing?.code == .notFound)
        #expect(missing?.alias == "nothing" && missing?.collection == nil)
        #expect(try await client.get("fruit", ids: [1]).count == 1, "refusals changed nothing")
    }

    @Test func aliasesMoveFollowRenamesDieWithTheirCollectionAndPersist() async throws {
        let dir = TemporaryDirectory()
        do {
            let client = try LoupeClient(path: dir.path)
            try await makeFruitCollection(client)
            try await client.createCollection("veg", dimension: 2)
            try await client.createAlias("live", collection: "fruit")
            try await client.createAlias("old", collection: "fruit")
            try await client.alterAlias("live", collection: "veg")
            #expect(try await client.describeAlias("live") == "veg")
            try await client.renameCollection("fruit", to: "produce")
            #expect(try await client.describeAlias("old") == "produce")
            #expect(try await client.listAliases() == ["live", "old"])
            try await client.close()
        }
        let reopened = try LoupeClient(path: dir.path)
        #expect(try await reopened.listAliases(collection: "produce") == ["old"])
        #expect(try await reopened.describeCollection("live").name == "veg")
        try await reopened.dropCollection("veg")
        #expect(await !reopened.hasCollection("live"))
        #expect(try await reopened.listAliases() == ["old"])
        #expect(try await reopened.dropAlias("old"))
        #expect(try await reopened.listAliases() == [])
        #expect(try await reopened.get("produce", ids: [1]).count == 1)
    }

    @Test func aReaderSeesTheWritersAliases() async throws {
        let dir = TemporaryDirectory()
        let writer = try LoupeClient(path: dir.path)
        try await makeFruitCollection(writer)
        var configuration = LoupeClient.Configuration()
        configuration.readOnly = true
        let reader = try LoupeClient(path: dir.path, configuration: configuration)
        #expect(try await reader.listAliases() == [])
        try await writer.createAlias("live", collection: "fruit")
        #expect(try await reader.describeCollection("live").name == "fruit")
        try await writer.dropAlias("live")
        #expect(await !reader.hasCollection("live"))
    }
}
