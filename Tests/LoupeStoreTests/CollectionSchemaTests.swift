import Testing
@testable import LoupeStore

@Suite struct CollectionSchemaTests {
    func expectInvalid(_ schema: CollectionSchema, field: String?, _ comment: Comment) {
        do {
            try schema.validate(collection: "c")
            Issue.record(comment)
        } catch let e as StoreError {
            #expect(e.code == .invalidArgument, comment)
            #expect(e.field == field, "\(e)")
        } catch { Issue.record("\(error)") }
    }

    @Test func badSchemasAreRejectedNamingTheField() {
        let v = FieldSchema.vector("v", dimension: 4)
        expectInvalid(CollectionSchema(fields: [v]), field: nil, "no primary key")
        expectInvalid(CollectionSchema(fields: [.int64Primary("a"), .int64Primary("b"), v]), field: nil, "two primary keys")
        expectInvalid(CollectionSchema(fields: [FieldSchema(name: "id", dataType: .double, isPrimary: true), v]), field: "id",
                      "double primary key")
        expectInvalid(CollectionSchema(fields: [.int64Primary()]), field: nil, "no vector field")
        expectInvalid(CollectionSchema(fields: [.int64Primary(), .vector("v", dimension: 0)]), field: "v", "zero dimension")
        expectInvalid(CollectionSchema(fields: [.int64Primary(), .vector("v", dimension: 4, index: IndexParams(m: 1))]),
                      field: "v", "M below 2")
        expectInvalid(CollectionSchema(fields: [.int64Primary(), v, .scalar("v", .int64)]), field: "v", "duplicate name")
        expectInvalid(CollectionSchema(fields: [.int64Primary(), v, .scalar("9lives", .int64)]), field: "9lives", "bad name")
        expectInvalid(CollectionSchema(fields: [.int64Primary(), v, FieldSchema(name: "a", dataType: .array)]), field: "a",
                      "array without element type")
        expectInvalid(CollectionSchema(fields: [.int64Primary(), v, .scalar("n", .int64, defaultValue: "x")]), field: "n",
                      "default of the wrong type")
    }

    @Test func quickSetupHasIdVectorAndDynamicField() throws {
        let s = CollectionSchema.quick(dimension: 8, metric: .l2)
        try s.validate(collection: "q")
        #expect(s.primaryField.name == "id")
        #expect(s.vectorFields.map(\.name) == ["vector"])
        #expect(s.vectorFields[0].metric == .l2)
        #expect(s.enableDynamicField)
    }

    @Test func jsonTextRoundTripsValues() throws {
        let values: [FieldValue] = [
            nil, true, 0, -42, 9_007_199_254_740_993, 1.5, -2e-8, "plain", "quote \" backslash \\ newline \n tab \t é 😀",
            [1, "two", [3.5], ["k": nil]], ["a": ["b": [1, 2]], "": false],
        ]
        for v in values {
            let text = JSONText.encode(v)
            #expect(try JSONText.decode(text) == v, "\(text)")
        }
        #expect(try JSONText.decode(#"{"u": "\u00e9\ud83d\ude00"}"#) == ["u": "é😀"])
        #expect(throws: StoreError.self) { try JSONText.decode("{\"a\": }") }
        #expect(throws: StoreError.self) { try JSONText.decode("[1, 2") }
        #expect(throws: StoreError.self) { try JSONText.decode("1 2") }
    }
}
