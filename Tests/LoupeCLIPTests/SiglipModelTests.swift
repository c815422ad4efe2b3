import Foundation
import LoupeCLIP
import LoupeTensor
import Testing

/// `Tests/Fixtures/siglip/siglip-reference.json`, made by `tools/make_siglip_model_fixtures.py`.
private enum SiglipReference {
    struct Text: Decodable {
        let text: String
        let ids: [Int32]
        let embedding: [Float]
    }

    struct Image: Decodable {
        let file: String
        let embedding: [Float]
        /// The same pixels as the PNG transformers read, in the PPM the tests decode.
        var ppm: String { String(file.dropLast(".png".count)) + ".ppm" }
    }

    struct Model: Decodable {
        let logit_scale: Float
        let logit_bias: Float
        let dimension: Int
        let texts: [Text]
        let images: [Image]
    }

    static let models: [String: Model] = {
        let url = Fixtures.directory.appendingPathComponent("siglip/siglip-reference.json")
        return try! JSONDecoder().decode([String: Model].self, from: Data(contentsOf: url))
    }()

    static func directory(_ name: String) -> URL { Fixtures.directory.appendingPathComponent("siglip/\(name)") }
}

@Suite("SiglipModel parity with transformers")
struct SiglipModelTests {
    static let modelNames = ["siglip-unigram", "siglip2-bpe"]

    @Test("fp32 text embeddings match transformers (cosine >= 0.9999) and texts tokenize to its ids", arguments: modelNames)
    func textParity(name: String) throws {
        let reference = try #require(SiglipReference.models[name])
        let model = try SiglipModel(directory: SiglipReference.directory(name))
        #expect(model.dimension == reference.dimension)
        let fromIDs = try model.embed(tokens: reference.texts.map(\.ids))
        let fromTexts = try model.embed(texts: reference.texts.map(\.text))
        for (index, expected) in reference.texts.enumerated() {
            let label = "\(name): '\(expected.text.prefix(40))'"
            #expect(cosine(fromIDs[index], expected.embedding) >= 0.9999, "\(label)")
            // The fixture's texts are close to one another; the element-wise bound is the sharper check.
            #expect(maxAbsDifference(fromIDs[index], expected.embedding) <= 1e-4, "\(label)")
            #expect(cosine(fromTexts[index], expected.embedding) >= 0.9999, "\(label)")
        }
    }

    @Test("fp32 image embeddings match transformers (cosine >= 0.999)", arguments: modelNames)
    func imageParity(name: String) throws {
        let reference = try #require(SiglipReference.models[name])
        let model = try SiglipModel(directory: SiglipReference.directory(name))
        let images = try reference.images.map { try Fixtures.image($0.ppm) }
        for (vector, expected) in zip(try model.embed(images: images), reference.images) {
            #expect(cosine(vector, expected.embedding) >= 0.999, "\(name): \(expected.file)")
            #expect(maxAbsDifference(vector, expected.embedding) <= 1e-4, "\(name): \(expected.file)")
            #expect(abs(vector.map { $0 * $0 }.reduce(0, +) - 1) < 1e-4)
        }
    }

    @Test("logit_scale and logit_bias come from the checkpoint", arguments: modelNames)
    func logitParameters(name: String) throws {
        let reference = try #require(SiglipReference.models[name])
        let model = try SiglipModel(directory: SiglipReference.directory(name))
        #expect(model.logitScale == reference.logit_scale)
        #expect(model.logitBias == reference.logit_bias)
        let expected = 1 / (1 + exp(-(exp(Double(reference.logit_scale)) * 0.5 + Double(reference.logit_bias))))
        #expect(abs(Double(model.matchProbability(cosine: 0.5)) - expected) < 1e-6)
    }

    @Test("bf16 embeddings stay within cosine 0.999 of fp32", .enabled(if: Precision.bf16.isSupported, "bf16 needs AVX-512"),
          arguments: modelNames)
    func bf16MatchesFP32(name: String) throws {
        let reference = try #require(SiglipReference.models[name])
        let fp32 = try SiglipModel(directory: SiglipReference.directory(name))
        let bf16 = try SiglipModel(directory: SiglipReference.directory(name), precision: .bf16)
        let ids = reference.texts.map(\.ids)
        for (a, b) in zip(try fp32.embed(tokens: ids), try bf16.embed(tokens: ids)) {
            #expect(cosine(a, b) >= 0.999)
        }
        let images = try reference.images.map { try Fixtures.image($0.ppm) }
        for (a, b) in zip(try fp32.embed(images: images), try bf16.embed(images: images)) {
            #expect(cosine(a, b) >= 0.999)
        }
    }

