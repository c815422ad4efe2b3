import Foundation
import Testing
@testable import LoupeStore

@Suite struct VectorSourceTests {
    static func itemSchema(source: VectorSource = VectorSource(field: "image_uri")) -> CollectionSchema {
        CollectionSchema(fields: [.int64Primary("id", autoID: true), .scalar("image_uri", .string, maxLength: 2048),
                                  .scalar("rank", .int64, nullable: true),
                                  .vector("image_vec", dimension: 4, source: source)])
    }

    @Test("a source must name a VARCHAR field of the schema, on a vector field")
    func sourcesAreValidated() throws {
        func message(_ schema: CollectionSchema) -> String? {
            do { try schema.validate(collection: "c"); return nil } catch let e as StoreError {
                #expect(e.code == .invalidArgument && e.field == "image_vec", "\(e)")
                return e.message
            } catch { return "\(error)" }
        }
        try Self.itemSchema().validate(collection: "c")
        #expect(message(Self.itemSchema(source: VectorSource(field: "missing")))?.contains("'missing' is not in the schema") == true)
        #expect(message(Self.itemSchema(source: VectorSource(field: "rank")))?.contains("must be a VARCHAR") == true)
        #expect(message(Self.itemSchema(source: VectorSource(field: "image_uri", embedder: "")))?.contains("embedder name") == true)
        var scalar = FieldSchema.scalar("caption", .string)
        scalar.source = VectorSource(field: "image_uri")
        var schema = Self.itemSchema()
        schema.fields.append(scalar)
        #expect(throws: StoreError.self) { try schema.validate(collection: "c") }
    }

    @Test("the source is stored with the schema, survives reopening, and rows without it still need vectors")
    func sourceIsPersisted() async throws {
        let dir = TemporaryDirectory()
        do {
            let client = try LoupeClient(path: dir.path)
            try await client.createCollection("items", schema: Self.itemSchema(source: VectorSource(field: "image_uri", kind: .image)))
            // The store knows no models: a row written to it directly must carry its vector.
            await #expect(throws: StoreError.self) { try await client.insert("items", [["image_uri": "a.png"]]) }
            try await client.insert("items", [["image_uri": "a.png", "image_vec": .vector([1, 0, 0, 0])]])
            try await client.close()
        }
        let reopened = try LoupeClient(path: dir.path)
        let field = try #require(try await reopened.describeCollection("items").schema.field("image_vec"))
        #expect(field.source == VectorSource(field: "image_uri", kind: .image, embedder: "clip"))
        #expect(try await reopened.describeCollection("items").schema.sourcedVectorFields.map(\.name) == ["image_vec"])
        try await reopened.close()
    }

    @Test("a schema stored before sources existed decodes with no source")
    func oldSchemasDecode() throws {
        var old = try JSONSerialization.jsonObject(with: JSONEncoder().encode(CollectionSchema.quick(dimension: 4))) as! [String: Any]
        var fields = old["fields"] as! [[String: Any]]
        #expect(fields.allSatisfy { $0["source"] == nil }, "a field without a source writes no source key")
        fields = fields.map { $0.filter { $0.key != "source" } }
        old["fields"] = fields
        let decoded = try JSONDecoder().decode(CollectionSchema.self, from: JSONSerialization.data(withJSONObject: old))
        #expect(decoded.vectorFields.first?.source == nil)
    }
}
