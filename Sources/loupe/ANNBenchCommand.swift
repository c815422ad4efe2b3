import ArgumentParser
import Foundation
import LoupeStore

struct ANNBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ann",
        abstract: "HNSW build time, single-thread QPS and recall@10 on a make_vectors.py data set.",
        discussion: """
            Reads base.f32, queries.f32, truth.i32 and meta.json from --data, builds the index on all cores, \
            then sweeps ef on one thread. Ends with `recall=R qps=Q build_s=B bytes_per_vector=M ef=E` for the \
            first ef reaching --target-recall. For bf16/int8, candidates are re-ranked with exact fp32 vectors \
            read from the memory-mapped base file; bytes_per_vector counts the index (links and codes) plus, \
            for bf16/int8, that fp32 copy (4 bytes a dimension), which a store keeps anyway.
            """)

    @OptionGroup var hnsw: HNSWBenchOptions

    @Option(name: .long, help: "Recall@10 to reach.")
    var targetRecall = 0.95

    @Option(name: .long, help: "Build threads (default: all cores).")
    var threads: Int = ProcessInfo.processInfo.activeProcessorCount

    @Option(name: .long, help: "For bf16/int8: re-rank this many of the ef candidates exactly, best first by their codes (0: all).")
    var rerank = 40

    @Option(name: .long, help: "Comma-separated ef values to sweep.")
    var efs = "10,16,24,32,48,64,96,128,192,256,320,384,512,768,1024"

    func validate() throws {
        guard threads >= 1 else { throw ValidationError("--threads must be positive") }
        guard rerank >= 0 else { throw ValidationError("--rerank must be 0 (all) or positive") }
    }

    func run() async throws {
        try await reportingErrors {
            let set = try BenchVectorSet(directory: hnsw.data)
            let efList = efs.split(separator: ",").compactMap { Int($0) }
            let index = VectorIndex(dimension: set.dimension, metric: .cosine,
                                    params: hnsw.params)
            nonisolated(unsafe) let base = set.base
            let dim = set.dimension
            index.exactVectors = { label in base.baseAddress! + Int(label) * dim }
            index.rerankCandidates = rerank == 0 ? nil : rerank
            let clock = ContinuousClock()
            let build = try clock.measure {
                try index.add(set.base, labels: (0..<Int64(set.count)).map { $0 }, threads: threads)
            }
            let buildSeconds = build.seconds
            print(String(format: "built %d x %d in %.1f s on %d threads (M=%d efC=%d storage=%@%@)", set.count, dim,
                         buildSeconds, threads, hnsw.m, hnsw.efConstruction, hnsw.storage,
                         hnsw.params.storage == .fp32 ? "" : ", re-ranking \(rerank == 0 ? "all" : "the best \(rerank)")"))
            let queries = (0..<set.queryCount).map(set.query)
            var reached: (recall: Double, qps: Double, ef: Int)?
            for ef in efList {
                var results: [[Int64]] = []
                results.reserveCapacity(set.queryCount)
                let elapsed = try clock.measure {
                    for query in queries { results.append(try index.search(query, k: 10, ef: ef).map(\.label)) }
                }
                var hits = 0
                for (q, found) in results.enumerated() {
                    let truth = set.truth(q, k: 10)
                    hits += found.filter { truth.contains(Int32($0)) }.count
                }
                let recall = Double(hits) / Double(set.queryCount * 10)
                let qps = Double(set.queryCount) / elapsed.seconds
                print(String(format: "ef=%d recall=%.4f qps=%.0f", ef, recall, qps))
                if recall >= targetRecall { reached = (recall, qps, ef); break }
            }
            guard let reached else {
                throw ValidationError("no ef in \(efs) reached recall \(targetRecall)")
            }
            let rerankBytes = hnsw.params.storage == .fp32 ? 0 : 4 * dim
            print(String(format: "bytes per vector: index %.0f (links and %@ codes) + fp32 re-ranking copy %d",
                         index.bytesPerVector, hnsw.storage, rerankBytes))
            print(String(format: "recall=%.4f qps=%.0f build_s=%.1f bytes_per_vector=%.0f ef=%d", reached.recall,
                         reached.qps, buildSeconds, index.bytesPerVector + Double(rerankBytes), reached.ef))
        }
    }
}

/// The files `make_vectors.py` writes: base and query vectors, exact top-100 ids, and their sizes.
struct BenchVectorSet {
    let count: Int
    let queryCount: Int
    let dimension: Int
    let truthK: Int
    let baseData: Data
    let queries: [Float]
    let truthIDs: [Int32]

    init(directory: String) throws {
        let url = URL(fileURLWithPath: directory)
        let metaURL = url.appendingPathComponent("meta.json")
        guard let meta = try JSONSerialization.jsonObject(with: Data(contentsOf: metaURL)) as? [String: Any],
              let n = meta["n"] as? Int, let q = meta["q"] as? Int, let dim = meta["dim"] as? Int
        else { throw ValidationError("\(metaURL.path): expected n, q and dim") }
        count = n
        queryCount = q
        dimension = dim
        truthK = meta["truth_k"] as? Int ?? 100
        baseData = try Data(contentsOf: url.appendingPathComponent("base.f32"), options: .alwaysMapped)
        guard baseData.count == n * dim * 4 else { throw ValidationError("base.f32: expected \(n * dim * 4) bytes, found \(baseData.count)") }
        let queryData = try Data(contentsOf: url.appendingPathComponent("queries.f32"))
        guard queryData.count == q * dim * 4 else { throw ValidationError("queries.f32: expected \(q * dim * 4) bytes") }
        queries = queryData.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
        let truthData = try Data(contentsOf: url.appendingPathComponent("truth.i32"))
        guard truthData.count == q * truthK * 4 else { throw ValidationError("truth.i32: expected \(q * truthK * 4) bytes") }
        truthIDs = truthData.withUnsafeBytes { Array($0.bindMemory(to: Int32.self)) }
    }

    /// The base vectors, row-major, straight from the mapped file.
    var base: UnsafeBufferPointer<Float> {
        baseData.withUnsafeBytes { UnsafeBufferPointer<Float>(start: $0.baseAddress!.assumingMemoryBound(to: Float.self), count: $0.count / 4) }
    }

    func query(_ i: Int) -> [Float] { Array(queries[i * dimension..<(i + 1) * dimension]) }

    func truth(_ i: Int, k: Int) -> Set<Int32> { Set(truthIDs[i * truthK..<i * truthK + k]) }
}

/// The data set and HNSW settings `loupe bench ann` and `loupe bench store` share.
struct HNSWBenchOptions: ParsableArguments {
    @Option(name: .long, help: "Directory written by make_vectors.py.")
    var data: String

    @Option(name: .long, help: "HNSW neighbours per node.")
    var m = 16

    @Option(name: .long, help: "HNSW candidate list size while building.")
    var efConstruction = 200

    @Option(name: .long, help: "fp32, bf16 or int8 traversal codes.")
    var storage: String = "fp32"

    func validate() throws {
        guard VectorStorage(rawValue: storage) != nil else { throw ValidationError("--storage must be fp32, bf16 or int8") }
        guard m >= 2, efConstruction >= 1 else { throw ValidationError("--m must be at least 2 and --ef-construction positive") }
    }

    var params: IndexParams {
        IndexParams(kind: .hnsw, m: m, efConstruction: efConstruction, storage: VectorStorage(rawValue: storage) ?? .fp32)
    }
}
