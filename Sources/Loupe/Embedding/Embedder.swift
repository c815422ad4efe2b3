import LoupeCLIP

/// Turns texts and pictures into vectors of one space. Loupe's own CLIP engine is one; remote
/// embedding providers can be others.
public protocol Embedder: Sendable {
    /// A stable name for the model, stored with every collection so vectors from different models never mix.
    var modelName: String { get }
    /// Length of every vector.
    var dimension: Int { get }
    /// L2-normalised embeddings of `texts`, in order.
    func embed(texts: [String]) async throws -> [[Float]]
    /// L2-normalised embeddings of `images`, in order.
    func embed(images: [RGBImage]) async throws -> [[Float]]
    /// The side of the square the model looks at, when it has one: decoders may work at a smaller size
    /// as long as they stay at least this large.
    var inputSize: Int? { get }
    /// The picture as the model will look at it (for CLIP: resized and centre-cropped to its input), so
    /// callers can do that work ahead, on their own threads: `embed(images: [prepare(image)])` gives the
    /// same vector as `embed(images: [image])`.
    func prepare(_ image: RGBImage) -> RGBImage
    /// How a text-image cosine maps to a calibrated match probability (SigLIP), or nil when the model's
    /// scores only rank results within one query (CLIP, the cloud embedders).
    var matchCalibration: MatchCalibration? { get }
}

extension Embedder {
    public var inputSize: Int? { nil }
    public func prepare(_ image: RGBImage) -> RGBImage { image }
    public var matchCalibration: MatchCalibration? { nil }
}
