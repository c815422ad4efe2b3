import Foundation
import Testing
@testable import LoupeServer

/// Milvus REST v2 compatibility: a real `loupe serve` on a loopback port, driven with the request bodies
/// of Milvus's "RESTful API v2" reference.
///
/// Bodies come from milvus.io/api-reference/restful/v2.4.x (the `v2/Collection (v2)` and `v2/Vector (v2)`
/// pages: quick setup `test_collection`/`custom_quick_setup`, `custom_setup_indexed`, the ten-row
/// `quick_setup` insert, its search and query examples) and v2.5.x where that version added fields
/// (`groupSize`, top-level `offset` in hybrid search). Response shapes and codes were checked against
/// Milvus's own handler (`internal/distributed/proxy/httpserver/handler_v2.go`, 2.4/2.5 branches) and
/// its error table (`pkg/util/merr/errors.go`): 100 collection not found, 800 database not found,
/// 1100 invalid parameter, 1801 not JSON / wrong JSON type, 1802 missing required parameter,
/// 1804 bad insert data, 1800 not authenticated — all with HTTP 200.
@Suite("Milvus REST v2", .stopsTestServers)
struct MilvusRESTTests {
    /// The ten rows of the reference's Insert example (5-dimensional vectors, a `color` dynamic key).
    static let vectors: [[Double]] = [
        [0.3580376395471989, -0.6023495712049978, 0.18414012509913835, -0.26286205330961354, 0.9029438446296592],
        [0.19886812562848388, 0.06023560599112088, 0.6976963061752597, 0.2614474506242501, 0.838729485096104],
        [0.43742130801983836, -0.5597502546264526, 0.6457887650909682, 0.7894058910881185, 0.20785793220625592],
        [0.3172005263489739, 0.9719044792798428, -0.36981146090600725, -0.4860894583077995, 0.95791889146345],
        [0.4452349528804562, -0.8757026943054742, 0.8220779437047674, 0.46406290649483184, 0.30337481143159106],
        [0.985825131989184, -0.8144651566660419, 0.6299267002202009, 0.1206906911183383, -0.1446277761879955],
        [0.8371977790571115, -0.015764369584852833, -0.31062937026679327, -0.562666951622192, -0.8984947637863987],
        [-0.33445148015177995, -0.2567135004164067, 0.8987539745369246, 0.9402995886420709, 0.5378064918413052],
        [0.39524717779832685, 0.4000257286739164, -0.5890507376891594, -0.8650502298996872, -0.6140360785406336],
        [0.5718280481994695, 0.24070317428066512, -0.3737913482606834, -0.06726932177492717, -0.6980531615588608],
    ]
    static let colors = ["pink_8682", "red_7025", "orange_6781", "pink_9298", "red_4794", "yellow_4222", "red_9392",
                         "grey_8510", "white_9381", "purple_4976"]
    static var quickSetupRows: [[String: Any]] {
        (0..<10).map { ["id": $0, "vector": vectors[$0], "color": colors[$0]] }
    }

    static func start(_ configure: @escaping (inout ServerConfiguration) -> Void = { _ in }) async throws -> TestServer {
        try await TestServer.start(index: false, perClass: 1, video: false, configure: configure)
    }