    @Test("int8 embeddings stay within cosine 0.99 of fp32, images and texts",
          .enabled(if: Precision.int8.isSupported, "int8 needs VNNI"), arguments: modelNames)
    func int8MatchesFP32(name: String) throws {
        let reference = try #require(SiglipReference.models[name])
        let fp32 = try SiglipModel(directory: SiglipReference.directory(name))
        let int8 = try SiglipModel(directory: SiglipReference.directory(name), precision: .int8)
        let ids = reference.texts.map(\.ids)
        let texts = zip(try fp32.embed(tokens: ids), try int8.embed(tokens: ids)).map { cosine($0, $1) }
        let images = try reference.images.map { try Fixtures.image($0.ppm) }
        let pictures = zip(try fp32.embed(images: images), try int8.embed(images: images)).map { cosine($0, $1) }
        for (index, value) in texts.enumerated() { #expect(value >= 0.99, "\(name): text \(index) cosine \(value)") }
        for (index, value) in pictures.enumerated() { #expect(value >= 0.99, "\(name): image \(index) cosine \(value)") }
        print("\(name) int8 vs fp32: mean cosine texts \(texts.reduce(0, +) / Double(texts.count)), "
              + "images \(pictures.reduce(0, +) / Double(pictures.count))")
    }

    @Test("batches of mixed lengths give each text the embedding it has alone")
    func mixedLengths() throws {
        let model = try SiglipModel(directory: SiglipReference.directory("siglip-unigram"), batchSize: 2)
        let sequences: [[Int32]] = [[4, 84, 6, 1], [4, 84, 1], [4, 84, 6, 59, 3, 1], [7, 1]]
        let together = try model.embed(tokens: sequences)
        for (index, ids) in sequences.enumerated() {
            let alone = try model.embed(tokens: [ids])[0]
            #expect(cosine(alone, together[index]) >= 0.99999)
        }
    }

    @Test("concurrent calls from several tasks give the same vectors as serial calls")
    func concurrentEmbedding() async throws {
        let reference = try #require(SiglipReference.models["siglip2-bpe"])
        let model = try SiglipModel(directory: SiglipReference.directory("siglip2-bpe"), threads: 1)
        let images = try reference.images.map { try Fixtures.image($0.ppm) }
        let ids = reference.texts.map(\.ids)
        let serialText = try model.embed(tokens: ids)
        let serialImages = try model.embed(images: images)
        try await withThrowingTaskGroup(of: ([[Float]], [[Float]]).self) { group in
            for _ in 0..<4 {
                group.addTask { (try model.embed(tokens: ids), try model.embed(images: images)) }
            }
            for try await (text, pictures) in group {
                #expect(text == serialText)
                #expect(pictures == serialImages)
            }
        }
    }

    @Test("a folder missing a file is a clear error naming it")
    func missingFiles() throws {
        let source = SiglipReference.directory("siglip-unigram")
        for (missing, mentions) in [("preprocessor_config.json", "preprocessor_config.json"),
                                    ("spiece.model", "spiece.model or tokenizer.json"),
                                    ("model.safetensors", "model.safetensors")] {
            let copy = FileManager.default.temporaryDirectory.appendingPathComponent("siglip-copy-\(UUID().uuidString)")
            try FileManager.default.copyItem(at: source, to: copy)
            defer { try? FileManager.default.removeItem(at: copy) }
            try FileManager.default.removeItem(at: copy.appendingPathComponent(missing))
            let error = try #require(throws: CLIPError.self) { _ = try SiglipModel(directory: copy) }
            #expect(error.code == .missingFile)
            #expect(error.message.contains(mentions), "\(error)")
        }
        let nowhere = try #require(throws: CLIPError.self) {
            _ = try SiglipModel(directory: URL(fileURLWithPath: "/nonexistent/siglip"))
        }
        #expect(nowhere.path == "/nonexistent/siglip")
    }

    @Test("bad token input is refused with a clear error")
    func badTokens() throws {
        let model = try SiglipModel(directory: SiglipReference.directory("siglip-unigram"))
        let tooLong = try #require(throws: CLIPError.self) { _ = try model.embed(tokens: [[Int32](repeating: 1, count: 65)]) }
        #expect(tooLong.message.contains("at most 64"))
        let outside = try #require(throws: CLIPError.self) { _ = try model.embed(tokens: [[1], [100_000]]) }
        #expect(outside.message.contains("sequence 1") && outside.message.contains("100000"))
    }
}

@Suite("SigLIP configuration and model kind detection")
struct SiglipConfigurationTests {
    private func writeConfig(_ json: String) throws -> URL {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("siglip-config-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        try Data(json.utf8).write(to: directory.appendingPathComponent("config.json"))
        return directory
    }

    @Test("the fixture config reads with transformers' defaults for absent keys")
    func readsFixture() throws {
        let configuration = try SiglipConfiguration.load(
            from: SiglipReference.directory("siglip-unigram").appendingPathComponent("config.json"))
        #expect(configuration.vision.sequenceLength == 16)
        #expect(configuration.vision.transformer.activation == .geluTanh)
        #expect(configuration.text.transformer.layerNormEpsilon == 1e-6)
        #expect(configuration.text.maxPositions == 64)
        #expect(configuration.dimension == 32)

        let defaults = try SiglipConfiguration.load(from: try writeConfig(#"{"model_type": "siglip"}"#)
            .appendingPathComponent("config.json"))
        #expect(defaults.vision.imageSize == 224 && defaults.vision.patchSize == 16)
        #expect(defaults.text.vocabularySize == 32000 && defaults.text.projectionSize == 768)
        #expect(defaults.vision.transformer.activation == .geluTanh)

        // so400m-patch14-384: 384 is not a multiple of 14; the grid is 27x27.
        let so400m = try SiglipConfiguration.load(from: try writeConfig(
            #"{"model_type": "siglip", "vision_config": {"image_size": 384, "patch_size": 14}}"#)
            .appendingPathComponent("config.json"))
        #expect(so400m.vision.sequenceLength == 729)
    }

    @Test("a bad field is a clear error naming it", arguments: [
        (#"{"model_type": "siglip", "vision_config": {"hidden_act": "swish"}}"#, "vision_config.hidden_act"),
        (#"{"model_type": "siglip", "text_config": {"hidden_size": "wide"}}"#, "text_config.hidden_size"),
        (#"{"model_type": "siglip", "vision_config": {"image_size": 8, "patch_size": 16}}"#, "smaller than patch_size"),
        (#"{"model_type": "siglip", "text_config": {"layer_norm_eps": "small"}}"#, "text_config.layer_norm_eps"),
        (#"{"model_type": "siglip", "text_config": {"projection_size": 512}}"#, "projection_size 512"),
        (#"{"model_type": "siglip", "vision_config": {"vision_use_head": false}}"#, "vision_use_head"),
        (#"{"model_type": "siglip", "vision_config": [1, 2]}"#, "vision_config is not a JSON object"),
        (#"{"model_type": "siglip2"}"#, "NaFlex"),
    ])
    func badField(json: String, mentions: String) throws {
        let url = try writeConfig(json).appendingPathComponent("config.json")
        let error = try #require(throws: CLIPError.self) { _ = try SiglipConfiguration.load(from: url) }
        #expect(error.code == .invalidConfig)
        #expect(error.message.contains(mentions), "\(error)")
        #expect(error.path == url.path)
    }

    @Test("model kinds are told apart by model_type")
    func detection() throws {
        #expect(try ImageTextModelKind.detect(directory: Fixtures.model("clip-tiny")) == .clip)
        #expect(try ImageTextModelKind.detect(directory: SiglipReference.directory("siglip-unigram")) == .siglip)
        #expect(try ImageTextModelKind.detect(directory: SiglipReference.directory("siglip2-bpe")) == .siglip)
        #expect(try ImageTextModelKind.detect(directory: try writeConfig("{}")) == .clip)
        let unknown = try #require(throws: CLIPError.self) {
            _ = try ImageTextModelKind.detect(directory: try writeConfig(#"{"model_type": "blip"}"#))
        }
        #expect(unknown.message.contains("'blip'"))
        // A SigLIP checkpoint handed to CLIPModel says what it is.
        let misuse = try #require(throws: CLIPError.self) {
            _ = try CLIPModel(directory: SiglipReference.directory("siglip-unigram"))
        }
        #expect(misuse.message.contains("SiglipModel"))
    }
}

/// The random-weight benchmark architectures carry the published base-patch16-224 shapes.
@Test func siglipStandardArchitecturesHaveThePublishedShapes() throws {
    let siglip2 = try #require(SiglipConfiguration.standard("siglip2-b-16"))
    #expect(siglip2.text.vocabularySize == 256_000)
    #expect(siglip2.text.maxPositions == 64)
    #expect(siglip2.dimension == 768)
    #expect(siglip2.vision.sequenceLength == 196)
    for tower in [siglip2.text.transformer, siglip2.vision.transformer] {
        #expect(tower.hiddenSize == 768 && tower.intermediateSize == 3072 && tower.layers == 12 && tower.attentionHeads == 12)
        #expect(tower.activation == .geluTanh && tower.layerNormEpsilon == 1e-6)
    }
    let siglip = try #require(SiglipConfiguration.standard("SigLIP-B-16"))
    #expect(siglip.text.vocabularySize == 32000)
    #expect(siglip.vision == siglip2.vision)
    #expect(SiglipConfiguration.standard("ViT-B-32") == nil)
    #expect(throws: CLIPError.self) { try SiglipModel.randomWeights(architecture: "SigLIP-L-14") }
}
