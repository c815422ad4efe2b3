import LoupeStore
import Testing
@testable import Loupe

/// Filter trees as Milvus 2.3 text, and the media schema's layout without nullable fields (no server).
struct MilvusFilterTests {
    static let layout = try! MilvusCollectionLayout(
        schema: MediaSchema.schema(dimension: 4, model: "m", index: .hnsw), collection: "media")

    func text(_ e: FilterExpression?) -> String? { MilvusFilter(layout: Self.layout).text(e) }

    @Test("a folder prefix becomes a range of paths, whatever characters the folder name has")
    func prefixAsRange() {
        #expect(text(MediaFilter.under("/photos/a_b")) == #"((path >= "/photos/a_b/") and (path < "/photos/a_b0"))"#)
        #expect(text(MediaFilter.under("/p/50%")) == #"((path >= "/p/50%/") and (path < "/p/50%0"))"#)
        #expect(text(.hasPrefix("path", #"/a\b"#)) == #"((path >= "/a\\b") and (path < "/a\\c"))"#)
        #expect(text(.hasPrefix("name", "x\u{10FFFF}")) == #"((name >= "x\#u{10FFFF}") and (name < "y"))"#)
    }

    @Test("patterns that are not a plain prefix, and prefixes on dynamic keys, stay as `like`")
    func likeKept() throws {
        #expect(text(try FilterExpression.parse(#"name like "a%b%""#)) == #"(name like "a%b%")"#)
        #expect(text(try FilterExpression.parse(#"name like "a_c%""#)) == #"(name like "a_c%")"#)
        #expect(text(try FilterExpression.parse(#"camera_make like "Can%""#)) == #"(camera_make like "Can%")"#)
        #expect(text(try FilterExpression.parse(#"source like "http%""#)) == #"(source like "http%")"#,
                "source is nullable: it lives in $meta")
    }

    @Test("the literal prefix of a pattern reads escapes as characters")
    func literalPrefix() {
        #expect(MilvusFilter.literalPrefix(#"a\%b\_c\\%"#) == #"a%b_c\"#)
        #expect(MilvusFilter.literalPrefix(#"a\%"#) == nil, "the last % is escaped: no wildcard")
        #expect(MilvusFilter.literalPrefix("abc") == nil)
        #expect(MilvusFilter.literalPrefix("a%c%") == nil)
    }

    @Test("is null on a nullable field asks whether $meta has the key; on a declared field it is constant")
    func nulls() throws {
        #expect(text(try FilterExpression.parse("width is null")) == "(not (exists width))")
        #expect(text(try FilterExpression.parse("width is not null")) == "(exists width)")
        #expect(text(try FilterExpression.parse("path is not null")) == nil, "always true: no filter")
        #expect(text(try FilterExpression.parse(#"kind == "video" and path is null"#)) == "(id < 0) and (id > 0)")
        #expect(text(try FilterExpression.parse(#"kind == "video" or path is null"#)) == #"(kind == "video")"#)
    }

    @Test("MediaFilter's clauses pass through as Milvus text")
    func mediaFilter() throws {
        let filter = MediaFilter(kind: .image, after: MediaFilter.date("2024-01-01"), expression: "width > 100")
        let compiled = try filter.compiled(scopes: [.image, .clip])
        #expect(text(compiled) == #"((((scope in ["image", "clip"]) and (kind == "image")) and (mtime >= 1704067200.0)) and (width > 100))"#)
        #expect(text(.all([])) == nil)
    }

    @Test("nullable fields leave the Milvus schema and are listed in its description, then read back")
    func layoutRoundTrip() throws {
        let milvus = Self.layout.milvusSchema
        #expect(milvus.fields.allSatisfy { !$0.nullable })
        #expect(milvus.field("width") == nil && milvus.field("path") != nil && milvus.enableDynamicField)
        #expect(milvus.description.hasPrefix(Self.layout.schema.description + "\nloupe-nullable: source:string:4096 "))
        let back = try MilvusCollectionLayout(milvus: milvus, collection: "media")
        #expect(back.schema.description == Self.layout.schema.description)
        #expect(back.nullable.map(\.name) == Self.layout.nullable.map(\.name))
        #expect(back.nullable.map(\.dataType) == Self.layout.nullable.map(\.dataType))
    }

    @Test("rows: nulls are left out on the way in and come back as null, doubles as doubles")
    func rows() throws {
        let row: Row = ["path": "/a.jpg", "width": 640, "start_s": .null, "duration_s": 12.0, "camera": "X"]
        let sent = try Self.layout.milvusRow(row, index: 0, collection: "media")
        #expect(sent["start_s"] == nil && sent["width"] == 640 && sent["camera"] == "X")
        // JSON may hand 12.0 back as 12.
        var read = sent
        read["duration_s"] = 12
        let back = Self.layout.loupeRow(read, asked: ["*"])
        #expect(back["duration_s"] == .double(12) && back["start_s"] == .null && back["source"] == .null)
        #expect(Self.layout.loupeRow(read, asked: ["path"])["start_s"] == nil, "only fields asked for are filled")
    }

    @Test("a bad value for a nullable field is refused naming the field and the row")
    func badValues() {
        #expect(throws: StoreError.self) {
            try Self.layout.milvusRow(["width": "wide"], index: 3, collection: "media")
        }
        do {
            _ = try Self.layout.milvusRow(["source": .string(String(repeating: "x", count: 5000))], index: 3, collection: "media")
            Issue.record("a 5000-byte source was accepted")
        } catch let error as StoreError {
            #expect(error.field == "source" && error.message.contains("row 3"), "\(error)")
        } catch {
            Issue.record("unexpected \(error)")
        }
    }
}
