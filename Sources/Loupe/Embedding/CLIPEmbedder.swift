import Dispatch
import Foundation
import LoupeCLIP

/// Loupe's native image-text engine (CLIP or SigLIP, see `ImageTextModel`) behind the `Embedder` protocol.
///
/// Forward passes run on the `ComputeExecutor`'s model slot, off Swift's cooperative thread pool: each
/// pass already uses every core through oneDNN, so running two at once would only make both slower, and
/// blocking cooperative threads for seconds would stall the rest of the program (the server, decoding).
/// Bulk work (indexing) is embedded in chunks of `bulkChunk` pictures, so a query in the interactive lane
/// waits for one chunk at most, not for a whole ingest batch.
public final class CLIPEmbedder: Embedder, Sendable {
    public let model: any ImageTextModel
    public let modelName: String
    private let executor: ComputeExecutor
    /// Pictures per forward pass in the bulk lane.
    public let bulkChunk: Int

    public init(model: any ImageTextModel, name: String? = nil, executor: ComputeExecutor = .shared, bulkChunk: Int = 8) {
        self.model = model
        self.modelName = name ?? model.name
        self.executor = executor
        self.bulkChunk = max(1, bulkChunk)
    }

    /// Loads a model folder, CLIP or SigLIP by its `config.json` (see `ModelLocator` for ids of pulled models).
    public convenience init(directory: URL, precision: LoupeTensor.Precision = .fp32, threads: Int? = nil) throws {
        self.init(model: try ImageTextModelKind.loadModel(directory: directory, precision: precision, threads: threads))
    }

    public var dimension: Int { model.dimension }
    public var inputSize: Int? { model.imageSize }
    public var matchCalibration: MatchCalibration? { model.matchCalibration }

    /// Pillow's resize and the centre crop (CLIP; SigLIP resizes only), exactly as `embed(images:)` would do them; embedding the
    /// result only normalises it.
    public func prepare(_ image: RGBImage) -> RGBImage { model.preprocessor.resizedAndCropped(image) }

    public func embed(texts: [String]) async throws -> [[Float]] {
        guard !texts.isEmpty else { return [] }
        return try await run { try $0.embed(texts: texts) }
    }

    public func embed(images: [RGBImage]) async throws -> [[Float]] {
        guard !images.isEmpty else { return [] }
        guard ComputeExecutor.lane == .bulk, images.count > bulkChunk else {
            return try await run { try $0.embed(images: images) }
        }
        var vectors: [[Float]] = []
        vectors.reserveCapacity(images.count)
        for start in stride(from: 0, to: images.count, by: bulkChunk) {
            let chunk = Array(images[start..<min(start + bulkChunk, images.count)])
            vectors += try await run { try $0.embed(images: chunk) }
        }
        return vectors
    }

    private func run(_ body: @escaping @Sendable (any ImageTextModel) throws -> [[Float]]) async throws -> [[Float]] {
        let model = self.model
        return try await executor.run(.model) { try body(model) }
    }
}

import LoupeTensor
