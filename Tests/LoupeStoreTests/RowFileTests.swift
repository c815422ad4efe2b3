import Foundation
import Testing
@testable import LoupeStore

/// The row file: a writer's snapshot of a collection that the next open copies instead of reading SQLite.
@Suite struct RowFileTests {
    static let dimension = 8

    /// Rows with every kind of value, in two partitions.
    static func rows(_ range: Range<Int>, seed: UInt64) -> [Row] {
        var random = SplitMix64Generator(seed: seed)
        return range.map { i in
            let vector = (0..<dimension).map { _ in Float.random(in: -1...1, using: &random) }
            var row: Row = ["id": .int(Int64(i)), "vector": .vector(vector), "path": .string("/photos/\(i % 7)/p\(i).jpg"),
                            "size": .int(Int64(i * 100)), "score": .double(Double(i) / 3)]
            if i % 3 == 0 { row["tags"] = ["a", .int(Int64(i)), ["nested": true, "none": nil]] }
            if i % 5 == 0 { row["note"] = .string("ünïcödé \(i)") }
            return row
        }
    }

    static func writer(_ dir: TemporaryDirectory, persist: Bool = true) throws -> LoupeClient {
        var config = LoupeClient.Configuration()
        config.persistIndexes = persist
        return try LoupeClient(path: dir.path, configuration: config)
    }

    static func reader(_ dir: TemporaryDirectory) throws -> LoupeClient {
        var config = LoupeClient.Configuration()
        config.readOnly = true
        return try LoupeClient(path: dir.path, configuration: config)
    }

    /// Every row, sorted by id, with every field.
    static func everything(_ client: LoupeClient, _ name: String) async throws -> [Row] {
        try await client.query(name, filter: "id >= 0", outputFields: ["*"], limit: 10_000)
            .sorted { ($0["id"]?.intValue ?? 0) < ($1["id"]?.intValue ?? 0) }
    }

    static func fill(_ dir: TemporaryDirectory) async throws -> [Row] {
        let client = try writer(dir)
        try await client.createCollection("c", dimension: dimension, index: IndexParams(kind: .hnsw, m: 8, efConstruction: 40))
        try await client.createPartition("c", partition: "p2")
        try await client.insert("c", rows(0..<300, seed: 1))
        try await client.insert("c", rows(300..<400, seed: 2), partition: "p2")
        _ = try await client.delete("c", filter: "id % 10 == 4")
        let all = try await everything(client, "c")
        try await client.close()
        return all
    }

    @Test func aCurrentRowFileIsTheCollection() async throws {
        let dir = TemporaryDirectory()
        let expected = try await Self.fill(dir)
        #expect(FileManager.default.fileExists(atPath: dir.path + "/index/1.rows"))
        let reader = try Self.reader(dir)
        #expect(await reader.openedFrom("c") == .rowFile)
        #expect(try await Self.everything(reader, "c") == expected)
        #expect(try await reader.query("c", filter: "id >= 0", outputFields: ["count(*)"], partitionNames: ["p2"]) == [["count(*)": 90]])
    }

