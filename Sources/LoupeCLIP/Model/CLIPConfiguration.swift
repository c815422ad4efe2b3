import Foundation
import LoupeTensor

/// The shape of one transformer tower, read from a Hugging Face `config.json`.
public struct TransformerConfiguration: Sendable, Equatable {
    public var hiddenSize: Int
    public var intermediateSize: Int
    public var attentionHeads: Int
    public var layers: Int
    public var activation: Activation
    public var layerNormEpsilon: Float
}

/// Settings of the text tower beyond its transformer shape.
public struct TextConfiguration: Sendable, Equatable {
    public var transformer: TransformerConfiguration
    public var vocabularySize: Int
    public var maxPositions: Int
    /// Hugging Face's rule: with `eosTokenID == 2` (OpenAI's configs) the pooled token is the argmax of
    /// the ids; otherwise it is the first occurrence of `eosTokenID`.
    public var eosTokenID: Int
    public var bosTokenID: Int
    public var padTokenID: Int
}

/// Settings of the vision tower beyond its transformer shape.
public struct VisionConfiguration: Sendable, Equatable {
    public var transformer: TransformerConfiguration
    public var imageSize: Int
    public var patchSize: Int
    public var channels: Int
    public var patchesPerSide: Int { imageSize / patchSize }
    public var sequenceLength: Int { patchesPerSide * patchesPerSide + 1 }
}

/// A CLIP model's architecture: both towers and the shared embedding size.
public struct CLIPConfiguration: Sendable, Equatable {
    public var text: TextConfiguration
    public var vision: VisionConfiguration
    public var projectionDim: Int

    /// Reads `config.json` of a Hugging Face CLIP checkpoint, with the library's defaults for absent keys
    /// (older checkpoints keep the towers under `text_config_dict` / `vision_config_dict`).
    public static func load(from url: URL) throws -> CLIPConfiguration {
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw CLIPError(.missingFile, "cannot read the model configuration", path: url.path)
        }
        guard let root = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else {
            throw CLIPError(.invalidConfig, "not a JSON object", path: url.path)
        }
        return try CLIPConfiguration(json: root, path: url.path)
    }

    init(json root: [String: Any], path: String) throws {
        if let type = root["model_type"] as? String, type.hasPrefix("siglip") {
            throw CLIPError(.invalidConfig, "model_type is '\(type)', a SigLIP checkpoint: load it with SiglipModel", path: path)
        }
        func section(_ name: String) -> [String: Any] {
            let primary = root[name] as? [String: Any] ?? [:]
            let legacy = root[name + "_dict"] as? [String: Any] ?? [:]
            return legacy.merging(primary) { _, new in new }
        }
        let textJSON = section("text_config")
        let visionJSON = section("vision_config")
        let reader = ConfigReader(path: path)
        let textTransformer = try reader.transformer(
            textJSON, prefix: "text_config", defaults: (512, 2048, 8, 12))
        let visionTransformer = try reader.transformer(
            visionJSON, prefix: "vision_config", defaults: (768, 3072, 12, 12))
        text = TextConfiguration(
            transformer: textTransformer,
            vocabularySize: try reader.int(textJSON, "vocab_size", "text_config", default: 49408),
            maxPositions: try reader.int(textJSON, "max_position_embeddings", "text_config", default: 77),
            eosTokenID: try reader.int(textJSON, "eos_token_id", "text_config", default: 49407),
            bosTokenID: try reader.int(textJSON, "bos_token_id", "text_config", default: 49406),
            padTokenID: try reader.int(textJSON, "pad_token_id", "text_config", default: 1))
        vision = VisionConfiguration(
            transformer: visionTransformer,
            imageSize: try reader.int(visionJSON, "image_size", "vision_config", default: 224),
            patchSize: try reader.int(visionJSON, "patch_size", "vision_config", default: 32),
            channels: try reader.int(visionJSON, "num_channels", "vision_config", default: 3))
        projectionDim = try reader.int(root, "projection_dim", "", default: 512)
        guard vision.imageSize % vision.patchSize == 0 else {
            throw CLIPError(.invalidConfig, "image_size \(vision.imageSize) is not a multiple of patch_size \(vision.patchSize)",
                            path: path)
        }
        guard vision.channels == 3 else {
            throw CLIPError(.invalidConfig, "num_channels is \(vision.channels); only RGB (3) models are supported", path: path)
        }
    }

    /// The standard OpenAI architectures, for random-weight benchmarks.
    public static func standard(_ name: String) -> CLIPConfiguration? {
        func tower(_ width: Int, _ layers: Int, _ heads: Int) -> TransformerConfiguration {
            TransformerConfiguration(hiddenSize: width, intermediateSize: 4 * width, attentionHeads: heads, layers: layers,
                                     activation: .quickGelu, layerNormEpsilon: 1e-5)
        }
        func make(vision: TransformerConfiguration, patch: Int, image: Int, text: TransformerConfiguration, projection: Int)
            -> CLIPConfiguration
        {
            CLIPConfiguration(
                text: TextConfiguration(transformer: text, vocabularySize: 49408, maxPositions: 77, eosTokenID: 2,
                                        bosTokenID: 0, padTokenID: 1),
                vision: VisionConfiguration(transformer: vision, imageSize: image, patchSize: patch, channels: 3),
                projectionDim: projection)
        }
        switch name.uppercased() {
        case "VIT-B-32": return make(vision: tower(768, 12, 12), patch: 32, image: 224, text: tower(512, 12, 8), projection: 512)
        case "VIT-B-16": return make(vision: tower(768, 12, 12), patch: 16, image: 224, text: tower(512, 12, 8), projection: 512)
        case "VIT-L-14": return make(vision: tower(1024, 24, 16), patch: 14, image: 224, text: tower(768, 12, 12), projection: 768)
        case "VIT-L-14-336":
            return make(vision: tower(1024, 24, 16), patch: 14, image: 336, text: tower(768, 12, 12), projection: 768)
        default: return nil
        }
    }

    public init(text: TextConfiguration, vision: VisionConfiguration, projectionDim: Int) {
        self.text = text
        self.vision = vision
        self.projectionDim = projectionDim
    }
}

