import Foundation
import LoupeFixtures
import LoupeTestSupport
import Testing
@testable import LoupeServer

/// Milvus 2.6 schema functions over Loupe's sourced vectors: a collection whose vector fields are
/// `TextEmbedding` and `LoupeImageEmbedding` outputs is created, filled without vectors, and searched
/// with text in `data`, all through `/v2/vectordb`.
@Suite("Milvus REST v2 functions", .stopsTestServers)
struct MilvusFunctionTests {
    @discardableResult
    func call(_ server: TestServer, _ path: String, _ body: Any) async throws -> [String: Any] {
        try await MilvusRESTTests.call(server, path, body)
    }

    static func schemaBody(_ name: String, dim: Int? = nil) -> [String: Any] {
        var vector: [String: Any] = ["fieldName": "image_vec", "dataType": "FloatVector"]
        if let dim { vector["elementTypeParams"] = ["dim": "\(dim)"] }
        return [
            "collectionName": name,
            "schema": [
                "autoID": true,
                "fields": [
                    ["fieldName": "id", "dataType": "Int64", "isPrimary": true],
                    ["fieldName": "image_uri", "dataType": "VarChar", "elementTypeParams": ["max_length": "2048"]],
                    ["fieldName": "caption", "dataType": "VarChar", "elementTypeParams": ["max_length": "512"]],
                    vector,
                    ["fieldName": "caption_vec", "dataType": "FloatVector", "elementTypeParams": ["dim": "64"]],
                ],
                "functions": [
                    ["name": "image_fn", "type": "LoupeImageEmbedding", "inputFieldNames": ["image_uri"],
                     "outputFieldNames": ["image_vec"], "params": ["provider": "clip"]],
                    ["name": "caption_fn", "type": "TextEmbedding", "inputFieldNames": ["caption"],
                     "outputFieldNames": ["caption_vec"], "params": [:] as [String: Any]],
                ],
            ] as [String: Any],
            "indexParams": [["fieldName": "image_vec", "metricType": "COSINE", "indexName": "image_vec", "params": ["index_type": "HNSW"]],
                            ["fieldName": "caption_vec", "metricType": "COSINE", "indexName": "caption_vec"]],
        ]
    }

    @Test("create with functions, insert without vectors, search with text in data: they round-trip")
    func roundTrip() async throws {
        let server = try await TestServer.start(index: false, perClass: 1, video: false) { $0.allowsTableFiles = true }
        #expect(try await call(server, "collections/create", Self.schemaBody("products"))["code"] as? Int == 0)
        // The same create again is accepted; one whose dimension is not the model's is refused.
        #expect(try await call(server, "collections/create", Self.schemaBody("products", dim: 64))["code"] as? Int == 0)
        let wrong = try await call(server, "collections/create", Self.schemaBody("other", dim: 512))
        #expect(wrong["code"] as? Int == 1100 && (wrong["message"] as? String)?.contains("512 dimensions") == true, "\(wrong)")

        let described = try await call(server, "collections/describe", ["collectionName": "products"])
        let functions = try #require((described["data"] as? [String: Any])?["functions"] as? [[String: Any]])
        #expect(Set(functions.compactMap { $0["type"] as? String }) == ["LoupeImageEmbedding", "TextEmbedding"], "\(functions)")
        #expect(functions.contains { ($0["inputFieldNames"] as? [String]) == ["image_uri"] && ($0["outputFieldNames"] as? [String]) == ["image_vec"] })

        let rows: [[String: Any]] = server.pictures.map { picture in
            ["image_uri": picture.url.path, "caption": "a \(picture.colour.rawValue) \(picture.shape.rawValue)"]
        }
        let inserted = try await call(server, "entities/insert", ["collectionName": "products", "data": rows])
        #expect((inserted["data"] as? [String: Any])?["insertCount"] as? Int == rows.count, "\(inserted)")

        let search = try await call(server, "entities/search", [
            "collectionName": "products", "annsField": "image_vec", "data": ["a red circle"], "limit": 2,
            "outputFields": ["image_uri", "caption"],
        ])
        let hits = try #require(search["data"] as? [[String: Any]], "\(search)")
        #expect(hits.count == 2 && (hits.first?["image_uri"] as? String)?.contains("red-circle") == true, "\(hits)")
        #expect(hits.first?["distance"] is Double)
        let byCaption = try await call(server, "entities/search", [
            "collectionName": "products", "annsField": "caption_vec", "data": ["a blue square"], "limit": 1,
            "outputFields": ["caption"], "filter": "caption like \"a blue%\"",
        ])
        #expect(((byCaption["data"] as? [[String: Any]])?.first?["caption"] as? String) == "a blue square", "\(byCaption)")

        // A row whose picture cannot be read fails the call with Milvus's bad-insert-data code, naming the row.
        let bad = try await call(server, "entities/insert", ["collectionName": "products", "data": [
            ["image_uri": server.pictures[0].url.path, "caption": "fine"],
            ["image_uri": server.root.appendingPathComponent("missing.png").path, "caption": "gone"],
        ]])
        #expect(bad["code"] as? Int == 1804 && (bad["message"] as? String)?.contains("row 1") == true, "\(bad)")
        let count = try await call(server, "collections/get_stats", ["collectionName": "products"])
        #expect((count["data"] as? [String: Any])?["rowCount"] as? Int == rows.count)
    }

