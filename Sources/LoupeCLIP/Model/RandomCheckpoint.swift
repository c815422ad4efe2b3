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
        // Building both towers asks for every tensor, with exactly the names and shapes a load reads.
        let recorder = RecordingWeights(RandomWeights())
        _ = try VisionTower(configuration: configuration.vision, projectionDim: configuration.projectionDim,
                            weights: recorder, precision: .fp32)
        _ = try TextTower(configuration: configuration.text, projectionDim: configuration.projectionDim,
                          weights: recorder, precision: .fp32)
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        try SafetensorsWriter.write(recorder.recorded, to: folder.appendingPathComponent("model.safetensors"))
        try JSONSerialization.data(withJSONObject: configuration.huggingFaceJSON, options: [.prettyPrinted, .sortedKeys])
            .write(to: folder.appendingPathComponent("config.json"))
        let side = configuration.vision.imageSize
        let preprocessing: [String: Any] = [
            "crop_size": ["height": side, "width": side], "do_center_crop": true, "do_convert_rgb": true,
            "do_normalize": true, "do_rescale": true, "do_resize": true, "image_processor_type": "CLIPImageProcessor",
            "image_mean": [0.48145466, 0.4578275, 0.40821073], "image_std": [0.26862954, 0.26130258, 0.27577711],
            "resample": 3, "rescale_factor": 1.0 / 255, "size": ["shortest_edge": side],
        ]
        try JSONSerialization.data(withJSONObject: preprocessing, options: [.prettyPrinted, .sortedKeys])
            .write(to: folder.appendingPathComponent("preprocessor_config.json"))
        guard let tokenizerFrom else { return }
        for file in ["vocab.json", "merges.txt", "tokenizer.json"] {
            let from = tokenizerFrom.appendingPathComponent(file)
            guard FileManager.default.fileExists(atPath: from.path) else { continue }
            let to = folder.appendingPathComponent(file)
            try? FileManager.default.removeItem(at: to)
            try FileManager.default.copyItem(at: from, to: to)
        }
    }
}

extension CLIPConfiguration {
    /// This configuration as a Hugging Face `config.json` reads (the keys `load(from:)` takes).
    var huggingFaceJSON: [String: Any] {
        func tower(_ t: TransformerConfiguration) -> [String: Any] {
            let activation: String = switch t.activation {
            case .quickGelu: "quick_gelu"
            case .gelu: "gelu"
            case .geluTanh: "gelu_new"
            case .relu: "relu"
            case .identity: "identity"
            }
            return ["hidden_size": t.hiddenSize, "intermediate_size": t.intermediateSize, "num_attention_heads": t.attentionHeads,
                    "num_hidden_layers": t.layers, "hidden_act": activation, "layer_norm_eps": Double(t.layerNormEpsilon),
                    "projection_dim": projectionDim]
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
