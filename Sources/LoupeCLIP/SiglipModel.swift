import Foundation
import LoupeTensor
import Synchronization

/// The tokenizer of a SigLIP checkpoint: SentencePiece unigram (`spiece.model`, SigLIP) or Gemma
/// byte-fallback BPE (`tokenizer.json`, the fixed-resolution SigLIP 2 checkpoints).
public enum SiglipTextTokenizer: Sendable {
    case sentencePiece(SiglipTokenizer)
    case gemma(GemmaTokenizer)

    /// Loads `spiece.model` when the directory has one, else `tokenizer.json`.
    public init(directory: URL) throws {
        let fm = FileManager.default
        if fm.fileExists(atPath: directory.appendingPathComponent("spiece.model").path) {
            self = .sentencePiece(try SiglipTokenizer(directory: directory))
        } else if fm.fileExists(atPath: directory.appendingPathComponent("tokenizer.json").path) {
            self = .gemma(try GemmaTokenizer(directory: directory))
        } else {
            throw CLIPError(.missingFile, "no spiece.model or tokenizer.json in the model directory", path: directory.path)
        }
    }

    /// `length` ids, padded, as SigLIP's processor feeds them (`padding="max_length"`).
    public func encode(_ text: String, length: Int) -> [Int32] {
        switch self {
        case .sentencePiece(let tokenizer): tokenizer.encode(text, length: length)
        case .gemma(let tokenizer): tokenizer.encode(text, length: length)
        }
    }
}

/// A SigLIP model (Hugging Face `SiglipModel`, SigLIP and fixed-resolution SigLIP 2), embedding text and
/// images into one space natively through oneDNN, like `CLIPModel`.
///
/// ```swift
/// let model = try SiglipModel(directory: URL(fileURLWithPath: "siglip-base-patch16-224"))
/// let query = try model.embed(texts: ["a golden watch"])[0]      // unit length
/// let photo = try model.embed(images: [image])[0]
/// let cosine = zip(query, photo).map(*).reduce(0, +)
/// let probability = model.matchProbability(cosine: cosine)       // SigLIP's calibrated sigmoid
/// ```
public final class SiglipModel: Sendable {
    public let configuration: SiglipConfiguration
    public let precision: Precision
    public let tokenizer: SiglipTextTokenizer?
    public let preprocessor: ImagePreprocessor
    /// A name for reports: the directory name.
    public let name: String
    /// Images (or texts) embedded per forward pass.
    public let batchSize: Int
    /// The checkpoint's `logit_scale`: logits are `exp(logitScale) * cosine + logitBias`.
    public let logitScale: Float
    /// The checkpoint's `logit_bias`.
    public let logitBias: Float

    private let weights: any WeightSource
    private let visionTower = Mutex<SiglipVisionTower?>(nil)
    private let textTower = Mutex<SiglipTextTower?>(nil)
    private let pool: ForwardContextPool

