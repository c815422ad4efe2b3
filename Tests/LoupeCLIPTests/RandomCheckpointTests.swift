import Foundation
import LoupeTensor
import Testing
@testable import LoupeCLIP

/// `writeRandomCheckpoint` writes folders that load as real checkpoints and reproduce the in-memory random
/// models exactly (the fixtures' shapes stand in for the published ones, which are hundreds of MB).
@Suite("Random-weight checkpoints on disk")
struct RandomCheckpointTests {
    func scratch() -> URL {
        FileManager.default.temporaryDirectory.appendingPathComponent("loupe-random-checkpoint-\(UUID().uuidString)")
    }

    func maxDifference(_ a: [[Float]], _ b: [[Float]]) -> Float {
        zip(a, b).map { zip($0, $1).map { abs($0 - $1) }.max() ?? .infinity }.max() ?? .infinity
    }

    @Test("a SigLIP checkpoint loads with its config, the copied tokenizer and the same weights")
    func siglip() throws {
        let source = Fixtures.directory.appendingPathComponent("siglip/siglip2-bpe")
        let configuration = try SiglipConfiguration.load(from: source.appendingPathComponent("config.json"))
        let folder = scratch()
        defer { try? FileManager.default.removeItem(at: folder) }
        try SiglipModel.writeRandomCheckpoint(configuration, to: folder, tokenizerFrom: source)

        #expect(try SiglipConfiguration.load(from: folder.appendingPathComponent("config.json")) == configuration)
        #expect(try ImageTextModelKind.detect(directory: folder) == .siglip)
        let loaded = try SiglipModel(directory: folder)
        let side = configuration.vision.imageSize
        let processing = SiglipModel.squarePreprocessing(side: side)
        let inMemory = try SiglipModel(configuration: configuration, weights: RandomWeights(), tokenizer: nil,
                                       preprocessor: try ImagePreprocessor(config: processing), precision: .fp32,
                                       threads: nil, batchSize: 4, name: "in memory")
        #expect(loaded.logitScale == inMemory.logitScale && loaded.logitBias == inMemory.logitBias)

        let tokenizer = try #require(loaded.tokenizer)
        let tokens = ["a golden watch", "jam tangan emas"].map { tokenizer.encode($0, length: configuration.text.maxPositions) }
        #expect(maxDifference(try loaded.embed(tokens: tokens), try inMemory.embed(tokens: tokens)) == 0)
        #expect(try loaded.embed(texts: ["a golden watch", "jam tangan emas"]) == (try loaded.embed(tokens: tokens)))
        let pixels = (0..<(2 * 3 * side * side)).map { Float(($0 * 7919) % 255) / 127.5 - 1 }
        #expect(maxDifference(try loaded.embed(pixelValues: pixels, count: 2), try inMemory.embed(pixelValues: pixels, count: 2)) == 0)
    }

    @Test("a CLIP checkpoint loads with its config, the copied tokenizer and the same weights")
    func clip() throws {
        let source = Fixtures.model("clip-tiny")
        let configuration = try CLIPConfiguration.load(from: source.appendingPathComponent("config.json"))
        let folder = scratch()
        defer { try? FileManager.default.removeItem(at: folder) }
        try CLIPModel.writeRandomCheckpoint(configuration, to: folder, tokenizerFrom: source)

        #expect(try ImageTextModelKind.detect(directory: folder) == .clip)
        let loaded = try CLIPModel(directory: folder)
        #expect(loaded.configuration == configuration)
        let side = configuration.vision.imageSize
        var processing = PreprocessorConfig()
        processing.size = .shortestEdge(side)
        processing.cropSize = .init(height: side, width: side)
        let inMemory = try CLIPModel(configuration: configuration, weights: RandomWeights(), tokenizer: nil,
                                     preprocessor: try ImagePreprocessor(config: processing), precision: .fp32,
                                     threads: nil, batchSize: 4, name: "in memory")
        let tokens: [[Int32]] = [[49406, 320, 1929, 49407], [49406, 589, 49407]]
        #expect(maxDifference(try loaded.embed(tokens: tokens), try inMemory.embed(tokens: tokens)) == 0)
        let pixels = (0..<(2 * 3 * side * side)).map { Float(($0 * 7919) % 255) / 127.5 - 1 }
        #expect(maxDifference(try loaded.embed(pixelValues: pixels, count: 2), try inMemory.embed(pixelValues: pixels, count: 2)) == 0)
        #expect(try loaded.embed(texts: ["a golden watch"]).first?.count == configuration.projectionDim)
    }

    @Test("random weights are the same in every process: they do not depend on Swift's seeded hashing")
    func deterministicWeights() throws {
        // String.hashValue is seeded anew in each process; these values, from an earlier run, would change.
        let values = try RandomWeights().floats("text_model.embeddings.token_embedding.weight", shape: [2, 2])
        #expect(values.map(\.bitPattern) == [3_180_521_145, 1_021_434_323, 3_194_596_945, 3_206_046_951])
    }
}
