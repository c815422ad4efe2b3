import ArgumentParser
import Foundation
import Loupe
import LoupeCLIP
import LoupeTensor

struct IngestBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ingest",
        abstract: "End-to-end indexing throughput of a folder (decode, embed, store) against the encoder alone.",
        discussion: """
            Indexes DIR into a fresh temporary database with the standard architecture and random weights, then \
            times the encoder alone on as many images. Ends with `ingest_images_per_s=X encoder_images_per_s=Y \
            ratio=Z`. tools/ingest_peer.py runs the seed tutorial's pipeline (Pillow, PyTorch CLIP, Milvus Lite) \
            on the same folder.
            """)

    @Option(name: .long, help: "A folder of pictures.")
    var dir: String

    @Option(name: .long, help: "ViT-B-32, ViT-B-16, ViT-L-14.")
    var arch = "ViT-B-32"

    @Flag(name: .long, help: "Use seeded random weights (required for now).")
    var randomWeights = false

    @Option(name: .long, help: "fp32, bf16 or int8.")
    var precision: Precision = .fp32

    @Option(name: .long, help: "Images per batch.")
    var batch = 32

    @Flag(name: .long, help: "Index the folder once into a throwaway library first, so ingest, like the encoder, is timed warm (oneDNN primitives and workspaces made, file pages cached).")
    var warm = false

    func validate() throws {
        guard randomWeights else { throw ValidationError("pass --random-weights") }
    }

    func run() async throws {
        try await reportingErrors {
            let model = try CLIPModel.randomWeights(architecture: arch, precision: precision, batchSize: batch)
            let embedder = CLIPEmbedder(model: model, name: "\(arch)-random")
            let data = FileManager.default.temporaryDirectory.appendingPathComponent("loupe-ingest-\(UUID().uuidString)")
            defer { try? FileManager.default.removeItem(at: data) }
            var configuration = MediaLibrary.Configuration()
            configuration.batchSize = batch
            if warm {
                let scratch = data.appendingPathExtension("warm-up")
                defer { try? FileManager.default.removeItem(at: scratch) }
                _ = try await MediaLibrary.open(at: scratch, embedder: embedder, configuration: configuration).index([dir])
            }
            let library = try await MediaLibrary.open(at: data, embedder: embedder, configuration: configuration)
            let report = try await library.index([dir])
            guard report.embedded > 0 else { throw ValidationError("no pictures were indexed from \(dir)") }
            let ingestRate = Double(report.embedded) / report.elapsed.seconds

            // The encoder alone, on the same number of already preprocessed images.
            let side = model.configuration.vision.imageSize
            var generator = SplitMix64(seed: 1)
            let pixels = (0..<(batch * 3 * side * side)).map { _ in Float(generator.nextUnit()) * 2 - 1 }
            _ = try model.embed(pixelValues: pixels, count: batch)
            let rounds = max(1, report.embedded / batch)
            let encoder = try ContinuousClock().measure {
                for _ in 0..<rounds { _ = try model.embed(pixelValues: pixels, count: batch) }
            }
            let encoderRate = Double(rounds * batch) / encoder.seconds
            print("files=\(report.scanned) embedded=\(report.embedded) failures=\(report.failures.count) elapsed_s=\(String(format: "%.2f", report.elapsed.seconds))")
            print(String(format: "ingest_images_per_s=%.2f encoder_images_per_s=%.2f ratio=%.3f", ingestRate, encoderRate,
                         ingestRate / encoderRate))
        }
    }
}
