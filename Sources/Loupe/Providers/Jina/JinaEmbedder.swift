import Foundation
import LoupeCLIP
import LoupeMedia
import Logging

/// Jina's multimodal embeddings (`jina-clip-v2`, ...) behind `Embedder`: texts and pictures in one space,
/// through `POST /v1/embeddings`.
///
/// Inputs go in batches of `batchSize`, with up to `concurrency` requests in flight; every vector is
/// kept in the `RemoteEmbeddingCache`, so an input is paid for once. Pictures are sent as base64 JPEG,
/// shrunk to at most `imageSide` pixels on their longest side (`prepare`, on the caller's threads).
public final class JinaEmbedder: Embedder, Sendable {
    public static let provider = "Jina"
    public static let defaultBaseURL = URL(string: "https://api.jina.ai")!

    /// Settings of the embedder; the defaults suit Jina's API limits.
    public struct Options: Sendable {
        /// Inputs per request.
        public var batchSize = 16
        /// Requests in flight at once.
        public var concurrency = 4
        /// Truncate vectors to this many dimensions (Matryoshka models); nil: the model's own.
        public var dimensions: Int?
        /// The longest side of a picture sent.
        public var imageSide = 512
        public init() {}
    }

    public let client: ProviderClient
    /// Jina's model id, e.g. `jina-clip-v2`.
    public let model: String
    public let options: Options
    public let cache: RemoteEmbeddingCache?
    public let dimension: Int

    /// `jina:MODEL` (with `@DIMS` when truncated), as stored in the library.
    public var modelName: String { "jina:\(model)" + (options.dimensions.map { "@\($0)" } ?? "") }

    private init(client: ProviderClient, model: String, options: Options, cache: RemoteEmbeddingCache?, dimension: Int) {
        self.client = client
        self.model = model
        self.options = options
        self.cache = cache
        self.dimension = dimension
    }

    /// An embedder for `model`; its dimension is learnt from one embedding of a probe text (cached, so
    /// later runs make no call for it).
    public static func connect(client: ProviderClient, model: String, options: Options = Options(),
                               cache: RemoteEmbeddingCache?) async throws -> JinaEmbedder {
        guard options.batchSize >= 1, options.concurrency >= 1 else {
            throw LoupeError(.invalidArgument, "the Jina batch size and concurrency must be at least 1")
        }
        if let dimensions = options.dimensions, dimensions < 1 {
            throw LoupeError(.invalidArgument, "--dimensions must be at least 1, not \(dimensions)")
        }
        let probe = JinaEmbedder(client: client, model: model, options: options, cache: cache, dimension: 0)
        let vector = try await probe.embed(.text("loupe dimension probe"))
        return JinaEmbedder(client: client, model: model, options: options, cache: cache, dimension: vector.count)
    }

    /// An embedder for `$JINA_BASE_URL` (default Jina's API) with the key from `key`, else `$JINA_API_KEY`.
    public static func fromEnvironment(model: String, options: Options = Options(), key: String? = nil,
                                       cache: RemoteEmbeddingCache?,
                                       environment: [String: String] = ProcessInfo.processInfo.environment,
                                       policy: RemoteCallPolicy = RemoteCallPolicy(),
                                       logger: Logger = Logger(label: "loupe.providers.jina")) async throws -> JinaEmbedder {
        let credential = try ProviderCredential.resolve(provider: provider, flag: key, variables: ["JINA_API_KEY"],
                                                        header: "Authorization", prefix: "Bearer ", environment: environment)
        let base = try ProviderEnvironment.baseURL(environment["JINA_BASE_URL"], default: defaultBaseURL, variable: "JINA_BASE_URL")
        return try await connect(client: ProviderClient(provider: provider, baseURL: base, credential: credential,
                                                        policy: policy, logger: logger),
                                 model: model, options: options, cache: cache)
    }

    /// Pictures shrunk to `imageSide` before they are encoded and sent.
    public func prepare(_ image: RGBImage) -> RGBImage { RemoteInput.shrunk(image, longestSide: options.imageSide) }

    public func embed(texts: [String]) async throws -> [[Float]] {
        try await embed(texts.map { .text($0) })
    }

    public func embed(images: [RGBImage]) async throws -> [[Float]] {
        try await embed(images.map { .image(prepare($0)) })
    }

    private func embed(_ input: RemoteInput) async throws -> [Float] { try await embed([input])[0] }

    /// Cached vectors where there are some; the rest in batches, `concurrency` requests at a time.
    func embed(_ inputs: [RemoteInput]) async throws -> [[Float]] {
        let run = RemoteEmbeddingRun(provider: Self.provider, modelName: modelName, dimension: dimension, cache: cache,
                                     batchSize: options.batchSize, concurrency: options.concurrency)
        return try await run.embed(inputs) { try await self.request($0) }
    }

    /// One request: the inputs' unit vectors, in order.
    private func request(_ inputs: [RemoteInput]) async throws -> [[Float]] {
        let input = try inputs.map { input -> [String: Any] in
            switch input {
            case .text(let text): ["text": text]
            case .image(let image): ["image": try RemoteInput.jpeg(image).base64EncodedString()]
            }
        }
        var body: [String: Any] = ["model": model, "input": input, "normalized": true,
                                   "embedding_type": "float"]
        if let dimensions = options.dimensions { body["dimensions"] = dimensions }
        let response = try await client.send(try ProviderClient.Request(path: "/v1/embeddings", json: body, operation: "embed"))
        let object = try response.jsonObject(provider: Self.provider)
        func bad(_ message: String) -> ProviderError {
            ProviderError(.badResponse, provider: Self.provider, status: response.status, message: message,
                          requestID: response.requestID)
        }
        guard let data = object["data"] as? [[String: Any]], data.count == inputs.count else {
            throw bad("expected \(inputs.count) embeddings in 'data'")
        }
        var vectors = [[Float]?](repeating: nil, count: inputs.count)
        for (position, entry) in data.enumerated() {
            let index = entry["index"] as? Int ?? position
            guard vectors.indices.contains(index), vectors[index] == nil,
                  let values = entry["embedding"] as? [Any]
            else { throw bad("embedding \(position) has no valid index or values") }
            let floats = values.compactMap { ($0 as? NSNumber)?.floatValue }
            guard floats.count == values.count, !floats.isEmpty, floats.allSatisfy(\.isFinite) else {
                throw bad("embedding \(index) is not a list of numbers")
            }
            if dimension != 0 && floats.count != dimension {
                throw bad("embedding \(index) has \(floats.count) values, not \(dimension)")
            }
            guard let unit = VectorMath.normalized(floats) else { throw bad("embedding \(index) is all zeros") }
            vectors[index] = unit
        }
        return vectors.map { $0 ?? [] }
    }
}
