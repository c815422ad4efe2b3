import LoupeMilvus
import LoupeStore
import Testing

/// The client against real servers: Milvus 2.3.5 (auth on) and milvus-lite, both started by
/// `scripts/milvus-test-server` around the suite. Each test uses its own collection.
@Suite(.timeLimit(.minutes(10)))
struct MilvusClientIntegrationTests {
    static let dimension = 8

    /// `id` int64 key, an 8-d vector, scalar fields of each kind, and the dynamic field.
    static let schema = CollectionSchema(fields: [
        .int64Primary("id"),
        .vector("vector", dimension: dimension),
        .scalar("path", .string, maxLength: 256),
        .scalar("width", .int64),
        .scalar("duration_s", .double),
        .scalar("is_video", .bool),
        .array("tags", of: .string, maxCapacity: 8),
    ], enableDynamicField: true)

    /// 100 rows from a seeded generator; even ids carry a dynamic `camera` key.
    static func rows() -> [Row] {
        var rng = SeededGenerator(seed: 12)
        return (1...100).map { i -> Row in
            var row: Row = [
                "id": .int(Int64(i)), "vector": .vector(rng.unitVector(dimension)), "path": .string("/pics/\(i).jpg"),
                "width": .int(Int64(i * 10)), "duration_s": .double(Double(i) / 4), "is_video": .bool(i % 10 == 0),
                "tags": .array(i % 3 == 0 ? ["three"] : []),
            ]
            if i % 2 == 0 { row["camera"] = .string("cam-\(i % 4)") }
            return row
        }
    }

    @Test("create, insert, flush, index, load, search, count, upsert, delete, drop", arguments: MilvusTestServer.Kind.allCases)
    func lifecycle(kind: MilvusTestServer.Kind) async throws {
        let server = try MilvusTestServer.running(kind)
        try await server.withClient { client in
            let name = "loupe_lifecycle_\(kind)"
            if try await client.hasCollection(name) { try await client.dropCollection(name) }

            try await client.createCollection(name, schema: Self.schema)
            #expect(try await client.hasCollection(name))
            let described = try await client.describeCollection(name)
            #expect(described.schema.enableDynamicField, "the dynamic field is on (\(server))")
            #expect(described.schema.field("path")?.dataType == .string)
            #expect(described.schema.field("vector")?.dimension == Self.dimension)
            #expect(described.schema.primaryField.name == "id")

            let rows = Self.rows()
            let inserted = try await client.insert(name, rows: rows)
            #expect(inserted.insertCount == 100)
            #expect(inserted.ids.count == 100)
            try await client.flush([name])

            try await client.createIndex(name, field: "vector", index: MilvusIndex(.hnsw(m: 16, efConstruction: 64)))
            let indexes = try await client.describeIndex(name, field: "vector")
            #expect(indexes.first?.type == "HNSW", "index described: \(indexes)")
            #expect(indexes.first?.metric == "COSINE", "index described: \(indexes)")
            try await client.loadCollection(name)
            #expect(try await client.loadState(name) == .loaded)

            // Row 60's own vector finds row 60 first, through a filter on a declared field.
            let query = rows[59]["vector"]!.vectorValue!
            var options = SearchOptions(limit: 3, filter: "width >= 500", outputFields: ["path", "width", "camera"])
            options.ef = 64
            let results = try await client.search(name, vectors: [query], options: options)
            #expect(results.count == 1)
            let top = try #require(results.first?.first, "no hits from \(server)")
            #expect(top.id == .int(60))
            #expect(abs(top.distance - 1) < 1e-4, "cosine of a vector with itself, got \(top.distance)")
            #expect(top.fields["path"] == "/pics/60.jpg")
            #expect(top.fields["camera"] == "cam-0", "dynamic keys come back by name: \(top.fields)")
            #expect(results[0].allSatisfy { ($0.fields["width"]?.intValue ?? 0) >= 500 }, "filter applied: \(results[0])")

            #expect(try await client.count(name) == 100)
            #expect(try await client.count(name, filter: "is_video == true") == 10)
            #expect(try await client.count(name, filter: "camera == \"cam-2\"") == 25, "filters reach dynamic keys")
            let videos = try await client.query(name, filter: "id in [10, 20]", outputFields: ["path", "tags"])
            #expect(Set(videos.compactMap { $0["path"]?.stringValue }) == ["/pics/10.jpg", "/pics/20.jpg"])

            var changed = rows[59]
            changed["path"] = "/pics/60-renamed.jpg"
            changed["camera"] = "cam-new"
            try await client.upsert(name, rows: [changed])
            let after = try await client.query(name, filter: "id == 60", outputFields: ["path", "camera"])
            #expect(after.count == 1)
            #expect(after.first?["path"] == "/pics/60-renamed.jpg")
            #expect(after.first?["camera"] == "cam-new")
            #expect(try await client.count(name) == 100, "upsert replaced the row")

            try await client.delete(name, filter: "id in [1, 2, 3]")
            #expect(try await client.count(name) == 97)
            #expect(try await client.query(name, filter: "id in [1, 2, 3]", outputFields: ["path"]).isEmpty)

            try await client.dropCollection(name)
            #expect(try await !client.hasCollection(name))
        }
    }

    @Test("a wrong password is refused with an authentication error")
    func wrongPassword() async throws {
        let server = try MilvusTestServer.running(.milvus)
        try await server.withClient(credentials: .userPassword(user: "root", password: "not-the-password")) { client in
            let error = try await #require(throws: MilvusError.self) { try await client.hasCollection("anything") }
            #expect(error.code == .authentication, "got \(error)")
            #expect(!error.description.contains("not-the-password"), "the secret is not in the message: \(error)")
        }
    }

