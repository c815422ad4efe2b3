import Foundation
import LoupeFixtures
import LoupeMedia
import LoupeStore
import Testing
@testable import Loupe

/// A table of the 36 shape pictures (2 per colour-shape class) inserted with only `image_uri`: half by
/// local path, half by URLs served from loopback.
struct ShapeTable {
    let root: URL
    let tables: TableClient
    let table: Table
    let pictures: [DemoLibrary.Picture]
    let server: HubTestServer
    let endpoint: URL
    /// The `image_uri` of each picture, in `pictures` order.
    let uris: [String]

    static func make(name: String = "image_items", decodeBudget: DecodeBudget = .shared) async throws -> ShapeTable {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("loupe-tables-\(UUID().uuidString)")
        let pictures = try DemoLibrary.generate(into: root.appendingPathComponent("pictures"), perClass: 2, video: false)
        var files: [String: HubTestServer.File] = [:]
        for picture in pictures { files[picture.url.lastPathComponent] = .init(data: try Data(contentsOf: picture.url), lfs: false) }
        files["notes.txt"] = .init(data: Data("not a picture".utf8), lfs: false)
        let server = HubTestServer(repository: "x/y", files: files)
        let endpoint = try await server.start()
        let store = try LoupeClient(path: root.appendingPathComponent("data").path)
        var configuration = TableClient.Configuration()
        configuration.decodeBudget = decodeBudget
        let tables = TableClient(store: store, embedder: try CLIPEmbedder(directory: ShapesLibrary.modelDirectory),
                                 configuration: configuration)
        let table = try await tables.createTable(name, schema: CollectionSchema(fields: [
            .int64Primary("id", autoID: true),
            .scalar("image_uri", .string, maxLength: 4096),
            .scalar("label", .string, nullable: true),
            .sourcedVector("image_vec", from: "image_uri"),
        ]))
        let uris = pictures.enumerated().map { index, picture in
            index % 2 == 0 ? picture.url.path : endpoint.appendingPathComponent("cdn/\(picture.url.lastPathComponent)").absoluteString
        }
        return ShapeTable(root: root, tables: tables, table: table, pictures: pictures, server: server, endpoint: endpoint, uris: uris)
    }

    func close() async {
        try? await tables.store.close()
        await server.stop()
        try? FileManager.default.removeItem(at: root)
    }

    /// The picture whose `image_uri` a hit has.
    func picture(_ hit: TableHit) -> DemoLibrary.Picture? {
        hit.fields["image_uri"]?.stringValue.flatMap { uri in uris.firstIndex(of: uri).map { pictures[$0] } }
    }
}

@Suite("Tables with sourced vectors (shapes model)", .serialized, .stopsHubServers)
struct TableTests {
    @Test("row sources and query pictures decode within the process's decode budget, like the media library's")
    func decodesWithinTheBudget() async throws {
        let budget = DecodeBudget(capacity: 1)
        let shapes = try await ShapeTable.make(decodeBudget: budget)
        defer { Task { await shapes.close() } }
        try await shapes.table.insert(shapes.uris.map { ["image_uri": .string($0)] })
        #expect(budget.reservationsGranted == 36)
        _ = try await shapes.table.search(.guess(shapes.uris[0], files: true), limit: 3)
        #expect(budget.reservationsGranted == 37)
        // A budget of one byte admits one decode at a time: the peak is one picture's cost, not several.
        let costs = try shapes.pictures.map { ImageDecoder.decodingCost(of: try Data(contentsOf: $0.url)) }
        #expect(budget.peakReserved <= costs.max()!)
    }