    @Test("without --allow-table-files a path is refused, a function field without an embedder is refused, vectors still work")
    func refusals() async throws {
        let server = try await TestServer.start(index: false, perClass: 1, video: false)
        #expect(try await call(server, "collections/create", Self.schemaBody("products"))["code"] as? Int == 0)
        let refused = try await call(server, "entities/insert", ["collectionName": "products", "data": [
            ["image_uri": server.pictures[0].url.path, "caption": "a picture"],
        ]])
        #expect(refused["code"] as? Int == 1804 && (refused["message"] as? String)?.contains("cannot be read here") == true, "\(refused)")
        // base64 pictures are read.
        let data = try Data(contentsOf: server.pictures[0].url).base64EncodedString()
        let ok = try await call(server, "entities/insert", ["collectionName": "products", "data": [
            ["image_uri": "data:image/jpeg;base64," + data, "caption": "a picture"],
        ]])
        #expect(ok["code"] as? Int == 0, "\(ok)")
        var body = Self.schemaBody("remote", dim: 64)
        var schema = body["schema"] as! [String: Any]
        schema["functions"] = [["name": "f", "type": "TextEmbedding", "inputFieldNames": ["caption"], "outputFieldNames": ["caption_vec"],
                                "params": ["provider": "openai", "model_name": "text-embedding-3-small"]]]
        body["schema"] = schema
        let unknown = try await call(server, "collections/create", body)
        #expect(unknown["code"] as? Int == 1100 && (unknown["message"] as? String)?.contains("'openai'") == true, "\(unknown)")
        schema["functions"] = [["name": "b", "type": "BM25", "inputFieldNames": ["caption"], "outputFieldNames": ["caption_vec"]]]
        body["schema"] = schema
        let bm25 = try await call(server, "collections/create", body)
        #expect(bm25["code"] as? Int == 1100 && (bm25["message"] as? String)?.contains("SparseFloatVector") == true, "\(bm25)")
    }

