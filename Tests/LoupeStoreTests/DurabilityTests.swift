import Foundation
import Testing
@testable import LoupeStore

/// The `loupe` binary built next to this test bundle (it hosts the hidden crash-writer subcommand).
func loupeBinary() throws -> URL {
    var dir = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
    for _ in 0..<4 {
        let candidate = dir.appendingPathComponent("loupe")
        if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
        dir = dir.deletingLastPathComponent()
    }
    throw StoreError(.notFound, "the loupe binary was not built next to the tests (run swift build --build-tests)",
                     path: CommandLine.arguments[0])
}

/// The same vectors the crash writer inserts.
func crashVector(id: Int64, dimension: Int = 8) -> [Float] {
    (0..<dimension).map { j in Float(sin(Double(id) * 0.37 + Double(j) * 1.3)) }
}

@Suite(.serialized) struct DurabilityTests {
    @Test func acknowledgedWritesSurviveKillNine() async throws {
        let dir = TemporaryDirectory()
        let binary = try loupeBinary()
        var acknowledged = Set<Int64>()
        var deleted = Set<Int64>()
        var deleting = Set<Int64>()
        // Kill times come from a seeded generator, printed with every failure, so a failing run can be
        // replayed with LOUPE_TEST_SEED=<seed>.
        let seed = UInt64(ProcessInfo.processInfo.environment["LOUPE_TEST_SEED"] ?? "") ?? 0x10_09E
        var generator = SplitMix64Generator(seed: seed)
        for round in 0..<4 {
            let process = Process()
            process.executableURL = binary
            process.arguments = ["store-crash-writer", "--data", dir.path]
            let out = Pipe()
            process.standardOutput = out
            process.standardError = FileHandle.nullDevice
            try process.run()
            // Let it reach the write loop, then kill it at a random point.
            var seen = Data()
            let deadline = Date().addingTimeInterval(20)
            while !String(decoding: seen, as: UTF8.self).contains("\nI "), Date() < deadline {
                seen.append(out.fileHandleForReading.availableData)
            }
            if round == 0 {
                // A second writer is refused while the child holds the database.
                do {
                    _ = try LoupeClient(path: dir.path)
                    Issue.record("a second writer opened a locked database")
                } catch let e as StoreError {
                    #expect(e.code == .locked)
                    #expect(e.message.contains("locked by pid \(process.processIdentifier)"), "\(e)")
                }
            }
            try await Task.sleep(for: .milliseconds(Int.random(in: 50...400, using: &generator)))
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            #expect(process.terminationReason == .uncaughtSignal)
            seen.append(out.fileHandleForReading.readDataToEndOfFile())
            let text = String(decoding: seen, as: UTF8.self)
            // Only whole lines count: a line cut by the kill was not acknowledged.
            for line in text.split(separator: "\n", omittingEmptySubsequences: false).dropLast() {
                let parts = line.split(separator: " ")
                guard parts.count == 2, let id = Int64(parts[1]) else { continue }
                switch parts[0] {
                case "I": acknowledged.insert(id)
                case "D": deleted.insert(id)
                case "T": deleting.insert(id)
                default: break
                }
            }
            #expect(!acknowledged.isEmpty, "round \(round), seed \(seed): the writer acknowledged nothing")

            let client = try LoupeClient(path: dir.path)
            let rows = try await client.query("crash", outputFields: ["id"])
            let present = Set(rows.compactMap { $0["id"]?.intValue })
            // A delete that started but was not acknowledged may have happened or not.
            let missing = acknowledged.subtracting(deleted).subtracting(deleting).subtracting(present)
            #expect(missing.isEmpty, "round \(round), seed \(seed): acknowledged ids lost: \(missing.sorted().prefix(10))")
            #expect(present.isDisjoint(with: deleted), "round \(round), seed \(seed): acknowledged deletes came back")
            // Stored vectors are what was written, and the index finds every row.
            let sample = Array(present.sorted().suffix(20))
            for id in sample {
                let hits = try await client.search("crash", vectors: [crashVector(id: id)], options: SearchOptions(limit: 1, ef: 64))
                #expect(hits[0].first?.id == .int(id), "round \(round), seed \(seed): row \(id) not found by its own vector")
            }
            try await client.flush()
            let stats = try await client.stats("crash")
            #expect(stats.rowCount == present.count)
            try await client.close()
        }
    }

