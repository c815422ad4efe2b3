import Foundation
import LoupeCLIP
import LoupeMedia
import LoupeStore

/// A searchable library of images and videos: an embedded vector database collection whose vectors
/// are made by an `Embedder` from the files themselves.
///
/// ```swift
/// let library = try await MediaLibrary.open(at: URL(fileURLWithPath: "loupe-data"),
///                                           embedder: try CLIPEmbedder(directory: modelFolder))
/// _ = try await library.index([URL(fileURLWithPath: "Pictures")])
/// let top = try await library.search(.text("orange tabby cat"), limit: 3)
/// ```
public final class MediaLibrary: Sendable {
    /// Settings of a library; the defaults suit a laptop.
    public struct Configuration: Sendable {
        public var collection = "media"
        /// Index of the vector field (HNSW, fp32 by default).
        public var index = IndexParams.hnsw
        /// Images decoded and embedded per batch.
        public var batchSize = 32
        /// Frames sampled per second of video.
        public var framesPerSecond = 1.0
        /// Seconds a video keyframe may lie from a sampling time to be embedded in place of the exact frame,
        /// with only keyframes decoded to reach it (0, the default: exact frames). About a quarter faster
        /// on 1080p H.264 with 0.5 s; the times stored are those of the frames embedded. Fixed-length
        /// moments only: scene detection needs its frames at their times.
        public var keyframeTolerance = 0.0
        /// How videos are cut into searchable moments.
        public var segmentation = VideoSegmentation.fixed(seconds: 6)
        /// Decode JPEGs at 1/2, 1/4 or 1/8 size while the short side stays at least the model's input, as
        /// Pillow's draft mode does (a 12-megapixel photo decodes about 16% faster than at the former limit of
        /// twice the input, mostly Huffman decoding being left). Embedding cosine to the full decode, measured
        /// with the test model (Tests/Fixtures/clip-tiny) on synthetic photos: 0.9978-0.9996 (1/4 and 1/8 down
        /// to a 225-pixel short side), against 0.9998-0.9999 when reductions stop at twice the input.
        public var fastJPEGDecoding = true
        /// Pictures larger than this are refused (decompression bombs).
        public var maxPixels = 100_000_000
        /// Limits for media fetched from URLs.
        public var remote = RemoteFetcher.Limits()

        public init() {}
    }

    /// How a video is cut into moments.
    public enum VideoSegmentation: Sendable, Equatable {
        case fixed(seconds: Double)
        /// At scene changes (content detector), with moments no longer than `maxSeconds`.
        case scenes(maxSeconds: Double)
    }

    public let store: LoupeClient
    public let embedder: any Embedder
    public let configuration: Configuration

    private init(store: LoupeClient, embedder: any Embedder, configuration: Configuration) {
        self.store = store
        self.embedder = embedder
        self.configuration = configuration
    }

    /// Opens (creating when needed) the library in database directory `directory`.
    ///
    /// - Throws: `LoupeError(.invalidArgument)` when the collection was built with another model: its
    ///   vectors would not be comparable with this one's.
    public static func open(at directory: URL, embedder: any Embedder, configuration: Configuration = Configuration())
        async throws -> MediaLibrary
    {
        let store = try LoupeClient(path: directory.path)
        let library = MediaLibrary(store: store, embedder: embedder, configuration: configuration)
        try await library.prepareCollection()
        return library
    }

    /// Opens a library on an existing store connection (e.g. the server's).
    public static func open(store: LoupeClient, embedder: any Embedder, configuration: Configuration = Configuration())
        async throws -> MediaLibrary
    {
        let library = MediaLibrary(store: store, embedder: embedder, configuration: configuration)
        try await library.prepareCollection()
        return library
    }

    private func prepareCollection() async throws {
        let name = configuration.collection
        let expected = MediaSchema.description(model: embedder.modelName, dimension: embedder.dimension)
        if await store.hasCollection(name) {
            let found = try await store.describeCollection(name).schema.description
            guard found == expected else {
                throw LoupeError(.invalidArgument, "collection '\(name)' was built as \"\(found)\", not \"\(expected)\"; "
                                 + "use the same model, another --collection, or another --data folder",
                                 input: store.path)
            }
        } else {
            try await store.createCollection(
                name, schema: MediaSchema.schema(dimension: embedder.dimension, model: embedder.modelName,
                                                 index: configuration.index))
        }
    }

