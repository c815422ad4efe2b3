import ArgumentParser
import Foundation
import LoupeStore

struct StoreBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "store",
        abstract: "LoupeStore end to end on a make_vectors.py set: inserts, index build, plain and filtered search.",
        discussion: """
            Mirrors milvus_lite_peer.py: inserts every base vector in batches of 5,000 with `tag` = i % 10 and \
            `bucket` = i % 1000, builds the HNSW index, then runs single-thread searches unfiltered, with \
            `tag == 3` (10%) and with `bucket < 10` (1%), checking recall@10 against exact answers over the \
            matching rows. Ends with one line of key=value figures.
            """)

    @OptionGroup var hnsw: HNSWBenchOptions

    @Option(name: .long, help: "ef for the searches.")
    var ef = 256

    @Option(name: .long, help: "Queries per measurement.")
    var queries = 200

    @Flag(name: .long, help: "Stop after the inserts (to compare with milvus_lite_peer.py's insert line quickly).")
    var insertsOnly = false

    @Option(name: .long, help: "Database directory (default: a new temporary one, removed afterwards).")
    var database: String?

    func run() async throws {
        try await reportingErrors {
            let set = try BenchVectorSet(directory: hnsw.data)
            let dim = set.dimension
            let directory = database ?? (NSTemporaryDirectory() as NSString).appendingPathComponent("loupe-bench-\(UUID().uuidString)")
            defer { if database == nil { try? FileManager.default.removeItem(atPath: directory) } }
            let client = try LoupeClient(path: directory)
            try await client.createCollection("v", dimension: dim, metric: .cosine,
                                              index: hnsw.params)
            let clock = ContinuousClock()
            let base = set.base
            let insert = try await clock.measure {
                for start in stride(from: 0, to: set.count, by: 5000) {
                    let rows: [Row] = (start..<min(set.count, start + 5000)).map { j in
                        ["id": .int(Int64(j)), "vector": .vector(Array(base[j * dim..<(j + 1) * dim])),
                         "tag": .int(Int64(j % 10)), "bucket": .int(Int64(j % 1000))]
                    }
                    try await client.insert("v", rows)
                }
            }
            let insertPerSecond = Double(set.count) / insert.seconds
            print(String(format: "insert_per_s=%.0f insert_s=%.1f", insertPerSecond, insert.seconds))
            if insertsOnly { return }  // rows are durable already; skip the index build a close would do
            let build = try await clock.measure { try await client.flush() }
            print(String(format: "build_s=%.1f (index build and index file write)", build.seconds))
            let n = min(queries, set.queryCount)
            func measure(_ filter: String, _ matches: (Int) -> Bool) async throws -> (qps: Double, recall: Double) {
                var found: [[Int64]] = []
                let options = SearchOptions(limit: 10, filter: filter, ef: ef)
                _ = try await client.search("v", vectors: [set.query(0)], options: options)  // builds the filter bitset once
                let elapsed = try await clock.measure {
                    for q in 0..<n {
                        found.append(try await client.search("v", vectors: [set.query(q)], options: options)[0].compactMap { $0.id.intValue })
                    }
                }
                var hits = 0
                for q in 0..<n {
                    let truth = Set(exactTopTen(set, query: set.query(q), matches: matches))
                    hits += found[q].filter { truth.contains($0) }.count
                }
                return (Double(n) / elapsed.seconds, Double(hits) / Double(n * 10))
            }
            let plain = try await measure("") { _ in true }
            print(String(format: "unfiltered qps=%.0f recall=%.4f", plain.qps, plain.recall))
            let ten = try await measure("tag == 3") { $0 % 10 == 3 }
            print(String(format: "filter 10%% (tag == 3) qps=%.0f recall=%.4f", ten.qps, ten.recall))
            let one = try await measure("bucket < 10") { $0 % 1000 < 10 }
            print(String(format: "filter 1%% (bucket < 10) qps=%.0f recall=%.4f", one.qps, one.recall))
            let stats = try await client.stats("v")
            try await client.close()
            print(String(format: "insert_per_s=%.0f build_s=%.1f qps=%.0f recall=%.4f filtered10_qps=%.0f filtered10_recall=%.4f filtered1_qps=%.0f filtered1_recall=%.4f bytes_per_vector=%.0f",
                         insertPerSecond, build.seconds, plain.qps, plain.recall, ten.qps, ten.recall, one.qps, one.recall,
                         stats.indexBytesPerVector["vector"] ?? 0))
        }
    }

    /// Exact top-10 ids by cosine among rows that match (base and queries are unit length).
    func exactTopTen(_ set: BenchVectorSet, query: [Float], matches: (Int) -> Bool) -> [Int64] {
        let dim = set.dimension
        let base = set.base
        var best: [(Float, Int64)] = []
        for j in 0..<set.count where matches(j) {
            var s: Float = 0
            let row = base.baseAddress! + j * dim
            for k in 0..<dim { s += row[k] * query[k] }
            if best.count < 10 {
                best.append((s, Int64(j)))
                best.sort { $0.0 > $1.0 }
            } else if s > best[9].0 {
                best[9] = (s, Int64(j))
                best.sort { $0.0 > $1.0 }
            }
        }
        return best.map(\.1)
    }
}