    /// POSTs a Milvus call and returns its JSON answer; every Milvus answer is HTTP 200.
    @discardableResult
    static func call(_ server: TestServer, _ path: String, _ body: Any, headers: [(String, String)] = [],
                     sourceLocation: SourceLocation = #_sourceLocation) async throws -> [String: Any]
    {
        let (status, object) = try await server.json(.POST, "/v2/vectordb/" + path, body, headers: headers)
        #expect(status == 200, "\(path) answered HTTP \(status)", sourceLocation: sourceLocation)
        return object
    }

    static func expectOK(_ answer: [String: Any], _ what: String, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(answer["code"] as? Int == 0, "\(what): \(answer)", sourceLocation: sourceLocation)
    }

    static func expectError(_ answer: [String: Any], code: Int, containing text: String = "", _ what: String,
                            sourceLocation: SourceLocation = #_sourceLocation)
    {
        #expect(answer["code"] as? Int == code, "\(what): \(answer)", sourceLocation: sourceLocation)
        let message = answer["message"] as? String ?? ""
        #expect(text.isEmpty || message.contains(text), "\(what): message \(message)", sourceLocation: sourceLocation)
        #expect(answer["data"] == nil, "\(what): an error carries no data", sourceLocation: sourceLocation)
    }

    static func rows(_ answer: [String: Any]) -> [[String: Any]] { answer["data"] as? [[String: Any]] ?? [] }
    static func ids(_ answer: [String: Any]) -> [Int] { rows(answer).compactMap { $0["id"] as? Int } }

    static func createQuickSetup(_ server: TestServer) async throws {
        expectOK(try await call(server, "collections/create", ["collectionName": "quick_setup", "dimension": 5]), "create")
        let inserted = try await call(server, "entities/insert", ["collectionName": "quick_setup", "data": quickSetupRows])
        expectOK(inserted, "insert")
    }

    // MARK: Collections

    @Test("quick setup: create, has, list, describe, get_stats, load/release, drop")
    func quickSetupLifecycle() async throws {
        let server = try await Self.start()
        let created = try await Self.call(server, "collections/create", ["collectionName": "test_collection", "dimension": 5])
        Self.expectOK(created, "quick create")
        #expect((created["data"] as? [String: Any])?.isEmpty == true)

        let has = try await Self.call(server, "collections/has", ["collectionName": "test_collection"])
        #expect((has["data"] as? [String: Any])?["has"] as? Bool == true)
        let hasNot = try await Self.call(server, "collections/has", ["collectionName": "nothing_here"])
        #expect((hasNot["data"] as? [String: Any])?["has"] as? Bool == false)
        let list = try await Self.call(server, "collections/list", [String: Any]())
        #expect((list["data"] as? [String])?.contains("test_collection") == true, "\(list)")

        let described = try await Self.call(server, "collections/describe", ["collectionName": "test_collection"])
        Self.expectOK(described, "describe")
        let data = described["data"] as? [String: Any] ?? [:]
        #expect(data["collectionName"] as? String == "test_collection")
        #expect(data["autoId"] as? Bool == false)
        #expect(data["enableDynamicField"] as? Bool == true, "the quick setup keeps undeclared keys")
        #expect(data["load"] as? String == "LoadStateLoaded")
        let fields = data["fields"] as? [[String: Any]] ?? []
        #expect(fields.map { $0["name"] as? String } == ["id", "vector"])
        #expect(fields.map { $0["type"] as? String } == ["Int64", "FloatVector"])
        #expect(fields.first?["primaryKey"] as? Bool == true)
        let params = fields.last?["params"] as? [[String: Any]] ?? []
        #expect(params.first?["key"] as? String == "dim" && params.first?["value"] as? String == "5", "\(params)")
        let indexes = data["indexes"] as? [[String: Any]] ?? []
        #expect(indexes.first?["fieldName"] as? String == "vector")
        #expect(indexes.first?["metricType"] as? String == "COSINE", "the quick setup's default metric")

        let stats = try await Self.call(server, "collections/get_stats", ["collectionName": "test_collection"])
        #expect((stats["data"] as? [String: Any])?["rowCount"] as? Int == 0)
        Self.expectOK(try await Self.call(server, "collections/load", ["collectionName": "test_collection"]), "load")
        Self.expectOK(try await Self.call(server, "collections/release", ["collectionName": "test_collection"]), "release")
        let state = try await Self.call(server, "collections/get_load_state", ["collectionName": "test_collection"])
        #expect((state["data"] as? [String: Any])?["loadState"] as? String == "LoadStateLoaded")

        // The reference's second quick setup: custom names, VarChar auto ids. Its `metric_type` is not a
        // key Milvus reads (Go matches `metricType` case-insensitively, not snake case), so COSINE stays.
        let custom: [String: Any] = [
            "collectionName": "custom_quick_setup", "dimension": 5, "primaryFieldName": "my_id", "idType": "VarChar",
            "vectorFieldName": "my_vector", "metric_type": "L2", "autoId": true, "params": ["max_length": "512"],
        ]
        Self.expectOK(try await Self.call(server, "collections/create", custom), "custom quick create")
        let customFields = try await Self.call(server, "collections/describe", ["collectionName": "custom_quick_setup"])
        let described2 = customFields["data"] as? [String: Any] ?? [:]
        #expect((described2["fields"] as? [[String: Any]])?.map { $0["type"] as? String } == ["VarChar", "FloatVector"])
        #expect(described2["autoId"] as? Bool == true)
        let autoInsert = try await Self.call(server, "entities/insert", [
            "collectionName": "custom_quick_setup", "data": [["my_vector": Self.vectors[0]], ["my_vector": Self.vectors[1]]],
        ])
        #expect((autoInsert["data"] as? [String: Any])?["insertIds"] as? [String] == ["1", "2"], "\(autoInsert)")

        Self.expectOK(try await Self.call(server, "collections/drop", ["collectionName": "test_collection"]), "drop")
        let gone = try await Self.call(server, "collections/has", ["collectionName": "test_collection"])
        #expect((gone["data"] as? [String: Any])?["has"] as? Bool == false)
        Self.expectOK(try await Self.call(server, "collections/drop", ["collectionName": "test_collection"]),
                      "dropping a missing collection succeeds, as in Milvus")
        Self.expectError(try await Self.call(server, "collections/get_stats", ["collectionName": "test_collection"]),
                         code: 100, containing: "collection not found", "stats of a dropped collection")
    }

    @Test("aliases: create, describe, list, reads and writes through one, alter, drop, and Milvus 2.3.5's codes")
    func aliases() async throws {
        let server = try await Self.start()
        try await Self.createQuickSetup(server)
        Self.expectOK(try await Self.call(server, "collections/create", ["collectionName": "rebuilt", "dimension": 5]), "create")
        Self.expectOK(try await Self.call(server, "aliases/create", ["collectionName": "quick_setup", "aliasName": "live"]),
                      "create alias")
        let described = try await Self.call(server, "aliases/describe", ["aliasName": "live"])
        let alias = described["data"] as? [String: Any] ?? [:]
        #expect(alias["aliasName"] as? String == "live" && alias["collectionName"] as? String == "quick_setup", "\(described)")
        #expect(try await Self.call(server, "aliases/list", ["collectionName": "quick_setup"])["data"] as? [String] == ["live"])
        let collection = try await Self.call(server, "collections/describe", ["collectionName": "live"])
        #expect((collection["data"] as? [String: Any])?["collectionName"] as? String == "quick_setup")
        #expect((collection["data"] as? [String: Any])?["aliases"] as? [String] == ["live"])

        let found = try await Self.call(server, "entities/search", ["collectionName": "live", "data": [Self.vectors[3]], "limit": 1])
        #expect(Self.ids(found) == [3], "\(found)")
        Self.expectOK(try await Self.call(server, "entities/insert", [
            "collectionName": "live", "data": [["id": 10, "vector": Self.vectors[0], "color": "new"]],
        ]), "insert through the alias")
        let stats = try await Self.call(server, "collections/get_stats", ["collectionName": "quick_setup"])
        #expect((stats["data"] as? [String: Any])?["rowCount"] as? Int == 11)

        Self.expectError(try await Self.call(server, "aliases/create", ["collectionName": "rebuilt", "aliasName": "live"]),
                         code: 1602, containing: "quick_setup", "an alias another collection has")
        Self.expectError(try await Self.call(server, "aliases/create", ["collectionName": "quick_setup", "aliasName": "rebuilt"]),
                         code: 1601, "an alias named as a collection")
        Self.expectError(try await Self.call(server, "aliases/create", ["collectionName": "nothing", "aliasName": "other"]),
                         code: 100, "an alias of a missing collection")
        Self.expectError(try await Self.call(server, "collections/drop", ["collectionName": "live"]),
                         code: 1100, containing: "via alias", "dropping by an alias")
        Self.expectError(try await Self.call(server, "aliases/describe", ["aliasName": "nothing"]),
                         code: 1600, containing: "alias not found", "describing a missing alias")
        Self.expectError(try await Self.call(server, "aliases/create", ["collectionName": "quick_setup"]),
                         code: 1802, "no alias name")

        Self.expectOK(try await Self.call(server, "aliases/alter", ["collectionName": "rebuilt", "aliasName": "live"]), "alter")
        let moved = try await Self.call(server, "collections/get_stats", ["collectionName": "live"])
        #expect((moved["data"] as? [String: Any])?["rowCount"] as? Int == 0, "the alias now reads the rebuilt collection")
        Self.expectOK(try await Self.call(server, "aliases/drop", ["aliasName": "live"]), "drop alias")
        Self.expectOK(try await Self.call(server, "aliases/drop", ["aliasName": "live"]), "dropping a missing alias succeeds")
        #expect(try await Self.call(server, "aliases/list", [String: Any]())["data"] as? [String] == [])
        #expect(try await Self.call(server, "collections/has", ["collectionName": "quick_setup"])["data"] as? [String: Bool]
                == ["has": true])
        await server.stop()
    }

    @Test("full schema with indexParams, Milvus type names, and refused types")
    func fullSchema() async throws {
        let server = try await Self.start()
        // The reference's custom_setup_indexed body (IVF_FLAT becomes HNSW; the STL_SORT scalar index is accepted).
        let indexed: [String: Any] = [
            "collectionName": "custom_setup_indexed",
            "schema": [
                "autoId": false, "enabledDynamicField": false,
                "fields": [
                    ["fieldName": "my_id", "dataType": "Int64", "isPrimary": true],
                    ["fieldName": "my_vector", "dataType": "FloatVector", "elementTypeParams": ["dim": "5"]],
                ],
            ],
            "indexParams": [
                ["fieldName": "my_vector", "metricType": "COSINE", "indexName": "my_vector",
                 "params": ["index_type": "IVF_FLAT", "nlist": "1024"]],
                ["fieldName": "my_id", "indexName": "my_id", "params": ["index_type": "STL_SORT"]],
            ],
        ]
        Self.expectOK(try await Self.call(server, "collections/create", indexed), "custom_setup_indexed")
        Self.expectOK(try await Self.call(server, "collections/create", indexed), "creating the same collection again")

        // Every scalar family, an array, and HNSW with M/efConstruction and L2.
        let full: [String: Any] = [
            "collectionName": "typed",
            "schema": [
                "autoID": true, "enableDynamicField": true,
                "fields": [
                    ["fieldName": "pk", "dataType": "Int64", "isPrimary": true],
                    ["fieldName": "embedding", "dataType": "FloatVector", "elementTypeParams": ["dim": 5]],
                    ["fieldName": "title", "dataType": "VarChar", "elementTypeParams": ["max_length": 64]],
                    ["fieldName": "year", "dataType": "Int32"],
                    ["fieldName": "rating", "dataType": "Float"],
                    ["fieldName": "public", "dataType": "Bool"],
                    ["fieldName": "meta", "dataType": "JSON"],
                    ["fieldName": "tags", "dataType": "Array", "elementDataType": "VarChar",
                     "elementTypeParams": ["max_capacity": 8, "max_length": 16]],
                ],
            ],
            "indexParams": [
                ["fieldName": "embedding", "metricType": "L2", "indexName": "embedding_index",
                 "params": ["index_type": "HNSW", "M": 8, "efConstruction": 64]],
            ],
        ]
        Self.expectOK(try await Self.call(server, "collections/create", full), "typed schema")
        let described = (try await Self.call(server, "collections/describe", ["collectionName": "typed"]))["data"]
            as? [String: Any] ?? [:]
        let fields = described["fields"] as? [[String: Any]] ?? []
        #expect(fields.map { $0["type"] as? String }
            == ["Int64", "FloatVector", "VarChar", "Int64", "Double", "Bool", "JSON", "Array"])
        #expect(fields.last?["elementType"] as? String == "VarChar")
        #expect(described["autoId"] as? Bool == true)
        #expect((described["indexes"] as? [[String: Any]])?.first?["metricType"] as? String == "L2")

        let inserted = try await Self.call(server, "entities/insert", ["collectionName": "typed", "data": [[
            "embedding": Self.vectors[0], "title": "Loupe", "year": 2024, "rating": 4.5, "public": true,
            "meta": ["lens": "macro"], "tags": ["a", "b"], "extra": "dynamic",
        ]]])
        #expect((inserted["data"] as? [String: Any])?["insertIds"] as? [Int] == [1], "\(inserted)")
        let got = try await Self.call(server, "entities/get", ["collectionName": "typed", "id": 1, "outputFields": ["*"]])
        let row = Self.rows(got).first ?? [:]
        #expect(row["title"] as? String == "Loupe")
        #expect(row["rating"] as? Double == 4.5)
        #expect((row["meta"] as? [String: Any])?["lens"] as? String == "macro")
        #expect(row["tags"] as? [String] == ["a", "b"])
        #expect(row["extra"] as? String == "dynamic")
        #expect((row["embedding"] as? [Double])?.first == 0.35803765, "float32 values go out at float32 precision")

        let different: [String: Any] = ["collectionName": "custom_setup_indexed", "dimension": 8]
        Self.expectError(try await Self.call(server, "collections/create", different), code: 1100,
                         containing: "duplicate collection", "same name, different schema")
        let binary: [String: Any] = ["collectionName": "bits", "schema": ["fields": [
            ["fieldName": "id", "dataType": "Int64", "isPrimary": true],
            ["fieldName": "v", "dataType": "BinaryVector", "elementTypeParams": ["dim": 64]],
        ]]]
        Self.expectError(try await Self.call(server, "collections/create", binary), code: 1100,
                         containing: "BinaryVector", "binary vectors are refused")
        let misspelt: [String: Any] = ["collectionName": "bad", "schema": ["fields": [
            ["fieldName": "id", "dataType": "int64", "isPrimary": true],
            ["fieldName": "v", "dataType": "FloatVector", "elementTypeParams": ["dim": 4]],
        ]]]
        Self.expectError(try await Self.call(server, "collections/create", misspelt), code: 1100,
                         containing: "case sensitive", "type names are case-sensitive as in Milvus")
        let unindexedField: [String: Any] = ["collectionName": "bad", "schema": ["fields": [
            ["fieldName": "id", "dataType": "Int64", "isPrimary": true],
            ["fieldName": "v", "dataType": "FloatVector", "elementTypeParams": ["dim": 4]],
        ]], "indexParams": [["fieldName": "w", "metricType": "L2"]]]
        Self.expectError(try await Self.call(server, "collections/create", unindexedField), code: 1802,
                         containing: "hasn't defined in schema", "an index on an undeclared field")
        Self.expectError(try await Self.call(server, "collections/create", ["collectionName": "nodim"]), code: 1100,
                         containing: "dimension", "quick setup without a dimension")
        Self.expectError(try await Self.call(server, "collections/create", ["collectionName": "m", "dimension": 4,
                                                                             "metricType": "HAMMING"]),
                         code: 1100, containing: "HAMMING", "metrics other than L2, IP and COSINE")
    }

