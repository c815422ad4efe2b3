import LoupeStore
import Testing

@testable import LoupeMilvus

/// Rows to Milvus columns and back, and statuses to errors, without a server.
struct FieldDataCodecTests {
    /// The server's view of a schema: LoupeStore's turned into Milvus's proto, with the ids and the
    /// `$meta` field a server adds.
    static func serverSchema(_ schema: CollectionSchema) throws -> MilvusCollectionSchema {
        var proto = try MilvusCollectionSchema.proto(for: schema, name: "t")
        for i in proto.fields.indices { proto.fields[i].fieldID = Int64(100 + i) }
        if schema.enableDynamicField {
            var meta = Milvus_Proto_Schema_FieldSchema()
            meta.name = "$meta"
            meta.dataType = .json
            meta.isDynamic = true
            meta.fieldID = 999
            proto.fields.append(meta)
        }
        return MilvusCollectionSchema(proto)
    }

    static let schema = CollectionSchema(fields: [
        .int64Primary("id"),
        .vector("vector", dimension: 2),
        .scalar("path", .string, maxLength: 8),
        .scalar("score", .double),
        .array("tags", of: .int64),
        .scalar("info", .json),
    ], enableDynamicField: true)

    @Test("rows survive the trip through columns, dynamic keys by name")
    func roundTrip() throws {
        let schema = try Self.serverSchema(Self.schema)
        let rows: [Row] = [
            ["id": 1, "vector": .vector([1, 0]), "path": "a", "score": 0.5, "tags": [1, 2], "info": ["k": "v"],
             "camera": "x"],
            ["id": 2, "vector": .vector([0, 1]), "path": "b", "score": 2, "tags": [], "info": ["n": 1]],
        ]
        let columns = try FieldDataCodec.columns(for: rows, schema: schema, operation: "Insert", collection: "t",
                                                 upsert: false)
        #expect(columns.map(\.fieldName) == ["id", "vector", "path", "score", "tags", "info", "$meta"])
        #expect(columns.last?.isDynamic == true)
        // Servers return columns in their own order: decoding goes by name.
        let back = try FieldDataCodec.rows(from: columns.reversed())
        #expect(back[0]["path"] == "a")
        #expect(back[0]["camera"] == "x")
        #expect(back[0]["vector"] == .vector([1, 0]))
        #expect(back[1]["score"] == .double(2))
        #expect(back[0]["tags"] == [1, 2])
        #expect(back[1]["camera"] == nil)
        #expect(back[0]["info"] == ["k": "v"])
        let picked = try FieldDataCodec.rows(from: columns, wanted: ["path"])
        #expect(picked[0]["camera"] == nil, "only asked-for dynamic keys are kept")
    }

    @Test("bad rows are refused naming the row and field")
    func badRows() throws {
        let schema = try Self.serverSchema(Self.schema)
        func error(_ row: Row) -> MilvusError? {
            do {
                _ = try FieldDataCodec.columns(for: [row], schema: schema, operation: "Insert", collection: "t",
                                               upsert: false)
                return nil
            } catch let e as MilvusError { return e } catch { return nil }
        }
        let good: Row = ["id": 1, "vector": .vector([1, 0]), "path": "a", "score": 1, "tags": [], "info": [:]]
        var r = good
        r["vector"] = .vector([1, 2, 3])
        #expect(error(r)?.field == "vector")
        r = good
        r["path"] = "much too long"
        #expect(error(r)?.message.contains("max length") == true)
        r = good
        r["score"] = nil
        #expect(error(r)?.field == "score")
        r = good
        r["tags"] = ["x"]
        #expect(error(r)?.field == "tags")

        let closed = try Self.serverSchema(CollectionSchema(fields: [.int64Primary("id", autoID: true),
                                                                      .vector("v", dimension: 2)]))
        #expect(throws: MilvusError.self) {
            try FieldDataCodec.columns(for: [["v": .vector([1, 0]), "extra": 1]], schema: closed, operation: "Insert",
                                       collection: "t", upsert: false)
        }
        #expect(throws: MilvusError.self, "auto ids are the server's") {
            try FieldDataCodec.columns(for: [["id": 5, "v": .vector([1, 0])]], schema: closed, operation: "Insert",
                                       collection: "t", upsert: false)
        }
    }

    @Test("nullable fields are refused for Milvus before 2.5")
    func nullable() {
        let schema = CollectionSchema(fields: [.int64Primary(), .vector(dimension: 2),
                                               .scalar("start_s", .double, nullable: true)])
        #expect(throws: MilvusError.self) { try MilvusCollectionSchema.proto(for: schema, name: "t") }
    }

    @Test("statuses map to error codes: the new code first, then the legacy one")
    func statuses() {
        func map(code: Int32 = 0, legacy: Milvus_Proto_Common_ErrorCode = .success, retriable: Bool = false)
            -> MilvusError?
        {
            var s = Milvus_Proto_Common_Status()
            s.code = code
            s.errorCode = legacy
            s.retriable = retriable
            s.reason = "because"
            return MilvusStatus.error(s, operation: "Search", collection: "c", server: "h:1")
        }
        #expect(map() == nil)
        #expect(map(code: 100)?.code == .notFound)
        #expect(map(code: 8 | 1 << 16)?.code == .rateLimited)
        #expect(map(code: 8 | 1 << 16)?.isRetriable == true)
        #expect(map(code: 1, retriable: true)?.code == .unavailable)
        #expect(map(code: 1)?.code == .server, "milvus-lite's plain 1 is not 'not ready'")
        #expect(map(code: 1)?.isRetriable == false)
        #expect(map(code: 1100)?.code == .invalidArgument)
        #expect(map(code: 1400)?.code == .authentication)
        #expect(map(legacy: .collectionNotExists)?.code == .notFound)
        #expect(map(legacy: .rateLimit)?.isRetriable == true)
        #expect(map(code: 101)?.description.contains("collection 'c'") == true)
    }
}