    // MARK: Search

    /// Searches with one input.
    public func search(_ input: SearchInput, limit: Int = 10) async throws -> [SearchResult] {
        try await search(SearchRequest(input, limit: limit))
    }

    /// Searches with weighted inputs, filters and limits. Video moments are grouped by video: each video
    /// appears at most `momentsPerVideo` times (once by default, at its best moment).
    public func search(_ request: SearchRequest) async throws -> [SearchResult] {
        guard request.limit >= 1 else { throw LoupeError(.invalidArgument, "limit must be at least 1") }
        guard request.offset >= 0 else { throw LoupeError(.invalidArgument, "offset must not be negative") }
        guard (1...Self.maxMomentsPerVideo).contains(request.momentsPerVideo) else {
            throw LoupeError(.invalidArgument, "moments per video must be within 1...\(Self.maxMomentsPerVideo)")
        }
        guard request.limit <= Self.maxSearchDepth, request.offset <= Self.maxSearchDepth - request.limit else {
            throw LoupeError(.invalidArgument, "offset + limit must be at most \(Self.maxSearchDepth)")
        }
        let query = try await embed(request.terms)
        var clauses: [String] = []
        if let filter = try MediaFilter.group(request.filter) { clauses.append(filter) }
        clauses.append(request.includeWholeVideos ? "scope in [\"image\", \"clip\", \"video\"]" : "scope in [\"image\", \"clip\"]")
        if let kind = request.kind { clauses.append("kind == \"\(kind.rawValue)\"") }
        // The store counts groups (files), each holding up to `momentsPerVideo` hits, in score order: the
        // first `offset + limit` hits of that list are the best ones with at most that many per video.
        let wanted = request.offset + request.limit
        var options = SearchOptions(limit: wanted, filter: clauses.joined(separator: " and "),
                                    outputFields: MediaSchema.outputFields, ef: request.ef)
        options.annsField = MediaSchema.vector
        options.groupByField = MediaSchema.path
        options.groupSize = request.momentsPerVideo
        let hits = (try await store.search(configuration.collection, vectors: [query], options: options).first ?? [])
            .prefix(wanted).dropFirst(request.offset)
        return try hits.compactMap { hit in
            if let minimum = request.minScore, hit.distance < minimum { return nil }
            var row = hit.fields
            row[MediaSchema.id] = hit.id
            return SearchResult(item: try MediaItem(row: row), score: hit.distance)
        }
    }

    /// The unit query vector of weighted inputs.
    func embed(_ terms: [(weight: Float, input: SearchInput)]) async throws -> [Float] {
        guard !terms.isEmpty else { throw LoupeError(.invalidQuery, "a search needs at least one input") }
        var weighted: [WeightedVector] = []
        for (weight, input) in terms {
            weighted.append(WeightedVector(weight: weight, vector: try await vector(for: input)))
        }
        return try QueryArithmetic.combine(weighted)
    }