    /// Milvus 2.5's full-text search example: a VARCHAR with an analyzer, a BM25 function whose output is a
    /// SparseFloatVector, and searches with text in `data` that name that output.
    static func fullTextBody(_ name: String, dense: Bool) -> [String: Any] {
        var fields: [[String: Any]] = [
            ["fieldName": "id", "dataType": "Int64", "isPrimary": true],
            ["fieldName": "text", "dataType": "VarChar", "elementTypeParams": ["max_length": 1000, "enable_analyzer": true]],
            ["fieldName": "sparse", "dataType": "SparseFloatVector"],
        ]
        var indexes: [[String: Any]] = [["fieldName": "sparse", "metricType": "BM25", "indexType": "SPARSE_INVERTED_INDEX",
                                         "params": ["inverted_index_algo": "DAAT_MAXSCORE"]]]
        if dense {
            fields.append(["fieldName": "dense", "dataType": "FloatVector", "elementTypeParams": ["dim": "2"]])
            indexes.append(["fieldName": "dense", "metricType": "COSINE", "indexType": "AUTOINDEX"])
        }
        return [
            "collectionName": name,
            "schema": ["autoID": false, "enableDynamicField": true, "fields": fields,
                       "functions": [["name": "text_bm25_emb", "type": "BM25", "inputFieldNames": ["text"],
                                      "outputFieldNames": ["sparse"], "params": [:] as [String: Any]]]] as [String: Any],
            "indexParams": indexes,
        ]
    }

    static let documents = [
        "information retrieval is a field of study",
        "information retrieval focuses on finding relevant information in large datasets",
        "data mining and information retrieval overlap in research",
        "a recipe for lemon cake",
    ]

    @Test("BM25 functions: full-text search by the sparse output's name, describe, filters, offset, hybrid with a dense leg")
    func fullTextSearch() async throws {
        let server = try await TestServer.start(index: false, perClass: 1, video: false)
        let created = try await call(server, "collections/create", Self.fullTextBody("docs", dense: false))
        #expect(created["code"] as? Int == 0, "\(created)")
        let rows: [[String: Any]] = Self.documents.enumerated().map { ["id": $0.offset + 1, "text": $0.element, "n": $0.offset] }
        let inserted = try await call(server, "entities/insert", ["collectionName": "docs", "data": rows])
        #expect(inserted["code"] as? Int == 0, "\(inserted)")

        let found = try await call(server, "entities/search", [
            "collectionName": "docs", "data": ["data mining research"], "annsField": "sparse", "limit": 3,
            "outputFields": ["text"], "searchParams": ["metricType": "BM25", "params": ["drop_ratio_search": 0.2]],
        ])
        let hits = found["data"] as? [[String: Any]] ?? []
        #expect(hits.first?["id"] as? Int == 3 && hits.first?["text"] as? String == Self.documents[2], "\(found)")
        #expect(hits.count == 1, "only the document with those words matches: \(found)")
        #expect((hits.first?["distance"] as? Double ?? 0) > 0, "the distance is the BM25 score: \(found)")

        // Several texts, a filter, an offset; the only searchable field needs no annsField.
        let several = try await call(server, "entities/search", [
            "collectionName": "docs", "data": ["information retrieval", "lemon cake"], "limit": 2, "offset": 1,
            "filter": "n >= 1", "outputFields": ["n"],
        ])
        #expect(several["topks"] as? [Int] == [1, 0], "\(several)")
        let ranked = several["data"] as? [[String: Any]] ?? []
        #expect(ranked.count == 1 && [2, 3].contains(ranked.first?["id"] as? Int ?? 0), "\(several)")

        let described = try await call(server, "collections/describe", ["collectionName": "docs"])
        let data = described["data"] as? [String: Any] ?? [:]
        let fields = data["fields"] as? [[String: Any]] ?? []
        #expect(fields.map { $0["name"] as? String } == ["id", "text", "sparse"], "\(described)")
        #expect(fields.last?["type"] as? String == "SparseFloatVector")
        let functions = data["functions"] as? [[String: Any]] ?? []
        #expect(functions.first?["type"] as? String == "BM25" && functions.first?["name"] as? String == "text_bm25_emb", "\(functions)")
        #expect((data["indexes"] as? [[String: Any]])?.first?["metricType"] as? String == "BM25")

        let supplied = try await call(server, "entities/insert", ["collectionName": "docs", "data": [
            ["id": 9, "text": "more", "sparse": ["1": 0.5]],
        ]])
        #expect(supplied["code"] as? Int == 1804 && (supplied["message"] as? String)?.contains("BM25") == true, "\(supplied)")
        let vectors = try await call(server, "entities/search", ["collectionName": "docs", "data": [[0.1, 0.2]], "annsField": "sparse"])
        #expect(vectors["code"] as? Int == 1801, "a BM25 output is searched with texts: \(vectors)")
        let metric = try await call(server, "entities/search", [
            "collectionName": "docs", "data": ["x"], "annsField": "sparse", "searchParams": ["metricType": "IP"],
        ])
        #expect(metric["code"] as? Int == 1100, "\(metric)")

        // Hybrid: a dense leg and a BM25 leg, fused by RRF.
        #expect(try await call(server, "collections/create", Self.fullTextBody("mixed", dense: true))["code"] as? Int == 0)
        let dense: [[Double]] = [[1, 0], [0.9, 0.1], [0, 1], [-1, 0]]
        let mixedRows: [[String: Any]] = Self.documents.enumerated().map {
            ["id": $0.offset + 1, "text": $0.element, "dense": dense[$0.offset]]
        }
        #expect(try await call(server, "entities/insert", ["collectionName": "mixed", "data": mixedRows])["code"] as? Int == 0)
        let fused = try await call(server, "entities/hybrid_search", [
            "collectionName": "mixed", "limit": 2, "outputFields": ["text"],
            "search": [["data": [[0, 1]], "annsField": "dense", "limit": 2],
                       ["data": ["data mining"], "annsField": "sparse", "limit": 2, "metricType": "BM25"]],
            "rerank": ["strategy": "rrf", "params": ["k": 60]],
        ])
        #expect((fused["data"] as? [[String: Any]])?.first?["id"] as? Int == 3,
                "document 3 leads both legs, so it leads the fusion: \(fused)")
    }
}

