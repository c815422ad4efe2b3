import Foundation
import LoupeTensor

/// Settings of a SigLIP text tower beyond its transformer shape.
public struct SiglipTextConfiguration: Sendable, Equatable {
    public var transformer: TransformerConfiguration
    public var vocabularySize: Int
    /// The longest token sequence; SigLIP is fed exactly this many (64), padded.
    public var maxPositions: Int
    /// Width of the `head` linear layer's output (`projection_size`, the hidden size when absent).
    public var projectionSize: Int
    public var padTokenID: Int
}

/// Settings of a SigLIP vision tower beyond its transformer shape.
public struct SiglipVisionConfiguration: Sendable, Equatable {
    public var transformer: TransformerConfiguration
    public var imageSize: Int
    public var patchSize: Int
    public var channels: Int
    /// Whole patches per side (a remainder of the image side is ignored, as the convolution does).
    public var patchesPerSide: Int { imageSize / patchSize }
    /// One token per patch: SigLIP has no class token.
    public var sequenceLength: Int { patchesPerSide * patchesPerSide }
}

/// A SigLIP model's architecture (Hugging Face `SiglipModel`, `model_type: siglip`): both towers.
///
/// The image embedding is the attention-pooling head's output (the vision hidden size); the text
/// embedding is the text `head`'s (`projection_size`). They must agree.
public struct SiglipConfiguration: Sendable, Equatable {
    public var text: SiglipTextConfiguration
    public var vision: SiglipVisionConfiguration

    /// Length of every embedding.
    public var dimension: Int { text.projectionSize }

    /// Reads `config.json` of a Hugging Face SigLIP checkpoint, with transformers' defaults for absent keys.
    public static func load(from url: URL) throws -> SiglipConfiguration {
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw CLIPError(.missingFile, "cannot read the model configuration", path: url.path)
        }
        guard let root = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else {
            throw CLIPError(.invalidConfig, "not a JSON object", path: url.path)
        }
        return try SiglipConfiguration(json: root, path: url.path)
    }

    init(json root: [String: Any], path: String) throws {
        let type = root["model_type"] as? String
        guard type == "siglip" else {
            let hint = type == "siglip2"
                ? " (the NaFlex Siglip2Model is not supported; the fixed-resolution SigLIP 2 checkpoints say 'siglip')" : ""
            throw CLIPError(.invalidConfig, "model_type is \(type.map { "'\($0)'" } ?? "missing"), expected 'siglip'\(hint)",
                            path: path)
        }
        let reader = ConfigReader(path: path)
        func section(_ name: String) throws -> [String: Any] {
            guard let raw = root[name], !(raw is NSNull) else { return [:] }
            guard let object = raw as? [String: Any] else {
                throw CLIPError(.invalidConfig, "\(name) is not a JSON object", path: path)
            }
            return object
        }
        let textJSON = try section("text_config")
        let visionJSON = try section("vision_config")
        let textTransformer = try reader.transformer(
            textJSON, prefix: "text_config", defaults: (768, 3072, 12, 12), activation: "gelu_pytorch_tanh",
            layerNormEpsilon: 1e-6)
        let visionTransformer = try reader.transformer(
            visionJSON, prefix: "vision_config", defaults: (768, 3072, 12, 12), activation: "gelu_pytorch_tanh",
            layerNormEpsilon: 1e-6)
        text = SiglipTextConfiguration(
            transformer: textTransformer,
            vocabularySize: try reader.int(textJSON, "vocab_size", "text_config", default: 32000),
            maxPositions: try reader.int(textJSON, "max_position_embeddings", "text_config", default: 64),
            projectionSize: try reader.int(textJSON, "projection_size", "text_config", default: textTransformer.hiddenSize),
            padTokenID: try reader.int(textJSON, "pad_token_id", "text_config", default: 1))
        vision = SiglipVisionConfiguration(
            transformer: visionTransformer,
            imageSize: try reader.int(visionJSON, "image_size", "vision_config", default: 224),
            patchSize: try reader.int(visionJSON, "patch_size", "vision_config", default: 16),
            channels: try reader.int(visionJSON, "num_channels", "vision_config", default: 3))
        for (name, value) in [("text_config.vocab_size", text.vocabularySize),
                              ("text_config.max_position_embeddings", text.maxPositions),
                              ("text_config.projection_size", text.projectionSize),
                              ("vision_config.image_size", vision.imageSize),
                              ("vision_config.patch_size", vision.patchSize),
                              ("text_config.intermediate_size", text.transformer.intermediateSize),
                              ("vision_config.intermediate_size", vision.transformer.intermediateSize)] where value < 1 {
            throw CLIPError(.invalidConfig, "\(name) is \(value), expected at least 1", path: path)
        }
        // A side that is not a multiple of the patch is allowed, as in so400m-patch14-384: the convolution
        // covers the largest whole grid and ignores the rest.
        guard vision.imageSize >= vision.patchSize else {
            throw CLIPError(.invalidConfig,
                            "vision_config.image_size \(vision.imageSize) is smaller than patch_size \(vision.patchSize)", path: path)
        }
        guard vision.channels == 3 else {
            throw CLIPError(.invalidConfig, "vision_config.num_channels is \(vision.channels); only RGB (3) models are supported",
                            path: path)
        }
        if let useHead = visionJSON["vision_use_head"], !(useHead is NSNull) {
            guard let flag = useHead as? Bool, flag else {
                throw CLIPError(.invalidConfig,
                                "vision_config.vision_use_head is \(useHead); SigLIP image embeddings need the attention-pooling head",
                                path: path)
            }
        }
        guard text.projectionSize == vision.transformer.hiddenSize else {
            throw CLIPError(.invalidConfig,
                            "text_config.projection_size \(text.projectionSize) differs from vision_config.hidden_size "
                                + "\(vision.transformer.hiddenSize): text and image embeddings would not share a space",
                            path: path)
        }
    }

    public init(text: SiglipTextConfiguration, vision: SiglipVisionConfiguration) {
        self.text = text
        self.vision = vision
    }

    /// The architectures `SiglipModel.randomWeights` knows, for random-weight benchmarks.
    public static let standardNames = ["SigLIP-B-16", "SigLIP2-B-16"]

    /// A published SigLIP architecture by name (`SigLIP-B-16`, `SigLIP2-B-16`, case-insensitive), for
    /// random-weight benchmarks.
    ///
    /// Both towers of both are transformers' `SiglipTextConfig` / `SiglipVisionConfig` defaults (which are
    /// google/siglip-base-patch16-224): width 768, 12 layers, 12 heads, MLP 3072, `gelu_pytorch_tanh`,
    /// `layer_norm_eps` 1e-6; 16-pixel patches of a 224 x 224 image (196 tokens, no class token); 64 text
    /// positions; no `projection_size`, so the embedding is the hidden width, 768.
    /// - `SigLIP-B-16` (google/siglip-base-patch16-224): its config.json overrides nothing of the text
    ///   tower but the tokenizer's ids: the SentencePiece vocabulary of 32,000, `<pad>` = 1.
    /// - `SigLIP2-B-16` (google/siglip2-base-patch16-224): the same towers with the Gemma tokenizer's
    ///   vocabulary of 256,000 (`<pad>` = 0). Its token table, 256,000 x 768 floats, is 786 MB in fp32, as
    ///   in the real checkpoint: the random model allocates and fills all of it.
    public static func standard(_ name: String) -> SiglipConfiguration? {
        let vocabulary: Int
        let pad: Int
        switch name.uppercased() {
        case "SIGLIP-B-16": (vocabulary, pad) = (32000, 1)
        case "SIGLIP2-B-16": (vocabulary, pad) = (256_000, 0)
        default: return nil
        }
        let tower = TransformerConfiguration(hiddenSize: 768, intermediateSize: 3072, attentionHeads: 12, layers: 12,
                                             activation: .geluTanh, layerNormEpsilon: 1e-6)
        return SiglipConfiguration(
            text: SiglipTextConfiguration(transformer: tower, vocabularySize: vocabulary, maxPositions: 64,
                                          projectionSize: 768, padTokenID: pad),
            vision: SiglipVisionConfiguration(transformer: tower, imageSize: 224, patchSize: 16, channels: 3))
    }
}

