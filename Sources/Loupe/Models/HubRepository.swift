/// A model repository on a Hugging Face-compatible hub, like `openai/clip-vit-base-patch32`.
public struct HubRepository: Sendable, Hashable, CustomStringConvertible {
    public let owner: String
    public let name: String

    /// The default model of Loupe (and of Immich, rclip and the Milvus tutorials).
    public static let defaultCLIP = try! HubRepository("openai/clip-vit-base-patch32")

    /// Parses `owner/name`; both parts use the hub's characters (letters, digits, `-`, `_`, `.`).
    public init(_ id: String) throws {
        let parts = id.split(separator: "/", omittingEmptySubsequences: false)
        func valid(_ part: Substring) -> Bool {
            !part.isEmpty && part.count <= 96 && part != "." && part != ".."
                && part.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "-_.".contains($0)) }
        }
        guard parts.count == 2, valid(parts[0]), valid(parts[1]) else {
            throw LoupeError(.invalidArgument, "a model repository is written owner/name, e.g. openai/clip-vit-base-patch32",
                             input: id)
        }
        owner = String(parts[0])
        name = String(parts[1])
    }

    public var id: String { "\(owner)/\(name)" }
    public var description: String { id }

    /// The folder name the Hugging Face hub cache uses: `models--owner--name`.
    public var cacheFolderName: String { "models--\(owner)--\(name)" }

    /// Whether `file` (a path in the repository) is one Loupe needs to run a CLIP model.
    ///
    /// Weights are taken only as safetensors; PyTorch pickles, TensorFlow, Flax and ONNX exports are
    /// skipped (they would multiply the download for nothing).
    static func isNeeded(_ file: String) -> Bool {
        let wanted: Set<String> = [
            "config.json", "preprocessor_config.json", "tokenizer.json", "vocab.json", "merges.txt",
            "tokenizer_config.json", "special_tokens_map.json", "model.safetensors", "model.safetensors.index.json",
            // SigLIP's SentencePiece tokenizer.
            "spiece.model",
        ]
        if wanted.contains(file) { return true }
        // Shards named by an index: model-00001-of-00002.safetensors.
        return !file.contains("/") && file.hasPrefix("model-") && file.hasSuffix(".safetensors")
    }
}
