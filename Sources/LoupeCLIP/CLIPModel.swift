import Foundation
import LoupeTensor
import Synchronization

/// A CLIP model that embeds text and images into one vector space, running natively through oneDNN.
///
/// Load a Hugging Face checkpoint directory (`config.json`, `model.safetensors`,
/// `preprocessor_config.json`, and `vocab.json` + `merges.txt` or `tokenizer.json`):
///
/// ```swift
/// let model = try CLIPModel(directory: URL(fileURLWithPath: "clip-vit-base-patch32"))
/// let query = try model.embed(texts: ["a golden watch"])[0]      // 512 floats, unit length
/// let photo = try model.embed(images: [image])[0]
/// let score = zip(query, photo).map(*).reduce(0, +)              // cosine similarity
/// ```
///
/// The model is `Sendable`: any number of tasks may embed at once. Each concurrent call borrows its own
/// executor and workspace from a pool, so results never depend on what else is running.
public final class CLIPModel: Sendable {
    public let configuration: CLIPConfiguration
    public let precision: Precision
    /// The tokenizer, when the model was loaded from a directory that has one.
    public let tokenizer: CLIPTokenizer?
    public let preprocessor: ImagePreprocessor
    /// A name for reports: the directory name, or the architecture for random weights.
    public let name: String
    /// Images embedded per forward pass.
    public let batchSize: Int

    /// The two halves of the model; each is read and packed at its first use (or by `load`).
    public enum Tower: Sendable, Hashable, CaseIterable {
        case text, vision
    }

    private let weights: any WeightSource
    private let visionTower = Mutex<VisionTower?>(nil)
    private let textTower = Mutex<TextTower?>(nil)
    private let pool: ForwardContextPool