    // MARK: Entities

    @Test("insert, get, query, upsert, delete with the reference's quick_setup rows")
    func entities() async throws {
        let server = try await Self.start()
        Self.expectOK(try await Self.call(server, "collections/create", ["collectionName": "quick_setup", "dimension": 5]),
                      "create")
        let inserted = try await Self.call(server, "entities/insert",
                                           ["collectionName": "quick_setup", "data": Self.quickSetupRows])
        let insertData = inserted["data"] as? [String: Any] ?? [:]
        #expect(insertData["insertCount"] as? Int == 10, "\(inserted)")
        #expect(insertData["insertIds"] as? [Int] == Array(0..<10))

        let got = try await Self.call(server, "entities/get",
                                      ["collectionName": "quick_setup", "id": [1, 2], "outputFields": ["color"]])
        #expect(Self.rows(got).map { $0["id"] as? Int } == [1, 2])
        #expect(Self.rows(got).map { $0["color"] as? String } == ["red_7025", "orange_6781"])
        #expect(Self.rows(got).first?["vector"] == nil, "only the asked output fields and the key")
        let single = try await Self.call(server, "entities/get", ["collectionName": "quick_setup", "id": 3])
        let full = Self.rows(single).first ?? [:]
        #expect(full["color"] as? String == "pink_9298")
        #expect((full["vector"] as? [Double])?.count == 5, "the default output field * includes vectors, as in Milvus")

        // The reference's Query example.
        let queried = try await Self.call(server, "entities/query", [
            "collectionName": "quick_setup", "filter": "color like \"red_%\"", "outputFields": ["color"], "limit": 3,
        ])
        Self.expectOK(queried, "query")
        #expect(Self.ids(queried) == [1, 4, 6])
        #expect(Self.rows(queried).map { $0["color"] as? String } == ["red_7025", "red_4794", "red_9392"])
        let paged = try await Self.call(server, "entities/query", [
            "collectionName": "quick_setup", "filter": "id >= 0", "outputFields": ["color"], "limit": 3, "offset": 4,
        ])
        #expect(Self.ids(paged) == [4, 5, 6])
        let templated = try await Self.call(server, "entities/query", [
            "collectionName": "quick_setup", "filter": "id in {ids}", "exprParams": ["ids": [7, 8]],
        ])
        #expect(Self.ids(templated) == [7, 8])
        let counted = try await Self.call(server, "entities/query", [
            "collectionName": "quick_setup", "filter": "", "outputFields": ["count(*)"],
        ])
        #expect(Self.rows(counted).first?["count(*)"] as? Int == 10, "\(counted)")

        let upserted = try await Self.call(server, "entities/upsert", ["collectionName": "quick_setup", "data": [
            ["id": 0, "vector": Self.vectors[0], "color": "black_0000"],
        ]])
        let upsertData = upserted["data"] as? [String: Any] ?? [:]
        #expect(upsertData["upsertCount"] as? Int == 1, "\(upserted)")
        #expect(upsertData["upsertIds"] as? [Int] == [0])
        let after = try await Self.call(server, "entities/get", ["collectionName": "quick_setup", "id": 0, "outputFields": ["color"]])
        #expect(Self.rows(after).first?["color"] as? String == "black_0000")

        let deleted = try await Self.call(server, "entities/delete",
                                          ["collectionName": "quick_setup", "filter": "id in [3, 5, 7]"])
        Self.expectOK(deleted, "delete by filter")
        #expect((deleted["data"] as? [String: Any])?["deleteCount"] as? Int == 3)
        let stats = try await Self.call(server, "collections/get_stats", ["collectionName": "quick_setup"])
        #expect((stats["data"] as? [String: Any])?["rowCount"] as? Int == 7)
        let byID = try await Self.call(server, "entities/delete", ["collectionName": "quick_setup", "id": [8]])
        #expect((byID["data"] as? [String: Any])?["deleteCount"] as? Int == 1)

        // Clients without 64-bit numbers ask for int64 values as strings.
        let asStrings = try await Self.call(server, "entities/insert", [
            "collectionName": "quick_setup", "data": [["id": 9007199254740993, "vector": Self.vectors[1]]],
        ], headers: [("Accept-Type-Allow-Int64", "false")])
        #expect((asStrings["data"] as? [String: Any])?["insertIds"] as? [String] == ["9007199254740993"], "\(asStrings)")
        let bigGet = try await Self.call(server, "entities/get", ["collectionName": "quick_setup", "id": "9007199254740993"],
                                         headers: [("Accept-Type-Allow-Int64", "false")])
        #expect(Self.rows(bigGet).first?["id"] as? String == "9007199254740993", "\(bigGet)")

        Self.expectError(try await Self.call(server, "entities/insert", ["collectionName": "quick_setup", "data": [
            ["id": 20, "vector": [1, 2, 3]],
        ]]), code: 1100, containing: "dimensions", "a vector of the wrong dimension")
        Self.expectError(try await Self.call(server, "entities/insert", ["collectionName": "quick_setup", "data": [
            ["id": "twenty", "vector": Self.vectors[0]],
        ]]), code: 1804, containing: "id", "a key of the wrong type")
        Self.expectError(try await Self.call(server, "entities/insert", ["collectionName": "quick_setup"]),
                         code: 1802, containing: "data", "insert without data")
        Self.expectError(try await Self.call(server, "entities/delete", ["collectionName": "quick_setup"]),
                         code: 1802, containing: "filter", "delete without a filter")
        Self.expectError(try await Self.call(server, "entities/query", ["collectionName": "quick_setup", "filter": "id >"]),
                         code: 1100, "a filter that does not parse")
    }