/// Typed access to a JSON dictionary with errors naming the key and the file.
struct ConfigReader {
    let path: String

    func int(_ json: [String: Any], _ key: String, _ section: String, default value: Int) throws -> Int {
        guard let raw = json[key], !(raw is NSNull) else { return value }
        guard let number = raw as? NSNumber, number.doubleValue == number.doubleValue.rounded(), number.intValue >= 0 else {
            throw CLIPError(.invalidConfig, "\(section.isEmpty ? "" : section + ".")\(key) is \(raw), expected a non-negative integer",
                            path: path)
        }
        return number.intValue
    }

    /// A tower's transformer shape; `defaults` are (hidden, intermediate, heads, layers).
    func transformer(
        _ json: [String: Any], prefix: String, defaults: (Int, Int, Int, Int), activation defaultActivation: String = "quick_gelu",
        layerNormEpsilon defaultEpsilon: Float = 1e-5
    ) throws -> TransformerConfiguration {
        let hidden = try int(json, "hidden_size", prefix, default: defaults.0)
        let heads = try int(json, "num_attention_heads", prefix, default: defaults.2)
        let rawActivation = json["hidden_act"] ?? defaultActivation
        guard let actName = rawActivation as? String, let activation = Activation(huggingFaceName: actName) else {
            throw CLIPError(.invalidConfig,
                            "\(prefix).hidden_act '\(rawActivation)' is not supported (quick_gelu, gelu, gelu_new, gelu_pytorch_tanh, relu)",
                            path: path)
        }
        guard hidden > 0, heads > 0, hidden % heads == 0 else {
            throw CLIPError(.invalidConfig, "\(prefix).hidden_size \(hidden) is not divisible by num_attention_heads \(heads)",
                            path: path)
        }
        var eps = defaultEpsilon
        if let raw = json["layer_norm_eps"], !(raw is NSNull) {
            guard let number = raw as? NSNumber, !(raw is Bool), number.doubleValue > 0, number.doubleValue < 1 else {
                throw CLIPError(.invalidConfig, "\(prefix).layer_norm_eps is \(raw), expected a small positive number", path: path)
            }
            eps = number.floatValue
        }
        return TransformerConfiguration(
            hiddenSize: hidden,
            intermediateSize: try int(json, "intermediate_size", prefix, default: defaults.1),
            attentionHeads: heads,
            layers: try int(json, "num_hidden_layers", prefix, default: defaults.3),
            activation: activation,
            layerNormEpsilon: eps)
    }
}