/// `/api/tables`: Loupe's JSON face of the same tables.
@Suite("Tables in the JSON API", .stopsTestServers, .stopsProviderStandIns)
struct TableAPITests {
    @Test("a table whose vectors name jina:MODEL connects Jina on first use, with the provider environment's key")
    func remoteEmbedderTable() async throws {
        let standIn = ProviderStandIn { request, _ in JinaStandIn.reply(request) }
        let base = try await standIn.start().absoluteString
        let key = "jina-server-secret-3"
        let server = try await TestServer.start(index: false, perClass: 1, video: false) {
            $0.allowsTableFiles = true
            $0.providerEnvironment = ["JINA_BASE_URL": base, "JINA_API_KEY": key]
        }
        let (created, table) = try await server.json(.POST, "/api/tables", [
            "name": "jina_items", "fields": ["image_uri:string", "label:string"],
            "vectors": ["image_vec:image_uri:image:jina:jina-clip-v2"],
        ])
        #expect(created == 201, "\(table)")
        let fields = try #require(table["fields"] as? [[String: Any]])
        let vector = try #require(fields.first { $0["name"] as? String == "image_vec" })
        #expect(vector["dimension"] as? Int == ShapeFeatureEmbedding.dimension, "the stand-in's dimension, not CLIP's: \(vector)")

        let rows: [[String: Any]] = server.pictures.map { ["image_uri": $0.url.path, "label": $0.colour.rawValue] }
        let (status, inserted) = try await server.json(.POST, "/api/tables/jina_items/insert", ["rows": rows])
        #expect(status == 200 && inserted["count"] as? Int == rows.count, "\(inserted)")
        let (_, found) = try await server.json(.POST, "/api/tables/jina_items/search", ["query": "a red circle", "k": 1])
        let results = try #require(found["results"] as? [[String: Any]])
        #expect(results.first?["label"] as? String == "red", "\(results)")
        #expect(!standIn.requests.isEmpty && standIn.requests.allSatisfy { $0.header("authorization") == "Bearer " + key })
        let answers = [table, inserted, found].map { "\($0)" }.joined()
        #expect(!answers.contains(key), "the key was echoed")
    }

