import ArgumentParser
import Foundation
import Loupe
import LoupeCLIP
import LoupeTensor

struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench", abstract: "Measure Loupe's speed.",
        subcommands: [CLIPBench.self, DecodeBench.self, VideoBench.self, ANNBench.self, StoreBench.self, IngestBench.self,
                      LibraryBench.self, SearchBench.self, TableBench.self])
}

struct CLIPBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "clip",
        abstract: "CLIP and SigLIP image throughput and text latency.",
        discussion: """
            Ends with the line `images_per_s=X text_ms=Y` (Y: one text query, median over repeats: CLIP's is a \
            10-word query, 12 tokens; SigLIP's is padded to its 64 positions, as its processor feeds every query). \
            For SigLIP, load_s includes building both towers (the seeded random weights are generated then: \
            SigLIP2-B-16's 256,000 x 768 token table alone is 786 MB).
            """)

    @Option(name: .long, help: "ViT-B-32, ViT-B-16, ViT-L-14, ViT-L-14-336 (CLIP), SigLIP-B-16 or SigLIP2-B-16.")
    var arch = "ViT-B-32"

    @Flag(name: .long, help: "Use seeded random weights (no download). Required for now.")
    var randomWeights = false

    @Option(name: .long, help: "Images per forward pass.")
    var batch = 32

    @Option(name: .long, help: "fp32, bf16 or int8.")
    var precision: Precision = .fp32

    @Option(name: .long, help: "Threads (default: all cores).")
    var threads: Int?

    @Option(name: .long, help: "Timed image batches (after one warm-up batch).")
    var repeats = 5

    @Option(name: .long, help: "Timed text queries.")
    var textRepeats = 50

    @Option(name: .long, help: ArgumentHelp(
        "Write the random-weight --arch as a loadable model folder to DIR and stop (to measure loading and memory at a real size).",
        valueName: "DIR"))
    var writeModel: String?

    @Option(name: .long, help: ArgumentHelp("With --write-model: copy the tokenizer files from this model folder.", valueName: "DIR"))
    var tokenizerFrom: String?

    func validate() throws {
        guard randomWeights else { throw ValidationError("pass --random-weights (benchmarks of downloaded models come later)") }
        guard batch >= 1, repeats >= 1, textRepeats >= 1 else { throw ValidationError("counts must be at least 1") }
        guard CLIPConfiguration.standard(arch) != nil || SiglipConfiguration.standard(arch) != nil else {
            throw ValidationError("unknown --arch '\(arch)' (ViT-B-32, ViT-B-16, ViT-L-14, ViT-L-14-336, "
                                      + SiglipConfiguration.standardNames.joined(separator: ", ") + ")")
        }
    }

    func run() async throws {
        try await reportingErrors {
            if let writeModel {
                let folder = URL(fileURLWithPath: writeModel), tokenizer = tokenizerFrom.map { URL(fileURLWithPath: $0) }
                if SiglipConfiguration.standard(arch) != nil {
                    try SiglipModel.writeRandomCheckpoint(architecture: arch, to: folder, tokenizerFrom: tokenizer)
                } else {
                    try CLIPModel.writeRandomCheckpoint(architecture: arch, to: folder, tokenizerFrom: tokenizer)
                }
                print("wrote \(writeModel) (\(arch), seeded random weights)")
                return
            }
            let clock = ContinuousClock()
            var model: BenchedModel!
            let load = try clock.measure { model = try BenchedModel(architecture: arch, precision: precision,
                                                                     threads: threads, batchSize: batch) }
            let side = model.imageSize
            var generator = SplitMix64(seed: 42)
            let pixels = (0..<(batch * 3 * side * side)).map { _ in Float(generator.nextUnit()) * 2 - 1 }
            _ = try model.embedPixels(pixels, batch)
            let images = try clock.measure {
                for _ in 0..<repeats { _ = try model.embedPixels(pixels, batch) }
            }
            let imagesPerSecond = Double(batch * repeats) / images.seconds

            let query = model.query(&generator)
            _ = try model.embedTokens([query])
            var latencies: [Double] = []
            for _ in 0..<textRepeats {
                latencies.append(try clock.measure { _ = try model.embedTokens([query]) }.seconds * 1000)
            }
            latencies.sort()
            let textMs = latencies[latencies.count / 2]

            print("arch=\(arch) precision=\(precision) batch=\(batch) threads=\(threads ?? TensorExecutor.defaultThreadCount)")
            print("load_s=\(String(format: "%.2f", load.seconds)) text_tokens=\(model.textTokens) kernels=\(model.kernelImplementations().joined(separator: ","))")
            print("text_ms_p10=\(String(format: "%.3f", latencies[latencies.count / 10])) text_ms_p90=\(String(format: "%.3f", latencies[latencies.count * 9 / 10]))")
            print("images_per_s=\(String(format: "%.2f", imagesPerSecond)) text_ms=\(String(format: "%.3f", textMs))")
            let rss = ProcessMemory.residentMB().map { String(format: "%.0f", $0) } ?? "n/a"
            print("rss_mb=\(rss) peak_rss_mb=\(String(format: "%.0f", ProcessMemory.peakResidentMB()))")
        }
    }
}

/// The model `loupe bench clip` measures: a CLIP or a SigLIP architecture with seeded random weights.
private struct BenchedModel {
    let imageSize: Int
    /// Tokens in the timed text query.
    let textTokens: Int
    let embedPixels: ([Float], Int) throws -> [[Float]]
    let embedTokens: ([[Int32]]) throws -> [[Float]]
    let kernelImplementations: () -> [String]
    private let makeQuery: (inout SplitMix64) -> [Int32]

    func query(_ generator: inout SplitMix64) -> [Int32] { makeQuery(&generator) }

    init(architecture: String, precision: Precision, threads: Int?, batchSize: Int) throws {
        if let configuration = SiglipConfiguration.standard(architecture) {
            let model = try SiglipModel.randomWeights(architecture: architecture, precision: precision, threads: threads,
                                                      batchSize: batchSize)
            try model.load()
            imageSize = configuration.vision.imageSize
            textTokens = configuration.text.maxPositions
            embedPixels = { try model.embed(pixelValues: $0, count: $1) }
            embedTokens = { try model.embed(tokens: $0) }
            kernelImplementations = { model.kernelImplementations }
            // SigLIP's processor pads every query to the 64 positions (`padding="max_length"`), so the whole
            // sequence always runs: ten word ids, the end token, then padding, as the peer script feeds it.
            let vocabulary = configuration.text.vocabularySize
            let pad = Int32(configuration.text.padTokenID)
            makeQuery = { generator in
                let words = (0..<10).map { _ in Int32(generator.next() % UInt64(vocabulary - 300)) + 300 }
                return words + [1] + [Int32](repeating: pad, count: configuration.text.maxPositions - 11)
            }
        } else {
            let model = try CLIPModel.randomWeights(architecture: architecture, precision: precision, threads: threads,
                                                    batchSize: batchSize)
            imageSize = model.configuration.vision.imageSize
            embedPixels = { try model.embed(pixelValues: $0, count: $1) }
            embedTokens = { try model.embed(tokens: $0) }
            kernelImplementations = { model.kernelImplementations }
            // "a photo of ..." with ten words: start token, ten word tokens, end token (as the peer script uses).
            textTokens = 12
            makeQuery = { generator in [49406] + (0..<10).map { _ in Int32(generator.next() % 49000) + 300 } + [49407] }
        }
    }
}

extension Duration {
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) * 1e-18 }
}