    // MARK: Search

    @Test("search: the reference example, several vectors, filter+offset, range, grouping, metric check")
    func search() async throws {
        let server = try await Self.start()
        try await Self.createQuickSetup(server)
        // The reference's Search example and its documented answer.
        let answer = try await Self.call(server, "entities/search", [
            "collectionName": "quick_setup", "data": [Self.vectors[0]], "annsField": "vector", "limit": 3,
            "outputFields": ["color"],
        ])
        Self.expectOK(answer, "search")
        #expect(Self.ids(answer) == [0, 1, 4])
        #expect(Self.rows(answer).map { $0["color"] as? String } == ["pink_8682", "red_7025", "red_4794"])
        let distances = Self.rows(answer).compactMap { $0["distance"] as? Double }
        for (got, documented) in zip(distances, [1, 0.6290165, 0.5975797]) {
            #expect(abs(got - documented) < 1e-5, "distance \(got), documented \(documented)")
        }

        let two = try await Self.call(server, "entities/search", [
            "collectionName": "quick_setup", "data": [Self.vectors[0], Self.vectors[9]], "limit": 2,
        ])
        #expect(Self.rows(two).count == 4, "one flat list for all query vectors, as Milvus answers")
        #expect(two["topks"] as? [Int] == [2, 2])
        #expect(Self.ids(two).prefix(2) == [0, 1] && Self.ids(two)[2] == 9)
        #expect(Self.rows(two).first?["color"] == nil, "no output fields unless asked")

        let filtered = try await Self.call(server, "entities/search", [
            "collectionName": "quick_setup", "data": [Self.vectors[0]], "filter": "color like \"red%\"", "limit": 2,
            "offset": 1, "searchParams": ["metricType": "COSINE", "params": ["ef": 64]],
        ])
        #expect(Self.ids(filtered) == [4, 6], "\(filtered)")

        let ranged = try await Self.call(server, "entities/search", [
            "collectionName": "quick_setup", "data": [Self.vectors[0]], "limit": 10,
            "searchParams": ["params": ["radius": 0.5, "range_filter": 1.0]],
        ])
        #expect(Set(Self.ids(ranged)) == [0, 1, 4], "COSINE range: 0.5 < similarity <= 1")

        Self.expectError(try await Self.call(server, "entities/search", [
            "collectionName": "quick_setup", "data": [Self.vectors[0]], "searchParams": ["metricType": "L2"],
        ]), code: 1100, containing: "metric type not match", "a metric other than the field's")
        Self.expectError(try await Self.call(server, "entities/search", [
            "collectionName": "quick_setup", "data": ["a red circle"],
        ]), code: 1801, "text queries (Loupe embeds text only on its own API)")
        Self.expectError(try await Self.call(server, "entities/search", ["collectionName": "quick_setup"]),
                         code: 1802, containing: "data", "search without data")

        // Grouping needs a declared scalar field (v2.5.x adds groupSize).
        let grouped: [String: Any] = [
            "collectionName": "grouped",
            "schema": ["fields": [
                ["fieldName": "id", "dataType": "Int64", "isPrimary": true],
                ["fieldName": "vector", "dataType": "FloatVector", "elementTypeParams": ["dim": "5"]],
                ["fieldName": "kind", "dataType": "VarChar", "elementTypeParams": ["max_length": "32"]],
            ]],
            "indexParams": [["fieldName": "vector", "metricType": "COSINE", "indexName": "vector",
                             "params": ["index_type": "HNSW", "M": "16", "efConstruction": "200"]]],
        ]
        Self.expectOK(try await Self.call(server, "collections/create", grouped), "grouped")
        let kinds = (0..<10).map { ["id": $0, "vector": Self.vectors[$0], "kind": String(Self.colors[$0].split(separator: "_")[0])] }
        Self.expectOK(try await Self.call(server, "entities/insert", ["collectionName": "grouped", "data": kinds]), "insert")
        let byKind = try await Self.call(server, "entities/search", [
            "collectionName": "grouped", "data": [Self.vectors[0]], "limit": 2, "groupingField": "kind", "groupSize": 2,
            "outputFields": ["kind"],
        ])
        let groups = Self.rows(byKind).compactMap { $0["kind"] as? String }
        #expect(Set(groups) == ["pink", "red"], "\(byKind)")
        #expect(Set(Self.ids(byKind)).isSuperset(of: [0, 1, 4]) && groups.count <= 4)
    }