    @Test func filtersReadTheEncodedDocuments() async throws {
        let dir = TemporaryDirectory()
        _ = try await Self.fill(dir)
        let fresh = try Self.reader(dir)
        let query = Self.rows(0..<1, seed: 9)[0]["vector"]!.vectorValue!
        let filters = [#"path like "/photos/3/%""#, "size > 20000 and score < 120", #"tags[0] == "a""#,
                       "note is not null", #"$meta["note"] != "x""#]
        for filter in filters {
            let fromFile = try await fresh.search("c", vectors: [query], options: SearchOptions(limit: 20, filter: filter, outputFields: ["*"]))
            // The same search on a mirror read from SQLite (the row file hidden).
            let hidden = dir.path + "/index/1.rows.hidden"
            try FileManager.default.moveItem(atPath: dir.path + "/index/1.rows", toPath: hidden)
            let fromSQLite = try Self.reader(dir)
            #expect(await fromSQLite.openedFrom("c") == .sqlite)
            let expected = try await fromSQLite.search("c", vectors: [query], options: SearchOptions(limit: 20, filter: filter, outputFields: ["*"]))
            try FileManager.default.moveItem(atPath: hidden, toPath: dir.path + "/index/1.rows")
            #expect(fromFile[0].map(\.id) == expected[0].map(\.id), "filter \(filter)")
            #expect(fromFile[0].map(\.fields) == expected[0].map(\.fields), "filter \(filter)")
            #expect(!expected[0].isEmpty, "filter \(filter) matches something")
        }
    }

    @Test func aCollectionIsSearchedWhereItIsMappedAndCopiedAtItsFirstChange() async throws {
        let dir = TemporaryDirectory()
        let expected = try await Self.fill(dir)
        let queries = Self.rows(1000..<1010, seed: 8).map { $0["vector"]!.vectorValue! }
        // What the same searches find on a mirror read from SQLite, with a graph built in memory.
        let hidden = dir.path + "/index.hidden"
        try FileManager.default.copyItem(atPath: dir.path + "/index", toPath: hidden)
        try FileManager.default.removeItem(atPath: dir.path + "/index")
        let fromSQLite = try Self.reader(dir)
        let options = SearchOptions(limit: 10, outputFields: ["path"])
        #expect(await fromSQLite.openedFrom("c") == .sqlite)
        let reference = try await fromSQLite.search("c", vectors: queries, options: options)
        #expect(!FileManager.default.fileExists(atPath: dir.path + "/index"), "a reader writes no derived files")
        try FileManager.default.moveItem(atPath: hidden, toPath: dir.path + "/index")

        let writer = try Self.writer(dir)
        #expect(await writer.openedFrom("c") == .rowFile)
        #expect(await writer.isMapped("c")! == (vectors: true, graph: true))
        let mapped = try await writer.search("c", vectors: queries, options: options)
        #expect(mapped.map { $0.map(\.id) } == reference.map { $0.map(\.id) })
        #expect(try await Self.everything(writer, "c") == expected)
        // The first insert copies the vectors; the graph build grows a copy of the mapped graph.
        let added = Self.rows(400..<3000, seed: 10)
        try await writer.insert("c", added)
        try await writer.flush()
        #expect(await writer.isMapped("c")! == (vectors: false, graph: false))
        let all = try await Self.everything(writer, "c")
        #expect(all.count == expected.count + added.count)
        #expect(Array(all.prefix(expected.count)) == expected, "the mapped rows survive the copy")
        let exact = try await writer.search("c", vectors: [added[7]["vector"]!.vectorValue!], options: SearchOptions(limit: 1))
        #expect(exact[0].first?.id == 407)
        try await writer.close()
        let reopened = try Self.reader(dir)
        #expect(await reopened.isMapped("c")! == (vectors: true, graph: true))
        #expect(try await Self.everything(reopened, "c") == all)
    }

    @Test func aStaleRowFileIsCaughtUpFromSQLite() async throws {
        let dir = TemporaryDirectory()
        _ = try await Self.fill(dir)
        // A writer that does not save derived files leaves the row file behind what SQLite holds.
        let later = try Self.writer(dir, persist: false)
        try await later.insert("c", Self.rows(400..<450, seed: 3))
        _ = try await later.delete("c", filter: "id < 20")
        try await later.upsert("c", Self.rows(100..<101, seed: 4))
        let expected = try await Self.everything(later, "c")
        try await later.close()
        let reader = try Self.reader(dir)
        #expect(await reader.openedFrom("c") == .rowFileAndSQLite)
        #expect(try await Self.everything(reader, "c") == expected)
        // A writer opened the same way saves a current file again when it closes.
        let writer = try Self.writer(dir)
        try await writer.close()
        #expect(await (try Self.reader(dir)).openedFrom("c") == .rowFile)
    }

    @Test func aDamagedRowFileIsIgnored() async throws {
        let dir = TemporaryDirectory()
        let expected = try await Self.fill(dir)
        let file = dir.path + "/index/1.rows"
        let bytes = try Data(contentsOf: URL(fileURLWithPath: file))
        var random = SplitMix64Generator(seed: 77)
        for trial in 0..<20 {
            var damaged = bytes
            if trial % 2 == 0 {
                let at = Int.random(in: 0..<damaged.count, using: &random)
                damaged[at] ^= UInt8.random(in: 1...255, using: &random)
            } else {
                damaged = damaged.prefix(Int.random(in: 0..<damaged.count, using: &random))
            }
            try damaged.write(to: URL(fileURLWithPath: file))
            let reader = try Self.reader(dir)
            #expect(await reader.openedFrom("c") == .sqlite, "trial \(trial) (seed 77)")
            #expect(try await Self.everything(reader, "c") == expected, "trial \(trial) (seed 77)")
        }
    }

    @Test func stringKeysAndAnEmptyCollectionRoundTrip() async throws {
        let dir = TemporaryDirectory()
        let client = try Self.writer(dir)
        try await client.createCollection("s", schema: CollectionSchema(fields: [
            FieldSchema(name: "key", dataType: .string, isPrimary: true, maxLength: 64),
            .vector("vector", dimension: 2, metric: .l2, index: .flat),
        ], enableDynamicField: true))
        try await client.createCollection("empty", dimension: 2)
        try await client.insert("s", [["key": "b", "vector": .vector([1, 2])], ["key": "aé", "vector": .vector([3, 4]), "x": 1.5]])
        try await client.close()
        let reader = try Self.reader(dir)
        #expect(await reader.openedFrom("s") == .rowFile)
        let rows = try await reader.query("s", filter: #"key in ["b", "aé"]"#, outputFields: ["*", "vector"])
            .sorted { ($0["key"]?.stringValue ?? "") < ($1["key"]?.stringValue ?? "") }
        #expect(rows == [["key": "aé", "x": 1.5, "vector": .vector([3, 4])], ["key": "b", "vector": .vector([1, 2])]])
        let hits = try await reader.search("s", vectors: [[3, 4]], options: SearchOptions(limit: 1))
        #expect(hits[0].first?.id == "aé")
        #expect(try await reader.query("empty", filter: "id >= 0", outputFields: ["count(*)"]) == [["count(*)": 0]])
    }

    @Test func documentCodecRoundTripsAndRefusesDamage() throws {
        let rows = Self.rows(0..<40, seed: 5).map { row -> Row in
            var row = row
            row["vector"] = nil
            row["v"] = .vector([1.5, -2, .infinity])
            row["n"] = .null
            row["f"] = false
            return row
        }
        var random = SplitMix64Generator(seed: 6)
        for row in rows {
            var bytes: [UInt8] = []
            DocumentCodec.encode(row, into: &bytes)
            let decoded = try bytes.withUnsafeBytes { try DocumentCodec.decode($0) }
            #expect(decoded == row)
            let some = try bytes.withUnsafeBytes { try DocumentCodec.decode($0, only: DocumentCodec.Selection(["path", "tags", "missing"])) }
            #expect(some == row.filter { ["path", "tags"].contains($0.key) })
            // Any truncation is an error, never a crash or a wrong row.
            let cut = Int.random(in: 0..<bytes.count, using: &random)
            #expect(throws: DocumentCodec.Damaged.self) { try Array(bytes.prefix(cut)).withUnsafeBytes { try DocumentCodec.decode($0) } }
        }
    }
}
