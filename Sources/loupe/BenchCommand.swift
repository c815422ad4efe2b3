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
        abstract: "CLIP image throughput and text latency.",
        discussion: "Ends with the line `images_per_s=X text_ms=Y` (Y: one 10-word query, median over repeats).")

    @Option(name: .long, help: "ViT-B-32, ViT-B-16, ViT-L-14 or ViT-L-14-336.")
    var arch = "ViT-B-32"

    @Flag(name: .long, help: "Use seeded random weights (no download). Required for now.")
    var randomWeights = false

    @Option(name: .long, help: "Images per forward pass.")
    var batch = 32

    @Option(name: .long, help: "fp32 or bf16.")
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
    }

    func run() async throws {
        try await reportingErrors {
            if let writeModel {
                try CLIPModel.writeRandomCheckpoint(architecture: arch, to: URL(fileURLWithPath: writeModel),
                                                    tokenizerFrom: tokenizerFrom.map { URL(fileURLWithPath: $0) })
                print("wrote \(writeModel) (\(arch), seeded random weights)")
                return
            }
            let clock = ContinuousClock()
            var model: CLIPModel!
            let load = try clock.measure {
                model = try CLIPModel.randomWeights(architecture: arch, precision: precision, threads: threads,
                                                    batchSize: batch)
            }
            let side = model.configuration.vision.imageSize
            var generator = SplitMix64(seed: 42)
            let pixels = (0..<(batch * 3 * side * side)).map { _ in Float(generator.nextUnit()) * 2 - 1 }
            _ = try model.embed(pixelValues: pixels, count: batch)
            let images = try clock.measure {
                for _ in 0..<repeats { _ = try model.embed(pixelValues: pixels, count: batch) }
            }
            let imagesPerSecond = Double(batch * repeats) / images.seconds

            // "a photo of ..." with ten words: start token, ten word tokens, end token (as the peer script uses).
            let query: [Int32] = [49406] + (0..<10).map { _ in Int32(generator.next() % 49000) + 300 } + [49407]
            _ = try model.embed(tokens: [query])
            var latencies: [Double] = []
            for _ in 0..<textRepeats {
                latencies.append(try clock.measure { _ = try model.embed(tokens: [query]) }.seconds * 1000)
            }
            latencies.sort()
            let textMs = latencies[latencies.count / 2]

            print("arch=\(arch) precision=\(precision) batch=\(batch) threads=\(threads ?? TensorExecutor.defaultThreadCount)")
            print("load_s=\(String(format: "%.2f", load.seconds)) kernels=\(model.kernelImplementations.joined(separator: ","))")
            print("text_ms_p10=\(String(format: "%.3f", latencies[latencies.count / 10])) text_ms_p90=\(String(format: "%.3f", latencies[latencies.count * 9 / 10]))")
            print("images_per_s=\(String(format: "%.2f", imagesPerSecond)) text_ms=\(String(format: "%.3f", textMs))")
            let rss = ProcessMemory.residentMB().map { String(format: "%.0f", $0) } ?? "n/a"
            print("rss_mb=\(rss) peak_rss_mb=\(String(format: "%.0f", ProcessMemory.peakResidentMB()))")
        }
    }
}

extension Duration {
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) * 1e-18 }
}