    /// Loads a checkpoint directory in Hugging Face layout (`config.json` with `model_type: siglip`,
    /// `model.safetensors`, `preprocessor_config.json`, and `spiece.model` or `tokenizer.json`).
    ///
    /// - Parameters:
    ///   - precision: `.fp32` reproduces transformers; `.bf16` runs the transformer GEMMs in bfloat16;
    ///     `.int8` runs them on int8 codes with int32 accumulation (needs VNNI).
    ///   - threads: oneDNN threads per forward pass; all cores by default.
    ///   - batchSize: images or texts per forward pass.
    public convenience init(directory: URL, precision: Precision = .fp32, threads: Int? = nil, batchSize: Int = 32) throws {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory.path, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw CLIPError(.missingFile, "model directory not found", path: directory.path)
        }
        let configuration = try SiglipConfiguration.load(from: directory.appendingPathComponent("config.json"))
        let preprocessorURL = directory.appendingPathComponent("preprocessor_config.json")
        guard FileManager.default.fileExists(atPath: preprocessorURL.path) else {
            throw CLIPError(.missingFile, "preprocessor_config.json is missing from the model directory", path: directory.path)
        }
        let preprocessor = try ImagePreprocessor(config: try Self.preprocessorConfig(at: preprocessorURL))
        let tokenizer = try SiglipTextTokenizer(directory: directory)
        let weights = try CheckpointWeights(directory: directory)
        try self.init(configuration: configuration, weights: weights, tokenizer: tokenizer, preprocessor: preprocessor,
                      precision: precision, threads: threads, batchSize: batchSize, name: directory.lastPathComponent)
    }

    /// A standard architecture (`SigLIP-B-16`, `SigLIP2-B-16`: `SiglipConfiguration.standard`) with seeded
    /// random weights generated in memory, for benchmarks without a download. It has no tokenizer: embed
    /// token ids. Building the text tower of `SigLIP2-B-16` fills its 786 MB token table.
    public static func randomWeights(
        architecture: String, precision: Precision = .fp32, threads: Int? = nil, batchSize: Int = 32
    ) throws -> SiglipModel {
        guard let configuration = SiglipConfiguration.standard(architecture) else {
            throw CLIPError(.invalidConfig,
                            "unknown architecture '\(architecture)' (\(SiglipConfiguration.standardNames.joined(separator: ", ")))")
        }
        let side = configuration.vision.imageSize
        let preprocessing = SiglipModel.squarePreprocessing(side: side)
        return try SiglipModel(configuration: configuration, weights: RandomWeights(), tokenizer: nil,
                               preprocessor: try ImagePreprocessor(config: preprocessing), precision: precision,
                               threads: threads, batchSize: batchSize, name: architecture)
    }

    /// The GEMM kernels oneDNN picked in the forward passes so far (for benchmark reports).
    public var kernelImplementations: [String] {
        pool.kernelImplementations
    }

    /// `SiglipImageProcessor`'s settings for a `side` x `side` model: a square resize, no centre crop, mean
    /// and std 0.5 (random-weight models and the checkpoints written from them).
    static func squarePreprocessing(side: Int) -> PreprocessorConfig {
        var config = PreprocessorConfig()
        config.size = .exact(.init(height: side, width: side))
        config.doCenterCrop = false
        config.imageMean = [0.5, 0.5, 0.5]
        config.imageStd = [0.5, 0.5, 0.5]
        return config
    }

    /// `preprocessor_config.json` with `SiglipImageProcessor`'s defaults for absent keys: a square resize to
    /// 224 (bicubic), no centre crop, mean and std 0.5.
    static func preprocessorConfig(at url: URL) throws -> PreprocessorConfig {
        var config = try PreprocessorConfig.load(from: url)
        let keys = ((try? JSONSerialization.jsonObject(with: Data(contentsOf: url))) as? [String: Any]).map { Set($0.keys) } ?? []
        if !keys.contains("do_center_crop") { config.doCenterCrop = false }
        if !keys.contains("size") { config.size = .exact(.init(height: 224, width: 224)) }
        if !keys.contains("image_mean") { config.imageMean = [0.5, 0.5, 0.5] }
        if !keys.contains("image_std") { config.imageStd = [0.5, 0.5, 0.5] }
        return config
    }

    init(
        configuration: SiglipConfiguration, weights: WeightSource, tokenizer: SiglipTextTokenizer?,
        preprocessor: ImagePreprocessor, precision: Precision, threads: Int?, batchSize: Int, name: String
    ) throws {
        guard precision.isSupported else {
            throw CLIPError(.invalidConfig, "\(precision) needs \(precision.requirement), which this one lacks; use fp32")
        }
        guard let (height, width) = preprocessor.outputSize else {
            throw CLIPError(.invalidConfig, "the preprocessor does not produce a fixed image size (resize to height and width)")
        }
        let side = configuration.vision.imageSize
        guard height == side, width == side else {
            throw CLIPError(.invalidConfig, "the preprocessor produces \(width)x\(height) images but the model takes \(side)")
        }
        logitScale = try weights.floats("logit_scale", shape: [1])[0]
        logitBias = try weights.floats("logit_bias", shape: [1])[0]
        self.configuration = configuration
        self.precision = precision
        self.tokenizer = tokenizer
        self.preprocessor = preprocessor
        pool = ForwardContextPool(threads: threads)
        self.batchSize = max(1, batchSize)
        self.name = name
        self.weights = weights
    }

    /// SigLIP's calibrated probability that a text and an image match, from their embeddings' cosine:
    /// `sigmoid(exp(logitScale) * cosine + logitBias)`.
    public func matchProbability(cosine: Float) -> Float { calibration.probability(cosine: cosine) }

    /// The checkpoint's sigmoid calibration of text-image cosines.
    public var calibration: MatchCalibration { MatchCalibration(logitScale: logitScale, logitBias: logitBias) }

    /// Reads and packs `towers` now rather than at their first use.
    public func load(_ towers: Set<CLIPModel.Tower> = Set(CLIPModel.Tower.allCases)) throws {
        if towers.contains(.text) { _ = try loadText() }
        if towers.contains(.vision) { _ = try loadVision() }
    }

    /// The towers read and packed so far.
    public var loadedTowers: Set<CLIPModel.Tower> {
        var loaded: Set<CLIPModel.Tower> = []
        if textTower.withLock({ $0 != nil }) { loaded.insert(.text) }
        if visionTower.withLock({ $0 != nil }) { loaded.insert(.vision) }
        return loaded
    }

    private func loadText() throws -> SiglipTextTower {
        try built(textTower) { try SiglipTextTower(configuration: configuration.text, weights: weights, precision: precision) }
    }

    private func loadVision() throws -> SiglipVisionTower {
        try built(visionTower) {
            try SiglipVisionTower(configuration: configuration.vision, weights: weights, precision: precision)
        }
    }

    private func built<T: Sendable>(_ slot: borrowing Mutex<T?>, _ make: () throws -> T) throws -> T {
        try slot.withLock { tower in
            if let tower { return tower }
            let made = try make()
            weights.releasePages()
            tower = made
            return made
        }
    }

    /// Length of every embedding this model returns.
    public var dimension: Int { configuration.dimension }

    // MARK: Text

    /// Tokenizes (padded to the model's 64 positions) and embeds `texts`; each result is L2-normalised.
    public func embed(texts: [String]) throws -> [[Float]] {
        guard let tokenizer else {
            throw CLIPError(.invalidInput, "this model has no tokenizer; embed token ids instead")
        }
        return try embed(tokens: texts.map { tokenizer.encode($0, length: configuration.text.maxPositions) })
    }

    /// Embeds token sequences as the tokenizer returns them (padded; the last position is pooled).
    public func embed(tokens: [[Int32]]) throws -> [[Float]] {
        guard !tokens.isEmpty else { return [] }
        let text = try loadText()
        for (index, ids) in tokens.enumerated() { try text.validate(ids, index: index) }
        // Every position counts (no causal mask): batch sequences of equal length.
        let order = tokens.indices.sorted { (tokens[$0].count, $0) < (tokens[$1].count, $1) }
        var results = [[Float]](repeating: [], count: tokens.count)
        try pool.withContext { context in
            var start = 0
            while start < order.count {
                let length = tokens[order[start]].count
                var end = start
                while end < order.count, end - start < batchSize, tokens[order[end]].count == length { end += 1 }
                let indices = Array(order[start..<end])
                let embeddings = try context.run(count: indices.count, dimension: dimension) { output in
                    try text.embed(tokens: indices.map { tokens[$0] }, executor: context.executor,
                                   workspace: context.workspace, output: output)
                }
                for (slot, index) in indices.enumerated() { results[index] = embeddings[slot] }
                start = end
            }
        }
        return results
    }

    // MARK: Images

    /// Preprocesses (like `SiglipImageProcessor`) and embeds RGB images; each result is L2-normalised.
    public func embed(images: [RGBImage]) throws -> [[Float]] {
        try pool.embed(images: images, size: configuration.vision.imageSize, tower: loadVision, preprocessor: preprocessor,
                       batchSize: batchSize)
    }

    /// Embeds already preprocessed images: `count` channel-planar `[3, size, size]` float arrays back to back.
    public func embed(pixelValues: [Float], count: Int) throws -> [[Float]] {
        try pool.embed(pixelValues: pixelValues, count: count, size: configuration.vision.imageSize, tower: loadVision,
                       batchSize: batchSize)
    }

}