/// The two-tower image-text architectures Loupe runs natively.
public enum ImageTextModelKind: String, Sendable, CaseIterable {
    case clip
    case siglip

    /// The architecture of a Hugging Face checkpoint directory, from `model_type` in its `config.json`
    /// (`clip`, or absent as in some older CLIP files; `siglip`).
    public static func detect(directory: URL) throws -> ImageTextModelKind {
        let url = directory.appendingPathComponent("config.json")
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw CLIPError(.missingFile, "cannot read the model configuration", path: url.path)
        }
        guard let root = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else {
            throw CLIPError(.invalidConfig, "not a JSON object", path: url.path)
        }
        switch root["model_type"] {
        case nil, is NSNull: return .clip
        case let type as String:
            switch type {
            case "clip": return .clip
            case "siglip": return .siglip
            case "siglip2":
                throw CLIPError(.invalidConfig,
                                "model_type 'siglip2' (the NaFlex Siglip2Model) is not supported; the fixed-resolution "
                                    + "SigLIP 2 checkpoints (model_type 'siglip') are", path: url.path)
            default:
                throw CLIPError(.invalidConfig, "model_type '\(type)' is not supported (clip, siglip)", path: url.path)
            }
        case let other?:
            throw CLIPError(.invalidConfig, "model_type is \(other), expected a string", path: url.path)
        }
    }
}

/// What the search engine needs of a native two-tower model, CLIP or SigLIP: unit-length text and image
/// embeddings in one space.
public protocol ImageTextModel: AnyObject, Sendable {
    /// A name for reports and for the library's record of which model made its vectors.
    var name: String { get }
    /// Length of every embedding.
    var dimension: Int { get }
    /// The side of the square images the vision tower takes.
    var imageSize: Int { get }
    var preprocessor: ImagePreprocessor { get }
    /// Reads and packs `towers` now rather than at their first use.
    func load(_ towers: Set<CLIPModel.Tower>) throws
    func embed(texts: [String]) throws -> [[Float]]
    func embed(images: [RGBImage]) throws -> [[Float]]
    /// How a text-image cosine maps to a match probability, for models trained to give one (SigLIP); nil
    /// for models whose scores are only comparable within one query (CLIP).
    var matchCalibration: MatchCalibration? { get }
}

extension CLIPModel: ImageTextModel {
    public var imageSize: Int { configuration.vision.imageSize }
    public var matchCalibration: MatchCalibration? { nil }
}

extension SiglipModel: ImageTextModel {
    public var imageSize: Int { configuration.vision.imageSize }
    public var matchCalibration: MatchCalibration? { calibration }
}

extension ImageTextModelKind {
    /// Loads a checkpoint directory as the architecture its `config.json` names.
    public static func loadModel(
        directory: URL, precision: Precision = .fp32, threads: Int? = nil, batchSize: Int = 32
    ) throws -> any ImageTextModel {
        switch try detect(directory: directory) {
        case .clip: try CLIPModel(directory: directory, precision: precision, threads: threads, batchSize: batchSize)
        case .siglip: try SiglipModel(directory: directory, precision: precision, threads: threads, batchSize: batchSize)
        }
    }
}
