import Foundation
import LoupeTensor
import Synchronization

/// Records every tensor a model asks a source for, so the same values can be written out as a checkpoint.
private final class RecordingWeights: WeightSource, @unchecked Sendable {
    private let source: WeightSource
    private let entries = Mutex<[SafetensorsWriter.Entry]>([])

    init(_ source: WeightSource) { self.source = source }

    func floats(_ name: String, shape: [Int]) throws -> [Float] {
        let values = try source.floats(name, shape: shape)
        entries.withLock { $0.append(SafetensorsWriter.Entry(name: name, shape: shape, values: values)) }
        return values
    }

    var recorded: [SafetensorsWriter.Entry] { entries.withLock { $0 } }
}

extension CLIPModel {
    /// Writes a standard architecture (`ViT-B-32`...) with the seeded random weights of `randomWeights` as a
    /// loadable Hugging Face folder (`config.json`, `model.safetensors`, `preprocessor_config.json`), so
    /// loading, memory and start-up can be measured at a real model's size without downloading one. The
    /// tokenizer files (`vocab.json`, `merges.txt`, `tokenizer.json`) are copied from `tokenizerFrom` when given.
    public static func writeRandomCheckpoint(architecture: String, to folder: URL, tokenizerFrom: URL? = nil) throws {
        guard let configuration = CLIPConfiguration.standard(architecture) else {
            throw CLIPError(.invalidConfig, "unknown architecture '\(architecture)' (ViT-B-32, ViT-B-16, ViT-L-14, ViT-L-14-336)")
        }
        try writeRandomCheckpoint(configuration, to: folder, tokenizerFrom: tokenizerFrom)
    }

    static func writeRandomCheckpoint(_ configuration: CLIPConfiguration, to folder: URL, tokenizerFrom: URL? = nil) throws {
        // Building both towers asks for every tensor, with exactly the names and shapes a load reads.
        let recorder = RecordingWeights(RandomWeights())
        _ = try VisionTower(configuration: configuration.vision, projectionDim: configuration.projectionDim,
                            weights: recorder, precision: .fp32)
        _ = try TextTower(configuration: configuration.text, projectionDim: configuration.projectionDim,
                          weights: recorder, precision: .fp32)
        let side = configuration.vision.imageSize
        let preprocessing: [String: Any] = [
            "crop_size": ["height": side, "width": side], "do_center_crop": true, "do_convert_rgb": true,
            "do_normalize": true, "do_rescale": true, "do_resize": true, "image_processor_type": "CLIPImageProcessor",
            "image_mean": [0.48145466, 0.4578275, 0.40821073], "image_std": [0.26862954, 0.26130258, 0.27577711],
            "resample": 3, "rescale_factor": 1.0 / 255, "size": ["shortest_edge": side],
        ]
        try RandomCheckpointFolder.write(recorder.recorded, config: configuration.huggingFaceJSON, preprocessing: preprocessing,
                                         to: folder, tokenizerFrom: tokenizerFrom,
                                         tokenizerFiles: ["vocab.json", "merges.txt", "tokenizer.json"])
    }
}

extension SiglipModel {
    /// Writes a standard SigLIP architecture (`SigLIP-B-16`, `SigLIP2-B-16`) with the seeded random weights
    /// of `randomWeights` as a loadable Hugging Face folder, like `CLIPModel.writeRandomCheckpoint`. The
    /// tokenizer files (`spiece.model`, `tokenizer.json`, `tokenizer_config.json`, `special_tokens_map.json`)
    /// are copied from `tokenizerFrom` when given; its ids must fit the architecture's vocabulary.
    public static func writeRandomCheckpoint(architecture: String, to folder: URL, tokenizerFrom: URL? = nil) throws {
        guard let configuration = SiglipConfiguration.standard(architecture) else {
            throw CLIPError(.invalidConfig,
                            "unknown architecture '\(architecture)' (\(SiglipConfiguration.standardNames.joined(separator: ", ")))")
        }
        try writeRandomCheckpoint(configuration, to: folder, tokenizerFrom: tokenizerFrom)
    }

