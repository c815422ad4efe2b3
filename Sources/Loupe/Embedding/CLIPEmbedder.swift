import Dispatch
import Foundation
import LoupeCLIP

/// Loupe's native CLIP engine behind the `Embedder` protocol.
///
/// Forward passes run on one dedicated serial queue, off Swift's cooperative thread pool: each pass
/// already uses every core through oneDNN, so running two at once would only make both slower, and
/// blocking cooperative threads for seconds would stall the rest of the program (the server, decoding).
public final class CLIPEmbedder: Embedder, Sendable {
    public let model: CLIPModel
    public let modelName: String
    private let queue = DispatchQueue(label: "loupe.clip", qos: .userInitiated)

    public init(model: CLIPModel, name: String? = nil) {
        self.model = model
        self.modelName = name ?? model.name
    }

    /// Loads a model folder (see `ModelLocator` for ids of pulled models).
    public convenience init(directory: URL, precision: LoupeTensor.Precision = .fp32, threads: Int? = nil) throws {
        self.init(model: try CLIPModel(directory: directory, precision: precision, threads: threads))
    }

    public var dimension: Int { model.dimension }
    public var inputSize: Int? { model.configuration.vision.imageSize }

    /// Pillow's resize and the centre crop, exactly as `embed(images:)` would do them; embedding the
    /// result only normalises it.
    public func prepare(_ image: RGBImage) -> RGBImage { model.preprocessor.resizedAndCropped(image) }

    public func embed(texts: [String]) async throws -> [[Float]] {
        guard !texts.isEmpty else { return [] }
        return try await run { try $0.embed(texts: texts) }
    }

    public func embed(images: [RGBImage]) async throws -> [[Float]] {
        guard !images.isEmpty else { return [] }
        return try await run { try $0.embed(images: images) }
    }

    private func run(_ body: @escaping @Sendable (CLIPModel) throws -> [[Float]]) async throws -> [[Float]] {
        let model = self.model
        return try await withCheckedThrowingContinuation { continuation in
            queue.async { continuation.resume(with: Result { try body(model) }) }
        }
    }
}

import LoupeTensor