    @Test("a wrong token is refused with an authentication error")
    func wrongToken() async throws {
        let server = try MilvusTestServer.running(.milvus)
        try await server.withClient(credentials: .token("root:wrong-token")) { client in
            let error = try await #require(throws: MilvusError.self) { try await client.connect() }
            #expect(error.code == .authentication, "got \(error)")
            #expect(!error.description.contains("wrong-token"))
        }
    }

    @Test("milvus-lite ignores credentials (unlike Milvus)")
    func liteIgnoresCredentials() async throws {
        let server = try MilvusTestServer.running(.lite)
        try await server.withClient(credentials: .userPassword(user: "root", password: "not-the-password")) { client in
            _ = try await client.hasCollection("anything")
        }
    }

    @Test("the server's version is read", arguments: MilvusTestServer.Kind.allCases)
    func version(kind: MilvusTestServer.Kind) async throws {
        let server = try MilvusTestServer.running(kind)
        try await server.withClient { client in
            let version = try await client.connect()
            if kind == .milvus { #expect(version == ServerVersion(major: 2, minor: 3, patch: 5), "got \(version.text)") }
            #expect(!version.text.isEmpty)
        }
    }

    @Test("features newer than Milvus 2.3 are refused naming the version they need")
    func featuresBeyondTheServer() async throws {
        let server = try MilvusTestServer.running(.milvus)
        try await server.withClient { client in
            let hybrid = try await #require(throws: MilvusError.self) {
                try await client.hybridSearch("anything", requests: [AnnSearchRequest(vectors: [[1, 0]], field: "vector")])
            }
            #expect(hybrid.code == .unsupportedFeature)
            #expect(hybrid.requiredVersion == "2.4.0")
            #expect(hybrid.description.contains("hybrid search") && hybrid.description.contains("2.3.5"), "\(hybrid)")
            var options = SearchOptions(limit: 2)
            options.groupByField = "path"
            let grouped = try await #require(throws: MilvusError.self) {
                try await client.search("anything", vectors: [[1, 0]], options: options)
            }
            #expect(grouped.code == .unsupportedFeature)
            #expect(grouped.description.contains("group-by"), "\(grouped)")
        }
    }

    @Test("a missing collection is a not-found error naming it", arguments: MilvusTestServer.Kind.allCases)
    func missingCollection(kind: MilvusTestServer.Kind) async throws {
        let server = try MilvusTestServer.running(kind)
        try await server.withClient { client in
            let error = try await #require(throws: MilvusError.self) {
                try await client.describeCollection("loupe_no_such_collection")
            }
            #expect(error.code == .notFound, "got \(error)")
            #expect(error.description.contains("loupe_no_such_collection"))
        }
    }

    @Test("rows that do not fit the schema are refused before sending, naming the field",
          arguments: MilvusTestServer.Kind.allCases)
    func badRows(kind: MilvusTestServer.Kind) async throws {
        let server = try MilvusTestServer.running(kind)
        try await server.withClient { client in
            let name = "loupe_bad_rows_\(kind)"
            if try await client.hasCollection(name) { try await client.dropCollection(name) }
            try await client.createCollection(name, schema: Self.schema)
            var row = Self.rows()[0]
            row["vector"] = .vector([1, 2, 3])
            let error = try await #require(throws: MilvusError.self) { try await client.insert(name, rows: [row]) }
            #expect(error.code == .invalidArgument)
            #expect(error.field == "vector", "got \(error)")
            try await client.dropCollection(name)
        }
    }

    @Test("milvus-lite answers hybrid search and group-by, which Milvus 2.3 lacks")
    func hybridAndGroupByOnLite() async throws {
        let server = try MilvusTestServer.running(.lite)
        try await server.withClient { client in
            let name = "loupe_hybrid_lite"
            if try await client.hasCollection(name) { try await client.dropCollection(name) }
            let schema = CollectionSchema(fields: [
                .int64Primary("id"), .vector("image", dimension: 4), .vector("text", dimension: 4),
                .scalar("video", .int64),
            ])
            try await client.createCollection(name, schema: schema)
            var rng = SeededGenerator(seed: 7)
            let rows: [Row] = (1...20).map { i in
                ["id": .int(Int64(i)), "image": .vector(rng.unitVector(4)), "text": .vector(rng.unitVector(4)),
                 "video": .int(Int64(i % 5))]
            }
            try await client.insert(name, rows: rows)
            for field in ["image", "text"] {
                try await client.createIndex(name, field: field, index: MilvusIndex(.hnsw()))
            }
            try await client.loadCollection(name)
            let target = rows[6]
            let fused = try await client.hybridSearch(
                name,
                requests: [AnnSearchRequest(vectors: [target["image"]!.vectorValue!], field: "image", limit: 5),
                           AnnSearchRequest(vectors: [target["text"]!.vectorValue!], field: "text", limit: 5)],
                ranker: .rrf(), limit: 3, outputFields: ["video"])
            #expect(fused.first?.first?.id == .int(7), "the row matching both legs ranks first: \(fused)")
            #expect(fused.first?.count == 3)

            var options = SearchOptions(annsField: "image", limit: 3, outputFields: ["video"])
            options.groupByField = "video"
            let grouped = try await client.search(name, vectors: [target["image"]!.vectorValue!], options: options)
            let videos = grouped[0].compactMap { $0.fields["video"] }
            #expect(videos.count == 3 && Set(videos).count == 3, "one hit per video: \(grouped[0])")
            try await client.dropCollection(name)
        }
    }
}