    static func writeRandomCheckpoint(_ configuration: SiglipConfiguration, to folder: URL, tokenizerFrom: URL? = nil) throws {
        let recorder = RecordingWeights(RandomWeights())
        let side = configuration.vision.imageSize
        let processing = SiglipModel.squarePreprocessing(side: side)
        // Loading both towers (and the logit scale and bias) asks for every tensor a load reads.
        let model = try SiglipModel(configuration: configuration, weights: recorder, tokenizer: nil,
                                    preprocessor: try ImagePreprocessor(config: processing), precision: .fp32, threads: 1,
                                    batchSize: 1, name: "checkpoint")
        try model.load()
        let preprocessing: [String: Any] = [
            "do_normalize": true, "do_rescale": true, "do_resize": true, "image_processor_type": "SiglipImageProcessor",
            "image_mean": [0.5, 0.5, 0.5], "image_std": [0.5, 0.5, 0.5], "resample": 3, "rescale_factor": 1.0 / 255,
            "size": ["height": side, "width": side],
        ]
        try RandomCheckpointFolder.write(recorder.recorded, config: configuration.huggingFaceJSON, preprocessing: preprocessing,
                                         to: folder, tokenizerFrom: tokenizerFrom,
                                         tokenizerFiles: ["spiece.model", "tokenizer.json", "tokenizer_config.json",
                                                          "special_tokens_map.json"])
    }
}

/// Writes a recorded random model as a Hugging Face folder.
private enum RandomCheckpointFolder {
    static func write(_ tensors: [SafetensorsWriter.Entry], config: [String: Any], preprocessing: [String: Any], to folder: URL,
                      tokenizerFrom: URL?, tokenizerFiles: [String]) throws {
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        // A tensor asked for twice (a shared table) is written once.
        var seen = Set<String>()
        let unique = tensors.filter { seen.insert($0.name).inserted }
        try SafetensorsWriter.write(unique, to: folder.appendingPathComponent("model.safetensors"))
        for (name, object) in [("config.json", config), ("preprocessor_config.json", preprocessing)] {
            try JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys])
                .write(to: folder.appendingPathComponent(name))
        }
        guard let tokenizerFrom else { return }
        for file in tokenizerFiles {
            let from = tokenizerFrom.appendingPathComponent(file)
            guard FileManager.default.fileExists(atPath: from.path) else { continue }
            let to = folder.appendingPathComponent(file)
            try? FileManager.default.removeItem(at: to)
            try FileManager.default.copyItem(at: from, to: to)
        }
    }
}

extension TransformerConfiguration {
    /// The keys of a Hugging Face tower config that `ConfigReader.transformer` reads.
    var huggingFaceJSON: [String: Any] {
        let name: String = switch activation {
        case .quickGelu: "quick_gelu"
        case .gelu: "gelu"
        case .geluTanh: "gelu_pytorch_tanh"
        case .relu: "relu"
        case .identity: "identity"
        }
        return ["hidden_size": hiddenSize, "intermediate_size": intermediateSize, "num_attention_heads": attentionHeads,
                "num_hidden_layers": layers, "hidden_act": name, "layer_norm_eps": Double(layerNormEpsilon)]
    }
}

extension SiglipConfiguration {
    /// This configuration as a Hugging Face `config.json` reads (the keys `load(from:)` takes).
    var huggingFaceJSON: [String: Any] {
        var textJSON = text.transformer.huggingFaceJSON
        textJSON.merge(["vocab_size": text.vocabularySize, "max_position_embeddings": text.maxPositions,
                        "projection_size": text.projectionSize, "pad_token_id": text.padTokenID]) { $1 }
        var visionJSON = vision.transformer.huggingFaceJSON
        visionJSON.merge(["image_size": vision.imageSize, "patch_size": vision.patchSize, "num_channels": vision.channels,
                          "vision_use_head": true]) { $1 }
        return ["model_type": "siglip", "architectures": ["SiglipModel"], "text_config": textJSON, "vision_config": visionJSON]
    }
}

extension CLIPConfiguration {
    /// This configuration as a Hugging Face `config.json` reads (the keys `load(from:)` takes).
    var huggingFaceJSON: [String: Any] {
        func tower(_ t: TransformerConfiguration) -> [String: Any] {
            t.huggingFaceJSON.merging(["projection_dim": projectionDim]) { $1 }
        }
        var textJSON = tower(text.transformer)
        textJSON.merge(["vocab_size": text.vocabularySize, "max_position_embeddings": text.maxPositions,
                        "eos_token_id": text.eosTokenID, "bos_token_id": text.bosTokenID, "pad_token_id": text.padTokenID]) { $1 }
        var visionJSON = tower(vision.transformer)
        visionJSON.merge(["image_size": vision.imageSize, "patch_size": vision.patchSize, "num_channels": vision.channels]) { $1 }
        return ["model_type": "clip", "architectures": ["CLIPModel"], "projection_dim": projectionDim,
                "text_config": textJSON, "vision_config": visionJSON]
    }
}