    @Test func aReplaceKilledMidWriteLeavesTheOldRowsOrTheNew() async throws {
        let dir = TemporaryDirectory()
        let binary = try loupeBinary()
        var generator = SplitMix64Generator(seed: 11)
        for round in 0..<4 {
            let process = Process()
            process.executableURL = binary
            process.arguments = ["store-crash-writer", "--replacing", "--data", dir.path]
            let out = Pipe()
            process.standardOutput = out
            process.standardError = FileHandle.nullDevice
            try process.run()
            var seen = Data()
            let deadline = Date().addingTimeInterval(60)
            while !String(decoding: seen, as: UTF8.self).contains("REPLACING"), Date() < deadline {
                let chunk = out.fileHandleForReading.availableData
                if chunk.isEmpty { break }
                seen.append(chunk)
            }
            #expect(String(decoding: seen, as: UTF8.self).contains("REPLACING"), "round \(round): the writer never started replacing")
            // Kill it a random number of replaces later (the pause is the randomness, not a synchronisation).
            try await Task.sleep(for: .milliseconds(Int.random(in: 5...200, using: &generator)))
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            let client = try LoupeClient(path: dir.path)
            for group in 0..<10 {
                let count = try await client.query("swap", filter: "group == \(group)", outputFields: ["count(*)"])[0]["count(*)"]
                #expect(count == 5, "round \(round): group \(group) holds \(count.map { "\($0)" } ?? "nothing") rows, not 5")
            }
            try await client.close()
        }
    }

    @Test func indexFilesAreReusedWhenCurrentAndRebuiltWhenMissingOrDamaged() async throws {
        let dir = TemporaryDirectory()
        var config = LoupeClient.Configuration()
        config.pendingRowsBeforeIndexing = 0
        config.backgroundIndexing = false
        let dim = 16
        let base = TestVectors.make(count: 600, dimension: dim, seed: 5)
        func vector(_ i: Int) -> [Float] { Array(base[i * dim..<(i + 1) * dim]) }
        do {
            let client = try LoupeClient(path: dir.path, configuration: config)
            try await client.createCollection("v", dimension: dim, index: IndexParams(kind: .hnsw, m: 8, efConstruction: 64))
            try await client.insert("v", (0..<500).map { ["id": .int(Int64($0)), "vector": .vector(vector($0))] })
            try await client.close()
        }
        let file = (dir.path as NSString).appendingPathComponent("index/1_vector.hnsw")
        #expect(FileManager.default.fileExists(atPath: file))
        // Reopen: the graph is loaded, not rebuilt; later rows are appended to it; deletes are honoured.
        do {
            let client = try LoupeClient(path: dir.path, configuration: config)
            #expect(try await client.stats("v").indexedRows["vector"] == 500, "the saved graph covers all 500 rows")
            try await client.insert("v", (500..<600).map { ["id": .int(Int64($0)), "vector": .vector(vector($0))] })
            try await client.delete("v", ids: [7])
            let hits = try await client.search("v", vectors: [vector(550), vector(7)], options: SearchOptions(limit: 1))
            #expect(hits[0].first?.id == 550)
            #expect(hits[1].first?.id != 7)
            #expect(try await client.stats("v").indexedRows["vector"] == 600)
            try await client.close()
        }
        // A truncated file is ignored and the graph rebuilt from the rows.
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: file))
        try handle.truncate(atOffset: 1000)
        try handle.close()
        do {
            let client = try LoupeClient(path: dir.path, configuration: config)
            #expect(try await client.stats("v").indexedRows["vector"] == 0, "a damaged file is not trusted")
            let hits = try await client.search("v", vectors: [vector(123)], options: SearchOptions(limit: 1))
            #expect(hits[0].first?.id == 123)
            #expect(try await client.stats("v").indexedRows["vector"] == 599, "rebuilt from the 599 rows")
            try await client.close()
        }
        // A missing file likewise.
        try FileManager.default.removeItem(atPath: file)
        let client = try LoupeClient(path: dir.path, configuration: config)
        #expect(try await client.stats("v").indexedRows["vector"] == 0)
        #expect(try await client.search("v", vectors: [vector(599)], options: SearchOptions(limit: 1))[0].first?.id == 599)
        #expect(try await client.stats("v").rowCount == 599)
    }

    @Test func aSecondClientInTheSameProcessIsRefused() async throws {
        let dir = TemporaryDirectory()
        let first = try LoupeClient(path: dir.path)
        let error = try #require(throws: StoreError.self) { _ = try LoupeClient(path: dir.path) }
        #expect(error.code == .locked)
        #expect(error.message.contains("pid \(getpid())"))
        try await first.close()
        _ = try LoupeClient(path: dir.path)
    }

    @Test func readersSeeConsistentStatesWhileAWriterInserts() async throws {
        let dir = TemporaryDirectory()
        let client = try LoupeClient(path: dir.path)
        try await client.createCollection("c", dimension: 4, index: .flat)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                for batch in 0..<30 {
                    let rows: [Row] = (0..<10).map { i in
                        let id = Int64(batch * 10 + i)
                        return ["id": .int(id), "vector": .vector([1, Float(id), 0, 1])]
                    }
                    try await client.insert("c", rows)
                }
            }
            for _ in 0..<3 {
                group.addTask {
                    var last = 0
                    for _ in 0..<40 {
                        let count = try await client.query("c", outputFields: ["count(*)"])[0]["count(*)"]!.intValue!
                        // Inserts land whole: a reader sees 0, 10, 20, ... rows, never a partial batch, never fewer.
                        #expect(count % 10 == 0, "saw \(count) rows")
                        #expect(count >= last)
                        last = Int(count)
                        let hits = try await client.search("c", vectors: [[1, 0, 0, 1]], options: SearchOptions(limit: 10))
                        #expect(hits[0].count >= min(10, Int(count)))
                    }
                }
            }
            try await group.waitForAll()
        }
        #expect(try await client.stats("c").rowCount == 300)
    }
}

