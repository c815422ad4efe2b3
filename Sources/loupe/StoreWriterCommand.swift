import ArgumentParser
import Foundation
import LoupeStore

/// A writer for LoupeStore's crash test: inserts and deletes forever, printing each acknowledged write.
///
/// `I <id>` means an insert of that id returned; `T <id>` that a delete is about to start; `D <id>` that it returned. The test kills this process with
/// SIGKILL at random points and checks, after reopening, that every acknowledged write is there.
/// Hidden: it is a test fixture, not a user command.
struct StoreWriterCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "store-crash-writer", abstract: "Test fixture: write to a store until killed.",
        shouldDisplay: false)

    @Option(name: .long, help: "Database directory.")
    var data: String

    @Option(name: .long, help: "Dimension of the test vectors.")
    var dimension = 8

    @Flag(name: .long, help: "Replace whole groups of rows in one write, forever (collection 'swap').")
    var replacing = false

    func run() async throws {
        if replacing { return try await replaceForever() }
        try await reportingErrors {
            let client = try LoupeClient(path: data)
            if await !client.hasCollection("crash") {
                try await client.createCollection("crash", dimension: dimension, metric: .l2,
                                                  index: IndexParams(kind: .hnsw, m: 8, efConstruction: 40))
            }
            let last = try await client.query("crash", outputFields: ["id"]).compactMap { $0["id"]?.intValue }.max() ?? 0
            var next = last + 1
            var step = 0
            // Unbuffered: a line is on the pipe the moment the write it reports has returned.
            func acknowledge(_ line: String) { FileHandle.standardOutput.write(Data((line + "\n").utf8)) }
            acknowledge("READY \(getpid())")
            while true {
                step += 1
                let batch = Int64(1 + step % 4)
                let rows: [Row] = (next..<next + batch).map { id in
                    ["id": .int(id), "vector": .vector(Self.vector(id: id, dimension: dimension)), "step": .int(Int64(step))]
                }
                try await client.insert("crash", rows)
                for id in next..<next + batch { acknowledge("I \(id)") }
                next += batch
                if step % 5 == 0 {
                    let victim = next - 3
                    acknowledge("T \(victim)")  // intent: after a kill here the row may or may not be gone
                    try await client.delete("crash", ids: [.int(victim)])
                    acknowledge("D \(victim)")
                }
                if step % 40 == 0 { try await client.flush() }
            }
        }
    }

    /// Collection `swap` holds 10 groups of 5 rows; each step replaces one group's rows with 5 new ones in
    /// one `replace`. Killed at any point, every group must still have exactly 5 rows (old or new).
    private func replaceForever() async throws {
        try await reportingErrors {
            let client = try LoupeClient(path: data)
            var next: Int64 = 1
            if await !client.hasCollection("swap") {
                try await client.createCollection("swap", dimension: dimension, index: IndexParams(kind: .hnsw, m: 8, efConstruction: 40))
                for group in 0..<Self.groups {
                    try await client.insert("swap", (0..<Self.groupSize).map { _ in
                        defer { next += 1 }
                        return ["id": .int(next), "vector": .vector(Self.vector(id: next, dimension: dimension)), "group": .int(Int64(group))]
                    })
                }
            }
            next = (try await client.query("swap", outputFields: ["id"]).compactMap { $0["id"]?.intValue }.max() ?? 0) + 1
            FileHandle.standardOutput.write(Data("READY \(getpid())\n".utf8))
            var step = 0
            while true {
                let group = Int64(step % Self.groups)
                let rows: [Row] = (0..<Self.groupSize).map { _ in
                    defer { next += 1 }
                    return ["id": .int(next), "vector": .vector(Self.vector(id: next, dimension: dimension)), "group": .int(group)]
                }
                try await client.replace("swap", matching: .equals("group", .int(group)), with: rows)
                step += 1
                if step == 3 { FileHandle.standardOutput.write(Data("REPLACING\n".utf8)) }
            }
        }
    }

    static let groups = 10
    static let groupSize = 5

    /// The vector of row `id`: the test recomputes it to check what was stored.
    static func vector(id: Int64, dimension: Int) -> [Float] {
        (0..<dimension).map { j in Float(sin(Double(id) * 0.37 + Double(j) * 1.3)) }
    }
}
