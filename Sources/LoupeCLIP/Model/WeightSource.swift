import Foundation
import LoupeTensor

/// Where a model's tensors come from: checkpoint files, or seeded random values for benchmarks.
protocol WeightSource: Sendable {
    /// The tensor `name` as Float, which must have exactly `shape`.
    func floats(_ name: String, shape: [Int]) throws -> [Float]
    /// Gives the memory holding tensors already read back to the system; later reads still work.
    func releasePages()
    /// The table `name` (`shape` = `[rows, width]`) for reading a few rows at a time, as token embeddings
    /// are read: a checkpoint leaves it in the file, so only the rows queries use are ever resident.
    func table(_ name: String, shape: [Int]) throws -> EmbeddingTable
}

extension WeightSource {
    func releasePages() {}

    func table(_ name: String, shape: [Int]) throws -> EmbeddingTable {
        EmbeddingTable(values: try floats(name, shape: shape), width: shape.last ?? 0)
    }
}

/// The tensors of a Hugging Face checkpoint: `model.safetensors`, or shards listed in
/// `model.safetensors.index.json`.
struct CheckpointWeights: WeightSource {
    private let files: [SafetensorsFile]
    private let fileForTensor: [String: Int]

    init(directory: URL) throws {
        let fm = FileManager.default
        let single = directory.appendingPathComponent("model.safetensors")
        let index = directory.appendingPathComponent("model.safetensors.index.json")
        if fm.fileExists(atPath: single.path) {
            let file = try SafetensorsFile(contentsOf: single)
            files = [file]
            fileForTensor = Dictionary(uniqueKeysWithValues: file.tensors.keys.map { ($0, 0) })
        } else if fm.fileExists(atPath: index.path) {
            guard let json = try (JSONSerialization.jsonObject(with: Data(contentsOf: index)) as? [String: Any]),
                  let map = json["weight_map"] as? [String: String]
            else {
                throw CLIPError(.invalidWeights, "weight_map missing or malformed", path: index.path)
            }
            let shardNames = Array(Set(map.values)).sorted()
            files = try shardNames.map { try SafetensorsFile(contentsOf: directory.appendingPathComponent($0)) }
            let position = Dictionary(uniqueKeysWithValues: shardNames.enumerated().map { ($1, $0) })
            fileForTensor = map.mapValues { position[$0]! }
        } else {
            let hint = fm.fileExists(atPath: directory.appendingPathComponent("pytorch_model.bin").path)
                ? " (only pytorch_model.bin is present; Loupe reads safetensors, the format the hub serves for CLIP models)" : ""
            throw CLIPError(.missingFile, "no model.safetensors or model.safetensors.index.json\(hint)", path: directory.path)
        }
    }

    func releasePages() {
        for file in files { file.releasePages() }
    }

    func table(_ name: String, shape: [Int]) throws -> EmbeddingTable {
        guard let index = fileForTensor[name] else {
            throw TensorError(.missingTensor, "not found in the checkpoint", path: files.first?.path, tensor: name)
        }
        let tensor = try files[index].info(name, shape: shape)
        guard [.f32, .f16, .bf16].contains(tensor.dtype) else {
            throw TensorError(.dtypeMismatch, "expected a floating-point dtype (F32, F16, BF16), found \(tensor.dtype.rawValue)",
                              path: files[index].path, tensor: name)
        }
        return EmbeddingTable(file: files[index], tensor: tensor)
    }

    func floats(_ name: String, shape: [Int]) throws -> [Float] {
        guard let index = fileForTensor[name] else {
            throw TensorError(.missingTensor, "not found in the checkpoint", path: files.first?.path, tensor: name)
        }
        let file = files[index]
        let values = try file.floats(name, shape: shape)
        // The model keeps its own (packed) copy: the mapped pages are not needed again.
        if let tensor = file.tensors[name] { file.releasePages(of: tensor) }
        return values
    }
}

/// Deterministic random weights with the right shapes, so benchmarks need no download.
struct RandomWeights: WeightSource {
    var seed: UInt64 = 0x5EED

    func floats(_ name: String, shape: [Int]) throws -> [Float] {
        let count = shape.reduce(1, *)
        // FNV-1a of the name, not `hashValue` (seeded anew in every process): the same weights in every run.
        var nameHash: UInt64 = 0xCBF2_9CE4_8422_2325
        for byte in name.utf8 { nameHash = (nameHash ^ UInt64(byte)) &* 0x100_0000_01B3 }
        var state = seed ^ (nameHash & 0x7FFF_FFFF) &* 0x9E37_79B9_7F4A_7C15
        let isNorm = name.contains("norm") || name.contains("layrnorm")
        let scale: Float = name.hasSuffix("bias") ? 0.02 : 1 / Float(shape.last ?? 1).squareRoot()
        return [Float](unsafeUninitializedCapacity: count) { buffer, initialized in
            for i in 0..<count {
                state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
                let unit = Float(UInt32(truncatingIfNeeded: state >> 40)) / Float(1 << 24) * 2 - 1
                buffer[i] = isNorm && name.hasSuffix("weight") ? 1 + 0.1 * unit : unit * scale
            }
            initialized = count
        }
    }
}
