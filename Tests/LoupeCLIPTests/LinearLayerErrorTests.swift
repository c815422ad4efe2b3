import Foundation
import LoupeTensor
import Testing
@testable import LoupeCLIP

/// Per-layer error of int8 against fp32: each linear layer of either tower fed the same fp32 rows.
@Suite("int8 per-layer error", .enabled(if: Precision.int8.isSupported, "int8 needs VNNI"))
struct LinearLayerErrorTests {
    static let models = ["clip-tiny", "clip-tiny-gelu", "models/shapes-clip"]

    /// A fixture model's folder, configuration and weights.
    static func load(_ name: String) throws -> (URL, CLIPConfiguration, CheckpointWeights) {
        let directory = Fixtures.directory.appendingPathComponent(name)
        let configuration = try CLIPConfiguration.load(from: directory.appendingPathComponent("config.json"))
        return (directory, configuration, try CheckpointWeights(directory: directory))
    }

    @Test("every int8 linear layer of the vision tower stays within 3% (relative) of fp32 on the fixture images",
          arguments: models)
    func visionLayers(name: String) throws {
        let (directory, configuration, weights) = try Self.load(name)
        let fp32 = try VisionTower(configuration: configuration.vision, projectionDim: configuration.projectionDim,
                                   weights: weights, precision: .fp32)
        let int8 = try VisionTower(configuration: configuration.vision, projectionDim: configuration.projectionDim,
                                   weights: weights, precision: .int8)
        let preprocessor = try CLIPModel(directory: directory).preprocessor
        let images = try ["images/square_224x224.ppm", "images/landscape_640x480.ppm"].map { try Fixtures.image($0) }
        let side = configuration.vision.imageSize
        var pixels = [Float](repeating: 0, count: images.count * 3 * side * side)
        pixels.withUnsafeMutableBufferPointer { buffer in
            for (slot, image) in images.enumerated() {
                preprocessor.preprocess(image, into: buffer.baseAddress! + slot * 3 * side * side)
            }
        }
        let executor = try TensorExecutor()
        executor.prepareThread()
        let errors = try pixels.withUnsafeBufferPointer { buffer in
            try fp32.linearLayerErrors(comparedWith: int8, pixels: buffer.baseAddress!, batch: images.count,
                                       executor: executor, workspace: EncoderWorkspace())
        }
        #expect(errors.count == 1 + 4 * configuration.vision.transformer.layers)
        for error in errors { #expect(error.relativeError < 0.03, "\(name) \(error)") }
        print("\(name) int8 per-layer relative error vs fp32 (vision tower): "
              + errors.map { "\($0.name) \(String(format: "%.4f", $0.relativeError))" }.joined(separator: ", "))
    }

    @Test("every int8 linear layer of the text tower stays within 3% (relative) of fp32 on a few queries",
          arguments: models)
    func textLayers(name: String) throws {
        let (directory, configuration, weights) = try Self.load(name)
        let fp32 = try TextTower(configuration: configuration.text, projectionDim: configuration.projectionDim,
                                 weights: weights, precision: .fp32)
        let int8 = try TextTower(configuration: configuration.text, projectionDim: configuration.projectionDim,
                                 weights: weights, precision: .int8)
        let model = try CLIPModel(directory: directory)
        let tokenizer = try #require(model.tokenizer)
        let tokens = tokenizer.encodeBatch(["a photo of a cat", "a red circle", "a golden watch on a wooden table"])
        let executor = try TensorExecutor()
        executor.prepareThread()
        let errors = try fp32.linearLayerErrors(comparedWith: int8, tokens: tokens, executor: executor,
                                                workspace: EncoderWorkspace())
        #expect(errors.count == 4 * configuration.text.transformer.layers)
        for error in errors { #expect(error.relativeError < 0.03, "\(name) \(error)") }
        print("\(name) int8 per-layer relative error vs fp32 (text tower): "
              + errors.map { "\($0.name) \(String(format: "%.4f", $0.relativeError))" }.joined(separator: ", "))
    }
}
