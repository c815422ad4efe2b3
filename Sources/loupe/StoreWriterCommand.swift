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

    func run() async throws {
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

    /// The vector of row `id`: the test recomputes it to check what was stored.
    static func vector(id: Int64, dimension: Int) -> [Float] {
        (0..<dimension).map { j in Float(sin(Double(id) * 0.37 + Double(j) * 1.3)) }
    }
}