    /// Loads a checkpoint directory in Hugging Face layout.
    ///
    /// - Parameters:
    ///   - precision: `.fp32` reproduces the reference implementation; `.bf16` runs the transformer GEMMs
    ///     in bfloat16 with fp32 accumulation (about twice as fast, cosine > 0.999 to fp32); `.int8` runs
    ///     every transformer and patch-embedding GEMM on int8 codes (weights per channel, inputs per row)
    ///     with int32 accumulation, needs VNNI, cosine > 0.99 to fp32.
    ///   - threads: oneDNN threads per forward pass; all cores by default.
    ///   - batchSize: images per forward pass.
    public convenience init(directory: URL, precision: Precision = .fp32, threads: Int? = nil, batchSize: Int = 32) throws {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory.path, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw CLIPError(.missingFile, "model directory not found", path: directory.path)
        }
        let configuration = try CLIPConfiguration.load(from: directory.appendingPathComponent("config.json"))
        let preprocessorURL = directory.appendingPathComponent("preprocessor_config.json")
        guard FileManager.default.fileExists(atPath: preprocessorURL.path) else {
            throw CLIPError(.missingFile, "preprocessor_config.json is missing from the model directory", path: directory.path)
        }
        let preprocessor = try ImagePreprocessor(config: try PreprocessorConfig.load(from: preprocessorURL))
        let tokenizer = try CLIPTokenizer(directory: directory)
        let weights = try CheckpointWeights(directory: directory)
        try self.init(configuration: configuration, weights: weights, tokenizer: tokenizer, preprocessor: preprocessor,
                      precision: precision, threads: threads, batchSize: batchSize, name: directory.lastPathComponent)
    }

    /// Builds a standard architecture (`ViT-B-32`, `ViT-B-16`, `ViT-L-14`, `ViT-L-14-336`) with seeded random
    /// weights, for benchmarks that need no download. It has no tokenizer: embed token ids.
    public static func randomWeights(
        architecture: String, precision: Precision = .fp32, threads: Int? = nil, batchSize: Int = 32
    ) throws -> CLIPModel {
        guard let configuration = CLIPConfiguration.standard(architecture) else {
            throw CLIPError(.invalidConfig, "unknown architecture '\(architecture)' (ViT-B-32, ViT-B-16, ViT-L-14, ViT-L-14-336)")
        }
        let size = configuration.vision.imageSize
        var preprocessing = PreprocessorConfig()
        preprocessing.size = .shortestEdge(size)
        preprocessing.cropSize = .init(height: size, width: size)
        let preprocessor = try ImagePreprocessor(config: preprocessing)
        return try CLIPModel(configuration: configuration, weights: RandomWeights(), tokenizer: nil,
                             preprocessor: preprocessor, precision: precision, threads: threads, batchSize: batchSize,
                             name: architecture)
    }

    init(
        configuration: CLIPConfiguration, weights: WeightSource, tokenizer: CLIPTokenizer?, preprocessor: ImagePreprocessor,
        precision: Precision, threads: Int?, batchSize: Int, name: String
    ) throws {
        guard precision.isSupported else {
            throw CLIPError(.invalidConfig, "\(precision) needs \(precision.requirement), which this one lacks; use fp32")
        }
        guard let (height, width) = preprocessor.outputSize else {
            throw CLIPError(.invalidConfig, "the preprocessor does not produce a fixed image size (enable center crop)")
        }
        guard height == configuration.vision.imageSize, width == configuration.vision.imageSize else {
            throw CLIPError(.invalidConfig,
                            "the preprocessor produces \(width)x\(height) images but the model takes \(configuration.vision.imageSize)")
        }
        self.configuration = configuration
        self.precision = precision
        self.tokenizer = tokenizer
        self.preprocessor = preprocessor
        pool = ForwardContextPool(threads: threads)
        self.batchSize = max(1, batchSize)
        self.name = name
        self.weights = weights
    }

    /// Reads and packs `towers` now rather than at their first use, so a damaged checkpoint fails here and
    /// the first request is not slowed by it. A process that only embeds text never loads the vision tower
    /// (for ViT-B/32, about 350 MB packed in fp32), and indexing loads the vision tower first.
    public func load(_ towers: Set<Tower> = Set(Tower.allCases)) throws {
        if towers.contains(.text) { _ = try loadText() }
        if towers.contains(.vision) { _ = try loadVision() }
    }

    /// The towers read and packed so far.
    public var loadedTowers: Set<Tower> {
        var loaded: Set<Tower> = []
        if textTower.withLock({ $0 != nil }) { loaded.insert(.text) }
        if visionTower.withLock({ $0 != nil }) { loaded.insert(.vision) }
        return loaded
    }

    private func loadText() throws -> TextTower {
        try built(textTower) {
            try TextTower(configuration: configuration.text, projectionDim: configuration.projectionDim,
                          weights: weights, precision: precision)
        }
    }

    private func loadVision() throws -> VisionTower {
        try built(visionTower) {
            try VisionTower(configuration: configuration.vision, projectionDim: configuration.projectionDim,
                            weights: weights, precision: precision)
        }
    }

    /// The tower in `slot`, built by `make` the first time, under the slot's lock (a caller needing it
    /// meanwhile waits; a build that throws is tried again next time). Once packed, the checkpoint pages it
    /// was read from go back to the kernel: the packed copy is all that is used.
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
    public var dimension: Int { configuration.projectionDim }

    // MARK: Text

    /// Tokenizes and embeds `texts`; each result is L2-normalised.
    public func embed(texts: [String]) throws -> [[Float]] {
        guard let tokenizer else {
            throw CLIPError(.invalidInput, "this model has no tokenizer; embed token ids instead")
        }
        return try embed(tokens: texts.map { tokenizer.encode($0, contextLength: configuration.text.maxPositions) })
    }

    /// Embeds token sequences (start token, tokens, end token, as `CLIPTokenizer.encode` returns them).
    public func embed(tokens: [[Int32]]) throws -> [[Float]] {
        guard !tokens.isEmpty else { return [] }
        let text = try loadText()
        for (index, ids) in tokens.enumerated() { try text.validate(ids, index: index) }
        // Batch sequences of similar length together: each batch runs to its longest pooled position.
        let order = tokens.indices.sorted { text.poolingIndex(tokens[$0]) < text.poolingIndex(tokens[$1]) }
        var results = [[Float]](repeating: [], count: tokens.count)
        try pool.withContext { context in
            for start in stride(from: 0, to: order.count, by: batchSize) {
                let indices = Array(order[start..<min(start + batchSize, order.count)])
                let embeddings = try context.run(count: indices.count, dimension: dimension) { output in
                    try text.embed(tokens: indices.map { tokens[$0] }, executor: context.executor,
                                   workspace: context.workspace, output: output)
                }
                for (slot, index) in indices.enumerated() { results[index] = embeddings[slot] }
            }
        }
        return results
    }

    // MARK: Images

    /// Preprocesses (like `CLIPImageProcessor`) and embeds RGB images; each result is L2-normalised.
    public func embed(images: [RGBImage]) throws -> [[Float]] {
        try pool.embed(images: images, size: configuration.vision.imageSize, tower: loadVision, preprocessor: preprocessor,
                       batchSize: batchSize)
    }

    /// Embeds already preprocessed images: `count` channel-planar `[3, size, size]` float arrays back to back.
    public func embed(pixelValues: [Float], count: Int) throws -> [[Float]] {
        try pool.embed(pixelValues: pixelValues, count: count, size: configuration.vision.imageSize, tower: loadVision,
                       batchSize: batchSize)
    }

    /// Names of the oneDNN kernels this model has used (for benchmark reports).
    public var kernelImplementations: [String] {
        pool.kernelImplementations
    }

}