    @Test("36 rows inserted with only image_uri answer 'a red circle' with red circles first")
    func insertAndSearchByText() async throws {
        let shapes = try await ShapeTable.make()
        defer { Task { await shapes.close() } }
        let written = try await shapes.table.insert(shapes.uris.map { ["image_uri": .string($0)] })
        #expect(written.count == 36)
        #expect(try await shapes.table.count() == 36)
        let hits = try await shapes.table.search(.text("a red circle"), limit: 3)
        #expect(hits.count == 3)
        let top = hits.prefix(2).compactMap(shapes.picture)
        #expect(top.count == 2 && top.allSatisfy { $0.colour == .red && $0.shape == .circle },
                "top hits: \(top.map { "\($0.colour) \($0.shape)" })")
        #expect(zip(hits, hits.dropFirst()).allSatisfy { $0.score >= $1.score })
        #expect(hits[0].row(primaryKey: "id")["_score"]?.doubleValue == Double(hits[0].score))
        // A plain string that is neither a URL nor a file is text, as pytidb reads it.
        #expect(try await shapes.table.search("a red circle", limit: 3).map(\.id) == hits.map(\.id))
        // Stored vectors are the model's unit vectors.
        let row = try #require(try await shapes.table.get([hits[0].id], outputFields: ["image_vec"]).first)
        let vector = try #require(row["image_vec"]?.vectorValue)
        #expect(vector.count == 64 && abs(vector.reduce(0) { $0 + $1 * $1 } - 1) < 1e-3)
    }

    @Test("a query by URL, by file, by bytes and by base64 finds the same class; filters, offset and output fields apply")
    func searchByPicture() async throws {
        let shapes = try await ShapeTable.make()
        defer { Task { await shapes.close() } }
        var rows: [Row] = []
        for (index, uri) in shapes.uris.enumerated() {
            rows.append(["image_uri": .string(uri), "label": .string("\(shapes.pictures[index].colour.rawValue)")])
        }
        try await shapes.table.insert(rows)
        // A new picture of a green square, not in the table: another size, place and background.
        let pixels = ShapePainter(width: 150, height: 130).paint(.square, .green, x: 0.5, y: 0.5, scale: 0.55,
                                                                  background: (210, 225, 200))
        let png = try ImageEncoder.encode(pixels: pixels, width: 150, height: 130, as: .png)
        let file = shapes.root.appendingPathComponent("query.png")
        try png.write(to: file)
        // The table's own green squares by URL (the server serves every picture under cdn/).
        let greens = shapes.pictures.filter { $0.colour == .green && $0.shape == .square }
            .map { shapes.endpoint.appendingPathComponent("cdn/\($0.url.lastPathComponent)") }
        let queries: [TableQuery] = [.imageFile(file), .imageData(png), .imageBase64("data:image/png;base64," + png.base64EncodedString()),
                                     .imageURL(greens[0]), .guess(file.path), .guess(greens[1].absoluteString)]
        #expect(queries[4] == .imageFile(file) && queries[5].kind == "image_url")
        for query in queries {
            let hits = try await shapes.table.search(query, limit: 2)
            let found = hits.compactMap(shapes.picture)
            #expect(found.count == 2 && found.allSatisfy { $0.colour == .green && $0.shape == .square },
                    "\(query.kind): \(found.map { "\($0.colour) \($0.shape)" })")
        }
        var options = TableSearchOptions(limit: 3, filter: "label == \"red\"", outputFields: ["label"])
        let red = try await shapes.table.search(.imageFile(file), options: options)
        #expect(red.count == 3 && red.allSatisfy { $0.fields == ["label": "red"] }, "\(red)")
        options = TableSearchOptions(limit: 2, offset: 1, filter: "label == \"red\"", outputFields: ["label"])
        #expect(try await shapes.table.search(.imageFile(file), options: options).map(\.id) == Array(red.dropFirst().map(\.id)))
    }

    @Test("an upsert with a new URI recomputes the vector; one with the same URI keeps it; a supplied vector is kept")
    func upsertRecomputesOnlyChangedSources() async throws {
        let shapes = try await ShapeTable.make(name: "upserts")
        defer { Task { await shapes.close() } }
        let red = shapes.pictures.firstIndex { $0.colour == .red && $0.shape == .circle }!
        let blue = shapes.pictures.firstIndex { $0.colour == .blue && $0.shape == .triangle }!
        let ids = try await shapes.table.insert([["image_uri": .string(shapes.uris[red])]]).ids
        func vector() async throws -> [Float] {
            try #require(try await shapes.table.get(ids, outputFields: ["image_vec"]).first?["image_vec"]?.vectorValue)
        }
        let before = try await vector()
        try await shapes.table.upsert([["id": ids[0], "image_uri": .string(shapes.uris[red]), "label": "same"]])
        #expect(try await vector() == before, "the same source keeps the stored vector")
        try await shapes.table.upsert([["id": ids[0], "image_uri": .string(shapes.uris[blue])]])
        let after = try await vector()
        let cosine = zip(before, after).reduce(0) { $0 + $1.0 * $1.1 }
        #expect(cosine < 0.9, "a red circle and a blue triangle should differ; cosine \(cosine)")
        let top = try #require(try await shapes.table.search(.text("a blue triangle"), limit: 1).first)
        #expect(top.id == ids[0])
        // A vector the row brings is stored as it is.
        let own = [Float](repeating: 0.125, count: 64)
        try await shapes.table.upsert([["id": ids[0], "image_uri": .string(shapes.uris[red]), "image_vec": .vector(own)]])
        #expect(try await vector() == own)
    }

    @Test("a 404 URL and a text file fail the call with per-row errors, and nothing is written")
    func unreadableSourcesFailTheCall() async throws {
        let shapes = try await ShapeTable.make(name: "bad_rows")
        defer { Task { await shapes.close() } }
        let text = shapes.root.appendingPathComponent("notes.txt")
        try Data("not a picture".utf8).write(to: text)
        let missing = shapes.endpoint.appendingPathComponent("cdn/missing.png").absoluteString
        let rows: [Row] = [["image_uri": .string(shapes.uris[0])], ["image_uri": .string(missing)],
                           ["image_uri": .string(shapes.uris[1])], ["image_uri": .string(text.path)],
                           ["image_uri": .string(shapes.endpoint.appendingPathComponent("cdn/notes.txt").absoluteString)],
                           ["label": "no uri"]]
        do {
            try await shapes.table.insert(rows)
            Issue.record("the insert should have failed")
        } catch let error as RowSourceError {
            #expect(error.failures.map(\.row) == [1, 3, 4, 5], "\(error)")
            #expect(error.failures.allSatisfy { $0.field == "image_vec" && $0.sourceField == "image_uri" })
            #expect(error.failures[0].reason.contains("404"), "\(error.failures[0])")
            #expect(error.failures[0].source == missing)
            #expect(error.failures[1].source == text.path)
            #expect(error.description.contains("row 1, field image_vec") && error.description.contains("nothing was written"),
                    "\(error)")
        }
        #expect(try await shapes.table.count() == 0, "nothing of the failed call is written")
    }

    @Test("schemas: a dimension other than the embedder's, an unknown embedder and a non-VARCHAR source are refused")
    func schemaChecks() async throws {
        let shapes = try await ShapeTable.make(name: "checks")
        defer { Task { await shapes.close() } }
        func fails(_ fields: [FieldSchema], _ expected: String) async {
            do {
                try await shapes.tables.createTable("t", schema: CollectionSchema(fields: [.int64Primary()] + fields))
                Issue.record("created a table that should be refused (\(expected))")
            } catch {
                #expect("\(error)".contains(expected), "\(error)")
            }
        }
        await fails([.scalar("uri", .string), .vector("v", dimension: 512, source: VectorSource(field: "uri"))],
                    "has 512 dimensions; its clip embedder")
        await fails([.scalar("uri", .string), .sourcedVector("v", from: "uri", embedder: "openai")], "'openai', which is not available")
        await fails([.scalar("uri", .int64), .sourcedVector("v", from: "uri")], "must be a VARCHAR")
        await fails([.sourcedVector("v", from: "nowhere")], "'nowhere' is not in the schema")
        let description = try await shapes.tables.describeTable("checks")
        let source = try #require(description.schema.field("image_vec")?.source)
        #expect(source.field == "image_uri" && source.kind == .image && source.embedder == "clip" && source.model != nil)
        #expect(description.schema.field("image_vec")?.dimension == 64)
    }

    @Test("a text-sourced field beside an image one: captions are embedded as text and searchable")
    func textSource() async throws {
        let shapes = try await ShapeTable.make(name: "unused")
        defer { Task { await shapes.close() } }
        let captions = try await shapes.tables.createTable("captions", schema: CollectionSchema(fields: [
            .stringPrimary("sku"), .scalar("image_uri", .string), .scalar("caption", .string),
            .sourcedVector("image_vec", from: "image_uri"), .sourcedVector("caption_vec", from: "caption", kind: .text),
        ]))
        let red = shapes.pictures.firstIndex { $0.colour == .red && $0.shape == .square }!
        let yellow = shapes.pictures.firstIndex { $0.colour == .yellow && $0.shape == .circle }!
        try await captions.insert([
            ["sku": "a", "image_uri": .string(shapes.uris[red]), "caption": "a red square"],
            ["sku": "b", "image_uri": .string(shapes.uris[yellow]), "caption": "a yellow circle"],
        ])
        let byCaption = try await captions.search(.text("a yellow circle"), options: TableSearchOptions(field: "caption_vec", limit: 1))
        #expect(byCaption.first?.id == "b")
        let byImage = try await captions.search(.text("a red square"), options: TableSearchOptions(field: "image_vec", limit: 1))
        #expect(byImage.first?.id == "a")
        do {
            try await captions.insert([["sku": "c", "image_uri": .string(shapes.uris[red]), "caption": "  "]])
            Issue.record("an empty caption should fail the row")
        } catch let error as RowSourceError {
            #expect(error.failures.map(\.field) == ["caption_vec"] && error.failures[0].key == "c", "\(error)")
        }
    }
}
