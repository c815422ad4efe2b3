import Foundation
import Testing
@testable import LoupeStore

/// Damaged index files and databases give errors or a rebuild, never a signal (issue 19, row 11: byte 71 of
/// `index/1_vector.hnsw` set to 0x80 killed `loupe search` and `loupe serve` with SIGILL).
@Suite(.serialized) struct DamagedFileTests {
    static let dimension = 8

    static func vector(_ i: Int) -> [Float] { (0..<dimension).map { Float(sin(Double(i) * 0.37 + Double($0) * 1.3)) } }

    /// A database with 300 rows and a saved HNSW graph; returns the index file's path.
    static func makeStore(_ dir: TemporaryDirectory) async throws -> String {
        var config = LoupeClient.Configuration()
        config.pendingRowsBeforeIndexing = 0
        let client = try LoupeClient(path: dir.path, configuration: config)
        try await client.createCollection("v", dimension: dimension, index: IndexParams(kind: .hnsw, m: 8, efConstruction: 32))
        try await client.insert("v", (0..<300).map { ["id": .int(Int64($0)), "vector": .vector(vector($0)), "tag": .string("t\($0 % 7)")] })
        try await client.close()
        return (dir.path as NSString).appendingPathComponent("index/1_vector.hnsw")
    }

    static func searchAfterReopen(_ dir: TemporaryDirectory) async throws -> (indexed: Int?, best: Int64?) {
        var config = LoupeClient.Configuration()
        config.pendingRowsBeforeIndexing = 0
        let client = try LoupeClient(path: dir.path, configuration: config)
        do {
            let indexed = try await client.stats("v").indexedRows["vector"]
            let hits = try await client.search("v", vectors: [vector(123)], options: SearchOptions(limit: 1))
            try await client.close()
            return (indexed, hits[0].first?.id.intValue)
        } catch {
            try? await client.close()
            throw error
        }
    }

    @Test func theReportedByteFlipIsRebuiltNotACrash() async throws {
        let dir = TemporaryDirectory()
        let file = try await Self.makeStore(dir)
        var bytes = try Data(contentsOf: URL(fileURLWithPath: file))
        bytes[71] = 0x80  // the top byte of the node count
        try bytes.write(to: URL(fileURLWithPath: file))
        let (indexed, best) = try await Self.searchAfterReopen(dir)
        #expect(indexed == 0, "a damaged graph is not loaded")
        #expect(best == 123, "the graph rebuilt from the rows answers")
    }

    @Test func anySingleByteFlipInTheIndexFileIsCaught() async throws {
        let dir = TemporaryDirectory()
        let file = try await Self.makeStore(dir)
        let original = try Data(contentsOf: URL(fileURLWithPath: file))
        // The intact file loads.
        #expect(try await Self.searchAfterReopen(dir).indexed == 300)
        var random = SplitMix64Generator(seed: 19)
        for _ in 0..<40 {
            var damaged = original
            let offset = Int.random(in: 0..<damaged.count, using: &random)
            damaged[offset] ^= UInt8.random(in: 1...255, using: &random)
            try damaged.write(to: URL(fileURLWithPath: file))
            let (indexed, best) = try await Self.searchAfterReopen(dir)
            #expect(indexed == 0, "a flip at byte \(offset) went unnoticed")
            #expect(best == 123)
        }
    }

    @Test func layoutChecksRefuseHostileStructure() throws {
        let m = 4, stride = 64
        func parse(_ words: [UInt64], extra: [UInt8] = []) -> IndexFileLayout.Invalid? {
            // The twelve header words, then the four reserved ones.
            var bytes = (words + [0, 0, 0, 0]).withUnsafeBytes { Array($0) } + extra
            let sum = bytes.withUnsafeBytes { IndexFileLayout.checksum($0) }
            bytes += withUnsafeBytes(of: sum) { Array($0) } + withUnsafeBytes(of: IndexFileLayout.trailer) { Array($0) }
            do {
                _ = try bytes.withUnsafeBytes { try IndexFileLayout.parse($0, nodeStride: stride, m: m, expectedPrefix: nil) }
                return nil
            } catch {
                return error as? IndexFileLayout.Invalid ?? IndexFileLayout.Invalid(reason: "\(error)")
            }
        }
        let header: [UInt64] = [IndexFileLayout.magic, 1, 8, 0, 0, UInt64(m), 32, UInt64(stride)]
        #expect(parse(header + [0, UInt64(bitPattern: -1), UInt64(bitPattern: -1), 0]) == nil, "an empty graph is fine")
        #expect(parse(header + [1 << 63, 0, 0, 0])?.reason.contains("does not fit") == true)
        // One node whose layer-0 list points at node 5, which does not exist.
        var block = [UInt8](repeating: 0, count: stride)
        block[0] = 1
        block[4] = 5
        let node = block + [UInt8](repeating: 0, count: 8) + [UInt8](repeating: 0, count: 4)
        #expect(parse(header + [1, 0, 0, 0], extra: node)?.reason.contains("neighbour 5") == true)
        #expect(parse(header + [1, 70, 0, 0], extra: node)?.reason.contains("out of range") == true)
        var good = node
        good[4] = 0
        #expect(parse(header + [1, 0, 0, 0], extra: good) == nil)
    }

    @Test func randomDamageToTheDatabaseGivesErrorsNotSignals() async throws {
        let dir = TemporaryDirectory()
        _ = try await Self.makeStore(dir)
        let database = (dir.path as NSString).appendingPathComponent("loupe.sqlite")
        let original = try Data(contentsOf: URL(fileURLWithPath: database))
        var random = SplitMix64Generator(seed: 1911)
        var opened = 0, refused = 0
        for _ in 0..<40 {
            var damaged = original
            for _ in 0..<8 {
                let offset = Int.random(in: 100..<damaged.count, using: &random)
                damaged[offset] = UInt8.random(in: 0...255, using: &random)
            }
            try damaged.write(to: URL(fileURLWithPath: database))
            try? FileManager.default.removeItem(atPath: (dir.path as NSString).appendingPathComponent("index"))
            do {
                let client = try LoupeClient(path: dir.path)
                _ = try? await client.search("v", vectors: [Self.vector(1)], options: SearchOptions(limit: 3, outputFields: ["tag"]))
                _ = try? await client.query("v", filter: "tag == \"t1\"", outputFields: ["tag"])
                try? await client.close()
                opened += 1
            } catch {
                refused += 1
            }
        }
        #expect(opened + refused == 40)
    }
}

/// What the row-loader fuzzer found: a stored document must parse or throw, never trap.
@Suite struct StoredDocumentTests {
    @Test func aHighSurrogateFollowedByANonLowEscapeDoesNotTrap() throws {
        // The fuzzer's input: "\ud83d\u0ed0" made `low - 0xDC00` underflow.
        let value = try JSONText.decode(#"{"s": "\ud83d\u0ed0", "t": "\ud83d\n", "u": "\ud83d\ude00"}"#)
        #expect(value == ["s": .string("\u{FFFD}\u{0ED0}"), "t": .string("\u{FFFD}\n"), "u": .string("😀")])
        _ = try JSONText.decode(#"{"n": -1e708}"#)
    }
}
