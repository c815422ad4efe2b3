import Foundation
import LoupeTensor
import Testing
@testable import LoupeCLIP

@Suite("CLIP model loading")
struct CLIPLoadingTests {
    /// A copy of a fixture model in a temporary directory, to break in one way per test.
    func copyOfModel(_ name: String) throws -> URL {
        let destination = FileManager.default.temporaryDirectory.appendingPathComponent("loupe-model-\(UUID().uuidString)")
        try FileManager.default.copyItem(at: Fixtures.model(name), to: destination)
        return destination
    }

    @Test("reads both towers' settings from config.json")
    func configuration() throws {
        let tiny = try CLIPConfiguration.load(from: Fixtures.model("clip-tiny").appendingPathComponent("config.json"))
        #expect(tiny.text.transformer.activation == .quickGelu)
        #expect(tiny.text.eosTokenID == 2)
        #expect(tiny.vision.patchSize == 32 && tiny.vision.imageSize == 224 && tiny.projectionDim == 24)
        let gelu = try CLIPConfiguration.load(from: Fixtures.model("clip-tiny-gelu").appendingPathComponent("config.json"))
        #expect(gelu.text.transformer.activation == .gelu)
        #expect(gelu.text.eosTokenID == 49407)
        #expect(gelu.vision.transformer.layerNormEpsilon == 1e-6)
    }

    @Test("legacy *_config_dict sections and missing keys fall back like transformers")
    func legacyConfig() throws {
        let json: [String: Any] = ["projection_dim": 512, "text_config_dict": ["hidden_act": "quick_gelu", "eos_token_id": 2],
                                   "vision_config_dict": ["patch_size": 16]]
        let config = try CLIPConfiguration(json: json, path: "config.json")
        #expect(config.text.transformer.hiddenSize == 512 && config.text.eosTokenID == 2)
        #expect(config.vision.patchSize == 16 && config.vision.transformer.hiddenSize == 768)
    }

    @Test("the standard architectures have the published shapes")
    func standardArchitectures() throws {
        let b32 = try #require(CLIPConfiguration.standard("ViT-B-32"))
        #expect(b32.vision.sequenceLength == 50 && b32.projectionDim == 512)
        let l14 = try #require(CLIPConfiguration.standard("ViT-L-14"))
        #expect(l14.vision.sequenceLength == 257 && l14.vision.transformer.layers == 24 && l14.projectionDim == 768)
        #expect(CLIPConfiguration.standard("ViT-H-99") == nil)
    }

    @Test("an unknown activation is named in the error")
    func unknownActivation() throws {
        let json: [String: Any] = ["text_config": ["hidden_act": "swiglu"]]
        let error = try #require(throws: CLIPError.self) { try CLIPConfiguration(json: json, path: "x/config.json") }
        #expect(error.code == .invalidConfig && error.description.contains("swiglu"))
    }

    @Test("a missing directory or weights file says what is missing")
    func missingFiles() throws {
        let absent = FileManager.default.temporaryDirectory.appendingPathComponent("no-such-model-\(UUID().uuidString)")
        let error = try #require(throws: CLIPError.self) { try CLIPModel(directory: absent) }
        #expect(error.code == .missingFile)

        let model = try copyOfModel("clip-tiny")
        try FileManager.default.removeItem(at: model.appendingPathComponent("model.safetensors"))
        let noWeights = try #require(throws: CLIPError.self) { try CLIPModel(directory: model) }
        #expect(noWeights.code == .missingFile && noWeights.description.contains("model.safetensors"))
    }

    @Test("weights that do not fit the config name the tensor and both shapes")
    func mismatchedWeights() throws {
        let model = try copyOfModel("clip-tiny")
        let configURL = model.appendingPathComponent("config.json")
        var json = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: configURL)) as? [String: Any])
        var text = try #require(json["text_config"] as? [String: Any])
        text["intermediate_size"] = 128
        json["text_config"] = text
        try JSONSerialization.data(withJSONObject: json).write(to: configURL)
        // The towers load at their first use (or `load`): the vision tower is fine, the text tower is not.
        let clip = try CLIPModel(directory: model)
        try clip.load([.vision])
        let error = try #require(throws: TensorError.self) { try clip.load() }
        #expect(clip.loadedTowers == [.vision])
        #expect(error.code == .shapeMismatch)
        #expect(error.tensor == "text_model.encoder.layers.0.mlp.fc1.weight")
        #expect(error.description.contains("expected shape [128, 32], found [64, 32]"))
    }

    @Test("each tower is read at its first use: text embeddings never load the vision tower, and the results do not change")
    func towersLoadWhenUsed() throws {
        let eager = try CLIPModel(directory: Fixtures.model("clip-tiny"))
        try eager.load()
        #expect(eager.loadedTowers == [.text, .vision])
        let lazy = try CLIPModel(directory: Fixtures.model("clip-tiny"))
        #expect(lazy.loadedTowers.isEmpty)
        let texts = ["a photo of a cat", "a golden watch"]
        #expect(try lazy.embed(texts: texts) == eager.embed(texts: texts))
        #expect(lazy.loadedTowers == [.text])
        let side = lazy.configuration.vision.imageSize
        let pixels = (0..<(2 * 3 * side * side)).map { Float(($0 * 7919) % 255) / 127.5 - 1 }
        #expect(try lazy.embed(pixelValues: pixels, count: 2) == eager.embed(pixelValues: pixels, count: 2))
        #expect(lazy.loadedTowers == [.text, .vision])
    }

    @Test("a truncated weights file is refused, not read past its end")
    func truncatedWeights() throws {
        let model = try copyOfModel("clip-tiny")
        let weights = model.appendingPathComponent("model.safetensors")
        let data = try Data(contentsOf: weights)
        try data.prefix(data.count / 2).write(to: weights)
        let error = try #require(throws: TensorError.self) { try CLIPModel(directory: model) }
        #expect(error.code == .corruptFile && error.path == weights.path)
    }
}