    @Test("without the provider's key, a table naming it is refused, naming the variable to set")
    func remoteEmbedderWithoutKey() async throws {
        let server = try await TestServer.start(index: false, perClass: 1, video: false) { $0.providerEnvironment = [:] }
        let (status, body) = try await server.json(.POST, "/api/tables", [
            "name": "jina_items", "fields": ["image_uri:string"], "vectors": ["image_vec:image_uri:image:jina:jina-clip-v2"],
        ])
        #expect(status >= 400 && status < 600, "\(body)")
        let message = ((body["error"] as? [String: Any])?["message"] as? String) ?? ""
        #expect(message.contains("JINA_API_KEY"), "\(body)")
        let (_, listed) = try await server.json(.GET, "/api/tables", nil)
        #expect((listed["tables"] as? [String])?.isEmpty == true, "nothing was created: \(listed)")
    }

    @Test("create, insert (base64 and paths), search with _score, describe, list, a bad row, drop")
    func tableLifecycle() async throws {
        let server = try await TestServer.start(index: false, perClass: 1, video: false) { $0.allowsTableFiles = true }
        let (created, table) = try await server.json(.POST, "/api/tables", [
            "name": "image_items", "fields": ["image_uri:string", "label:string?"], "vectors": ["image_vec:image_uri"],
        ])
        #expect(created == 201, "\(table)")
        let fields = try #require(table["fields"] as? [[String: Any]])
        let vector = try #require(fields.first { $0["name"] as? String == "image_vec" })
        #expect((vector["source"] as? [String: Any])?["field"] as? String == "image_uri" && vector["dimension"] as? Int == 64, "\(vector)")

        var rows: [[String: Any]] = []
        for (index, picture) in server.pictures.enumerated() {
            let uri = index % 2 == 0 ? picture.url.path : "data:image/x;base64," + (try Data(contentsOf: picture.url)).base64EncodedString()
            rows.append(["image_uri": uri, "label": picture.colour.rawValue])
        }
        let (status, inserted) = try await server.json(.POST, "/api/tables/image_items/insert", ["rows": rows])
        #expect(status == 200 && inserted["count"] as? Int == rows.count, "\(inserted)")

        let (_, found) = try await server.json(.POST, "/api/tables/image_items/search", ["query": "a red circle", "k": 2])
        let results = try #require(found["results"] as? [[String: Any]])
        #expect(found["kind"] as? String == "text")
        #expect(results.first?["label"] as? String == "red" && results.first?["_score"] is Double && results.first?["id"] is Int, "\(results)")
        let (_, filtered) = try await server.json(.POST, "/api/tables/image_items/search", [
            "query": server.pictures[0].url.path, "k": 3, "filter": "label == \"blue\"", "output_fields": ["label"],
        ])
        #expect(filtered["kind"] as? String == "image_path")
        #expect((filtered["results"] as? [[String: Any]])?.allSatisfy { $0["label"] as? String == "blue" } == true, "\(filtered)")

        let (badStatus, bad) = try await server.json(.POST, "/api/tables/image_items/insert", ["rows": [
            ["image_uri": server.root.appendingPathComponent("nope.png").path],
        ]])
        let error = try #require(bad["error"] as? [String: Any])
        #expect(badStatus == 400 && error["code"] as? String == "unreadable_source", "\(bad)")
        #expect((error["message"] as? String)?.contains("row 0, field image_vec") == true, "\(error)")

        let (_, described) = try await server.json(.GET, "/api/tables/image_items", nil)
        #expect(described["rows"] as? Int == rows.count)
        let (_, listed) = try await server.json(.GET, "/api/tables", nil)
        #expect(listed["tables"] as? [String] == ["image_items"], "the library's own collection is not a table: \(listed)")
        let (libraryStatus, _) = try await server.json(.DELETE, "/api/tables/media", nil)
        #expect(libraryStatus == 403)
        let (dropped, _) = try await server.json(.DELETE, "/api/tables/image_items", nil)
        #expect(dropped == 200)
    }
}