@Suite struct ReadOnlyClientTests {
    static var readOnly: LoupeClient.Configuration {
        var config = LoupeClient.Configuration()
        config.readOnly = true
        return config
    }

    @Test func readersOpenBesideTheWriterAndSeeItsCommitsOnTheirNextCall() async throws {
        let dir = TemporaryDirectory()
        let writer = try LoupeClient(path: dir.path)
        try await writer.createCollection("c", dimension: 2, index: .flat)
        try await writer.insert("c", [["id": 1, "vector": .vector([1, 0])]])
        let reader = try LoupeClient(path: dir.path, configuration: Self.readOnly)
        #expect(try await reader.query("c", outputFields: ["id"]) == [["id": 1]])
        try await writer.insert("c", [["id": 2, "vector": .vector([0, 1])]])
        #expect(try await reader.query("c", outputFields: ["id"]) == [["id": 1], ["id": 2]], "a new row is seen")
        #expect(try await reader.search("c", vectors: [[0, 1]], options: SearchOptions(limit: 1))[0].map(\.id) == [2])
        try await writer.upsert("c", [["id": 1, "vector": .vector([0.5, 0.5]), "tag": "moved"]])
        #expect(try await reader.get("c", ids: [1], outputFields: ["tag"]) == [["id": 1, "tag": "moved"]], "an upsert is seen")
        try await writer.delete("c", ids: [2])
        #expect(try await reader.query("c", outputFields: ["count(*)"]) == [["count(*)": 1]], "a delete is seen")
        try await writer.createCollection("d", dimension: 2, index: .flat)
        #expect(await reader.hasCollection("d"), "a new collection is seen")
        try await writer.dropCollection("c")
        #expect(await reader.listCollections() == ["d"], "a dropped collection goes")
        await #expect(throws: StoreError.self) { try await reader.insert("d", [["id": 3, "vector": .vector([1, 1])]]) }
    }

    @Test func aReaderInAnotherProcessSeesTheWritersRowsAsTheyCommit() async throws {
        let dir = TemporaryDirectory()
        let process = Process()
        process.executableURL = try loupeBinary()
        process.arguments = ["store-crash-writer", "--data", dir.path]
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        try process.run()
        defer {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
        var text = ""
        func acknowledged() -> Set<Int64> {
            Set(text.split(separator: "\n").dropLast().compactMap { line in
                line.hasPrefix("I ") ? Int64(line.dropFirst(2)) : nil
            })
        }
        let deadline = Date().addingTimeInterval(60)
        while acknowledged().count < 50, Date() < deadline {
            let chunk = out.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            text += String(decoding: chunk, as: UTF8.self)
        }
        let reader = try LoupeClient(path: dir.path, configuration: Self.readOnly)
        // Everything acknowledged before this call is visible to it (deletes aside), and later rows arrive.
        var rounds = 0
        var lastCount: Int64 = 0
        while rounds < 3, Date() < deadline {
            let before = acknowledged()
            let present = Set(try await reader.query("crash", outputFields: ["id"]).compactMap { $0["id"]?.intValue })
            let victims = Set(text.split(separator: "\n").compactMap { $0.hasPrefix("T ") ? Int64($0.dropFirst(2)) : nil })
            let missing = before.subtracting(victims).subtracting(present)
            #expect(missing.isEmpty, "acknowledged rows the reader does not see: \(missing.sorted().prefix(5))")
            let count = try await reader.query("crash", outputFields: ["count(*)"])[0]["count(*)"]?.intValue ?? 0
            if count > lastCount { rounds += 1 }
            lastCount = count
            let chunk = out.fileHandleForReading.availableData
            text += String(decoding: chunk, as: UTF8.self)
        }
        #expect(rounds == 3, "the reader saw the row count grow only \(rounds) times")
        let newest = try #require(acknowledged().max())
        let hits = try await reader.search("crash", vectors: [crashVector(id: newest)], options: SearchOptions(limit: 1))
        #expect(hits[0].first?.id == .int(newest) || text.contains("T \(newest)"), "the newest row is found by its vector")
    }
}