    @Test("hybrid_search with rrf and weighted rerank")
    func hybridSearch() async throws {
        let server = try await Self.start()
        let schema: [String: Any] = [
            "collectionName": "multi",
            "schema": ["autoId": false, "enableDynamicField": true, "fields": [
                ["fieldName": "id", "dataType": "Int64", "isPrimary": true],
                ["fieldName": "text_vector", "dataType": "FloatVector", "elementTypeParams": ["dim": "5"]],
                ["fieldName": "image_vector", "dataType": "FloatVector", "elementTypeParams": ["dim": "5"]],
            ]],
            "indexParams": [
                ["fieldName": "text_vector", "metricType": "COSINE", "params": ["index_type": "HNSW"]],
                ["fieldName": "image_vector", "metricType": "COSINE", "params": ["index_type": "FLAT"]],
            ],
        ]
        Self.expectOK(try await Self.call(server, "collections/create", schema), "create")
        let data = (0..<10).map {
            ["id": $0, "text_vector": Self.vectors[$0], "image_vector": Self.vectors[9 - $0], "color": Self.colors[$0]]
        }
        Self.expectOK(try await Self.call(server, "entities/insert", ["collectionName": "multi", "data": data]), "insert")

        // Row 0 ranks first in both legs.
        func legs(limit: Int) -> [[String: Any]] {
            [["data": [Self.vectors[0]], "annsField": "text_vector", "limit": limit],
             ["data": [Self.vectors[9]], "annsField": "image_vector", "limit": limit, "filter": "id >= 0"]]
        }
        let rrf = try await Self.call(server, "entities/hybrid_search", [
            "collectionName": "multi", "search": legs(limit: 3), "rerank": ["strategy": "rrf", "params": ["k": 10]],
            "limit": 3, "outputFields": ["color"],
        ])
        Self.expectOK(rrf, "rrf")
        #expect(Self.ids(rrf).first == 0, "\(rrf)")
        #expect(Self.rows(rrf).count == 3)
        #expect(abs((Self.rows(rrf).first?["distance"] as? Double ?? 0) - 2.0 / 11) < 1e-5, "1/(k+1) from each leg")
        #expect(Self.rows(rrf).first?["color"] as? String == "pink_8682")

        let weighted = try await Self.call(server, "entities/hybrid_search", [
            "collectionName": "multi", "search": legs(limit: 5),
            "rerank": ["strategy": "weighted", "params": ["weights": [0.8, 0.2]]], "limit": 2,
        ])
        #expect(Self.ids(weighted).first == 0, "\(weighted)")
        // Both similarities are 1; arctan normalisation maps 1 to 0.75, and the weights sum to 1.
        #expect(abs((Self.rows(weighted).first?["distance"] as? Double ?? 0) - 0.75) < 1e-5, "\(weighted)")

        let offset = try await Self.call(server, "entities/hybrid_search", [
            "collectionName": "multi", "search": legs(limit: 5), "rerank": ["strategy": "rrf", "params": ["k": 60]],
            "limit": 2, "offset": 1,
        ])
        #expect(Self.ids(offset).count == 2 && !Self.ids(offset).contains(0), "\(offset)")

        Self.expectError(try await Self.call(server, "entities/hybrid_search", [
            "collectionName": "multi", "search": legs(limit: 3), "rerank": ["strategy": "max"],
        ]), code: 1100, containing: "rerank", "an unknown strategy")
        Self.expectError(try await Self.call(server, "entities/hybrid_search", [
            "collectionName": "multi", "search": legs(limit: 3),
        ]), code: 1802, containing: "rerank", "no rerank")
        Self.expectError(try await Self.call(server, "entities/hybrid_search", [
            "collectionName": "multi", "search": legs(limit: 3), "rerank": ["strategy": "weighted", "params": ["weights": [1]]],
        ]), code: 1100, "one weight for two searches")
    }