    /// The embedding of one search input.
    public func vector(for input: SearchInput) async throws -> [Float] {
        switch input {
        case .text(let text):
            guard !text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
                throw LoupeError(.invalidQuery, "the search text is empty")
            }
            return try await embedder.embed(texts: [text])[0]
        case .imageFile(let url):
            let image = try decoder().decode(contentsOf: url)
            return try await embedder.embed(images: [try RGBImage(image)])[0]
        case .imageURL(let url):
            let data = try await RemoteFetcher(limits: configuration.remote).fetch(url)
            let image = try decoder().decode(data, path: url.absoluteString)
            return try await embedder.embed(images: [try RGBImage(image)])[0]
        case .imageData(let data):
            let image = try decoder().decode(data, path: "uploaded image")
            return try await embedder.embed(images: [try RGBImage(image)])[0]
        case .videoClip(let url, let start, let end):
            guard end > start else { throw LoupeError(.invalidQuery, "the clip's end must come after its start", input: url.path) }
            var frames: [RGBImage] = []
            var video = VideoDecoder()
            video.configuration.framesPerSecond = max(configuration.framesPerSecond, 2 / (end - start))
            video.configuration.maxPixels = configuration.maxPixels
            video.configuration.startTime = start
            try video.sample(contentsOf: url) { frame in
                if frame.timestamp >= start && frame.timestamp < end {
                    frames.append(try RGBImage(width: frame.width, height: frame.height, pixels: frame.pixels))
                }
                return frame.timestamp < end
            }
            guard !frames.isEmpty else {
                throw LoupeError(.invalidQuery, "no frames between \(start) s and \(end) s", input: url.path)
            }
            let vectors = try await embedder.embed(images: frames)
            return VectorMath.normalized(VectorMath.mean(vectors)) ?? vectors[0]
        case .item(let id):
            let rows = try await store.get(configuration.collection, ids: [.int(id)], outputFields: [MediaSchema.vector])
            guard let vector = rows.first?[MediaSchema.vector]?.vectorValue else {
                throw LoupeError(.notFound, "no indexed item with id \(id)")
            }
            return vector
        case .vector(let vector):
            guard vector.count == embedder.dimension else {
                throw LoupeError(.dimensionMismatch, "a query vector of \(vector.count) values; the model gives \(embedder.dimension)")
            }
            return vector
        }
    }

    // MARK: Items

    /// The item with `id`, or nil.
    public func item(_ id: Int64) async throws -> MediaItem? {
        let rows = try await store.get(configuration.collection, ids: [.int(id)], outputFields: MediaSchema.outputFields)
        return try rows.first.map { try MediaItem(row: $0) }
    }

    /// The most moments of one video a search may return.
    public static let maxMomentsPerVideo = 1024
    /// The deepest a search may page (`offset + limit`).
    public static let maxSearchDepth = 16_384

    /// Items matching a filter expression (all when empty), in insertion order, skipping `offset`.
    public func items(filter: String = "", limit: Int? = nil, offset: Int = 0) async throws -> [MediaItem] {
        try await store.query(configuration.collection, filter: filter, outputFields: MediaSchema.outputFields,
                              limit: limit, offset: offset)
            .map { try MediaItem(row: $0) }
    }

    /// How many rows match a filter expression (all when empty).
    public func count(filter: String = "") async throws -> Int {
        let rows = try await store.query(configuration.collection, filter: filter, outputFields: ["count(*)"])
        return Int(rows.first?["count(*)"]?.intValue ?? 0)
    }

    /// Takes the file at `path` out of the library: its picture, or its video with every moment. The file
    /// itself is left alone, and indexing its folder again brings it back. Returns the rows removed.
    @discardableResult
    public func remove(path: String) async throws -> Int {
        try await store.delete(configuration.collection, filter: "path == {p}", parameters: ["p": .string(path)]).count
    }

    /// Takes every file under `folder` out of the library (the files stay); returns how many files and rows.
    @discardableResult
    public func remove(under folder: String) async throws -> (files: Int, rows: Int) {
        let filter = MediaFilter.under(folder)
        let files = try await count(filter: "(\(filter)) and scope in [\"image\", \"video\"]")
        return (files, try await store.delete(configuration.collection, filter: filter).count)
    }

    /// Counts of images, videos and video moments.
    public func counts() async throws -> (images: Int, videos: Int, moments: Int) {
        func count(_ scope: MediaScope) async throws -> Int { try await self.count(filter: "scope == \"\(scope.rawValue)\"") }
        return (try await count(.image), try await count(.video), try await count(.clip))
    }

    /// The picture decoder for indexing and for query pictures alike, so a query by an indexed file gets
    /// exactly its stored vector (and a large photo dropped into a search decodes at reduced size too).
    func decoder() -> ImageDecoder {
        var decoder = ImageDecoder()
        decoder.configuration.maxPixels = configuration.maxPixels
        if configuration.fastJPEGDecoding, let side = embedder.inputSize { decoder.configuration.minimumShortSide = side }
        return decoder
    }
}