    // MARK: Errors and auth

    @Test("errors: unknown collection (100), bad JSON (1801), missing fields (1802), unknown database (800)")
    func errors() async throws {
        let server = try await Self.start()
        for path in ["collections/describe", "collections/get_stats", "collections/load", "collections/release",
                     "entities/query", "entities/get", "entities/delete"]
        {
            Self.expectError(try await Self.call(server, path, ["collectionName": "missing", "id": 1, "filter": "id > 0"]),
                             code: 100, containing: "collection not found[collection=missing]", path)
        }
        Self.expectError(try await Self.call(server, "entities/insert",
                                             ["collectionName": "missing", "data": [["id": 1]]]),
                         code: 100, "insert into a missing collection")
        Self.expectError(try await Self.call(server, "entities/search",
                                             ["collectionName": "missing", "data": [[0.1, 0.2]]]),
                         code: 100, "search a missing collection")

        for raw in ["{not json", "", "[1, 2]"] {
            let answer = try await server.send(.POST, "/v2/vectordb/collections/describe", body: Data(raw.utf8))
            #expect(answer.status == 200)
            let object = try JSONSerialization.jsonObject(with: answer.body) as? [String: Any] ?? [:]
            Self.expectError(object, code: 1801, containing: "json", "body '\(raw)'")
        }
        Self.expectError(try await Self.call(server, "collections/describe", ["collectionName": 7]),
                         code: 1801, "a collection name that is not a string")
        for path in ["collections/create", "collections/describe", "collections/has", "entities/query", "entities/search"] {
            Self.expectError(try await Self.call(server, path, ["dimension": 5]), code: 1802,
                             containing: "collectionName", "\(path) without collectionName")
        }
        Self.expectError(try await Self.call(server, "collections/list", ["dbName": "analytics"]),
                         code: 800, containing: "database not found", "a database other than default")
        Self.expectOK(try await Self.call(server, "collections/list", ["dbName": "default"]), "the default database")
    }

    @Test("auth: with a token, missing or wrong credentials answer code 1800; body limit answers 1102")
    func authentication() async throws {
        let server = try await Self.start { configuration in
            configuration.token = "root:Milvus"
            configuration.maxBodyBytes = 4096
        }
        let list = ["collectionName": "x"]
        Self.expectError(try await Self.call(server, "collections/has", list), code: 1800,
                         containing: "authenticated", "no Authorization header")
        Self.expectError(try await Self.call(server, "collections/has", list, headers: [("Authorization", "Bearer root:wrong")]),
                         code: 1800, "a wrong password")
        let ok = try await Self.call(server, "collections/has", list, headers: [("Authorization", "Bearer root:Milvus")])
        #expect((ok["data"] as? [String: Any])?["has"] as? Bool == false, "\(ok)")

        let big = ["collectionName": "x", "data": Array(repeating: Self.quickSetupRows[0], count: 40)] as [String: Any]
        Self.expectError(try await Self.call(server, "entities/insert", big, headers: [("Authorization", "Bearer root:Milvus")]),
                         code: 1102, containing: "too large", "a body over --max-body-bytes")
    }
}
