import Foundation
import LoupeCLIP
import LoupeMedia
import LoupeStore

/// A searchable library of images and videos: a vector database collection whose vectors are made by
/// an `Embedder` from the files themselves. It is the one place where searches and writes happen: the
/// command-line tool and the server only translate their arguments into its calls.
///
/// A library is opened as a `.writer` (one process at a time: indexing, removing, serving) or as a
/// `.reader` (any number, in any process, beside the writer, each seeing the writer's committed rows on
/// its next search). `withLibrary` closes it however the body ends, so the index files a writer built are
/// saved for the next process:
///
/// ```swift
/// try await MediaLibrary.withLibrary(at: URL(fileURLWithPath: "loupe-data"), mode: .writer,
///                                    embedder: try CLIPEmbedder(directory: modelFolder)) { library in
///     _ = try await library.index(["Pictures"])
/// }
/// let top = try await MediaLibrary.withLibrary(at: data, mode: .reader, embedder: embedder) { library in
///     try await library.search(.text("orange tabby cat"), limit: 3)
/// }
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
        /// Videos sent to a whole-video embedder (Twelve Labs) at once: each spends most of its time
        /// waiting for the provider, so several are in flight.
        public var videosInFlight = 4
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
        /// Where decoding and model passes run.
        public var executor = ComputeExecutor.shared
        /// The memory budget every picture decode waits in (the process's, which `loupe serve` sizes).
        public var decodeBudget = DecodeBudget.shared

        public init() {}
    }

    /// How a video is cut into moments.
    public enum VideoSegmentation: Sendable, Equatable {
        case fixed(seconds: Double)
        /// At scene changes (content detector), with moments no longer than `maxSeconds`.
        case scenes(maxSeconds: Double)
    }

    /// How a library is opened.
    public enum Mode: Sendable, Equatable {
        /// Searches and listings only; any number beside one writer. The library must exist.
        case reader
        /// Indexing, removing and searching; one process at a time.
        case writer
    }

    /// Where the rows and vectors live.
    public let store: any MediaStore
    public let embedder: any Embedder
    public let configuration: Configuration
    public let mode: Mode
    /// The folder for local state: downloads, thumbnails, jobs (for an embedded store, its directory).
    public let dataDirectory: URL

    private init(store: any MediaStore, embedder: any Embedder, configuration: Configuration, mode: Mode,
                 dataDirectory: URL) {
        self.store = store
        self.embedder = embedder
        self.configuration = configuration
        self.mode = mode
        self.dataDirectory = dataDirectory
    }

    /// Opens the library in the embedded database at `directory` (a writer creates it when needed).
    ///
    /// - Throws: `LoupeError(.invalidArgument)` when the collection was built with another model: its
    ///   vectors would not be comparable with this one's; `LoupeError(.notFound)` for a reader of a folder
    ///   without a library; `StoreError(.locked)` for a second writer.
    public static func open(at directory: URL, mode: Mode = .writer, embedder: any Embedder,
                            configuration: Configuration = Configuration()) async throws -> MediaLibrary {
        try await open(store: try openStore(at: directory, mode: mode), mode: mode, embedder: embedder,
                       configuration: configuration, dataDirectory: directory)
    }

    /// The embedded store at `directory`, opened as `open(at:)` opens it; for callers that load the model
    /// meanwhile, then pass both to `open(store:)`.
    public static func openStore(at directory: URL, mode: Mode) throws -> EmbeddedMediaStore {
        if mode == .reader {
            let database = directory.appendingPathComponent("loupe.sqlite").path
            guard FileManager.default.fileExists(atPath: database) else {
                throw LoupeError(.notFound, "no library here (run `loupe index` first, or pass --data)",
                                 input: directory.path)
            }
        }
        return try EmbeddedMediaStore(directory: directory, readOnly: mode == .reader)
    }

    /// Opens a library on a store (an embedded database already open, or another `MediaStore`).
    public static func open(store: any MediaStore, mode: Mode = .writer, embedder: any Embedder,
                            configuration: Configuration = Configuration(), dataDirectory: URL? = nil)
        async throws -> MediaLibrary
    {
        let library = MediaLibrary(store: store, embedder: embedder, configuration: configuration, mode: mode,
                                   dataDirectory: dataDirectory ?? URL(fileURLWithPath: store.location))
        do {
            try await library.prepareCollection()
        } catch {
            try? await store.close()
            throw error
        }
        return library
    }

    /// Opens the library at `directory`, runs `body`, and closes it however `body` ends (a writer's graphs
    /// are built and saved, so the next process starts fast).
    public static func withLibrary<T: Sendable>(
        at directory: URL, mode: Mode, embedder: any Embedder, configuration: Configuration = Configuration(),
        _ body: (MediaLibrary) async throws -> T
    ) async throws -> T {
        let library = try await open(at: directory, mode: mode, embedder: embedder, configuration: configuration)
        return try await library.closing(body)
    }

    /// Runs `body`, then closes the library, also when `body` throws.
    public func closing<T: Sendable>(_ body: (MediaLibrary) async throws -> T) async throws -> T {
        let result: T
        do {
            result = try await body(self)
        } catch {
            try? await close()
            throw error
        }
        try await close()
        return result
    }

    /// Saves what a writer built (index files); the library stays open.
    public func flush() async throws { try await store.flush() }

    /// Flushes and closes the store; the library cannot be used afterwards.
    public func close() async throws { try await store.close() }

    private func prepareCollection() async throws {
        let name = configuration.collection
        let expected = MediaSchema.description(model: embedder.modelName, dimension: embedder.dimension)
        if let schema = try await store.schema(of: name) {
            guard schema.description == expected else {
                throw LoupeError(.invalidArgument, "collection '\(name)' was built as \"\(schema.description)\", not \"\(expected)\"; "
                                 + "use the same model, another --collection, or another --data folder",
                                 input: store.location)
            }
        } else if mode == .reader {
            throw LoupeError(.notFound, "no collection '\(name)' (run `loupe index` first)", input: store.location)
        } else {
            try await store.createCollection(
                name, schema: MediaSchema.schema(dimension: embedder.dimension, model: embedder.modelName,
                                                 index: configuration.index))
        }
    }

    // MARK: Search

    /// Searches with one input.
    public func search(_ input: SearchInput, limit: Int = 10) async throws -> SearchResponse {
        try await search(SearchRequest(input, limit: limit))
    }

    /// Searches with weighted inputs, filters and limits. Video moments are grouped by video: each video
    /// appears at most `momentsPerVideo` times (once by default, at its best moment). Query embedding runs
    /// in the executor's interactive lane, ahead of any indexing.
    public func search(_ request: SearchRequest) async throws -> SearchResponse {
        let clock = ContinuousClock()
        let started = clock.now
        guard request.limit >= 1 else { throw LoupeError(.invalidArgument, "limit must be at least 1") }
        guard request.offset >= 0 else { throw LoupeError(.invalidArgument, "offset must not be negative") }
        guard (1...Self.maxMomentsPerVideo).contains(request.momentsPerVideo) else {
            throw LoupeError(.invalidArgument, "moments per video must be within 1...\(Self.maxMomentsPerVideo)")
        }
        guard request.limit <= Self.maxSearchDepth, request.offset <= Self.maxSearchDepth - request.limit else {
            throw LoupeError(.invalidArgument, "offset + limit must be at most \(Self.maxSearchDepth)")
        }
        if let minimum = request.minScore, !minimum.isFinite {
            throw LoupeError(.invalidArgument, "the minimum score must be a finite number")
        }
        let calibration = probabilityCalibration(for: request.terms)
        var minimumScore = request.minScore
        if let probability = request.minProbability {
            guard probability > 0, probability < 1 else {
                throw LoupeError(.invalidArgument, "the minimum probability \(probability) must be strictly between 0 and 1",
                                 input: "min probability")
            }
            guard let calibration else {
                throw LoupeError(.invalidArgument, embedder.matchCalibration == nil
                    ? "the model \(embedder.modelName) gives no calibrated probabilities (SigLIP models do); use a minimum score"
                    : "a minimum probability needs a search by one text (probabilities are for text-picture pairs)",
                    input: "min probability")
            }
            minimumScore = max(minimumScore ?? -.infinity, calibration.cosine(probability: probability))
        }
        guard (0...Autocut.maximum).contains(request.autocut) else {
            throw LoupeError(.invalidArgument, "autocut \(request.autocut) must be within 0...\(Autocut.maximum) (0 keeps every result)",
                             input: "autocut")
        }
        let filter = try request.filter.compiled(scopes: request.includeWholeVideos ? [.image, .clip, .video] : [.image, .clip])
        let query = try await ComputeExecutor.$lane.withValue(.interactive) { try await embed(request.terms) }
        let embedded = clock.now
        // The store counts groups (files), each holding up to `momentsPerVideo` hits, in score order: the
        // first `offset + limit` hits of that list are the best ones with at most that many per video.
        // Relevance groups are judged on the top `Autocut.window` hits whatever the page, so every page of
        // one search agrees on where the cliffs are.
        let wanted = request.offset + request.limit
        let fetched = max(wanted, Autocut.window)
        var options = SearchOptions(limit: fetched, outputFields: MediaSchema.outputFields, ef: request.ef)
        options.expression = filter
        options.annsField = MediaSchema.vector
        options.groupByField = MediaSchema.path
        options.groupSize = request.momentsPerVideo
        let ranking = Array(try await store.search(configuration.collection, vector: query, options: options).prefix(fetched))
        let groups = Autocut.groups(ranking.map(\.distance))
        let kept = Autocut.kept(groups, autocut: request.autocut)
        let page = request.offset..<min(wanted, ranking.count)
        let shown = request.offset..<max(request.offset, min(wanted, ranking.count, kept))
        let results = try shown.compactMap { index -> SearchResult? in
            let hit = ranking[index]
            if let minimumScore, hit.distance < minimumScore { return nil }
            var row = hit.fields
            row[MediaSchema.id] = hit.id
            return SearchResult(item: try MediaItem(row: row), score: hit.distance, relevance: groups[index],
                                probability: calibration?.probability(cosine: hit.distance))
        }
        let finished = clock.now
        return SearchResponse(results: results, cutByAutocut: max(0, page.count - shown.count),
                              timings: SearchTimings(embedding: embedded - started, search: finished - embedded,
                                                     total: finished - started))
    }

    /// The calibration that turns this search's scores into match probabilities: the model's, when the
    /// search is by one text with a positive weight (a combination of terms, or a picture, has no calibrated
    /// probability: SigLIP calibrates text-picture pairs).
    func probabilityCalibration(for terms: [(weight: Float, input: SearchInput)]) -> MatchCalibration? {
        guard terms.count == 1, terms[0].weight > 0, case .text = terms[0].input else { return nil }
        return embedder.matchCalibration
    }

    /// The unit query vector of weighted inputs.
    func embed(_ terms: [(weight: Float, input: SearchInput)]) async throws -> [Float] {
        guard !terms.isEmpty else { throw LoupeError(.invalidQuery, "a search needs at least one input") }
        guard terms.count <= SearchRequest.maxTerms else {
            throw LoupeError(.invalidQuery, "a search combines at most \(SearchRequest.maxTerms) terms, not \(terms.count)")
        }
        var weighted: [WeightedVector] = []
        for (weight, input) in terms {
            guard weight.isFinite else { throw LoupeError(.invalidQuery, "a term's weight must be a finite number") }
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
            let data = try ImageDecoder.read(url)
            let image = try await decodePicture(data, path: url.path)
            return try await embedder.embed(images: [image])[0]
        case .imageURL(let url):
            let data = try await RemoteFetcher(limits: configuration.remote).fetch(url)
            return try await vector(for: .imageData(data), path: url.absoluteString)
        case .imageData(let data):
            return try await vector(for: .imageData(data), path: "uploaded image")
        case .itemClip(let id, let start, let end):
            guard let item = try await item(id) else { throw LoupeError(.notFound, "no indexed item with id \(id)") }
            guard item.kind == .video else { throw LoupeError(.invalidQuery, "item \(id) is not a video", input: item.path) }
            return try await vector(for: .videoClip(URL(fileURLWithPath: item.path), start: start, end: end))
        case .videoClip(let url, let start, let end):
            guard start.isFinite, end.isFinite, start >= 0, end > start else {
                throw LoupeError(.invalidQuery, "a clip needs finite times with 0 <= start < end", input: url.path)
            }
            guard end - start <= Self.maxClipSeconds, start <= Self.maxClipStart else {
                throw LoupeError(.invalidQuery, "a clip may last at most \(Int(Self.maxClipSeconds)) s and start within "
                                 + "\(Int(Self.maxClipStart)) s", input: url.path)
            }
            var video = VideoDecoder()
            video.configuration.framesPerSecond = max(configuration.framesPerSecond, 2 / (end - start))
            video.configuration.maxPixels = configuration.maxPixels
            video.configuration.startTime = start
            let decoder = video
            let frames = try await configuration.executor.run(.cpu) { () throws -> [RGBImage] in
                var frames: [RGBImage] = []
                try decoder.sample(contentsOf: url) { frame in
                    if frame.timestamp >= start && frame.timestamp < end {
                        frames.append(try RGBImage(width: frame.width, height: frame.height, pixels: frame.pixels))
                    }
                    return frame.timestamp < end
                }
                return frames
            }
            guard !frames.isEmpty else {
                throw LoupeError(.invalidQuery, "no frames between \(start) s and \(end) s", input: url.path)
            }
            let vectors = try await embedder.embed(images: frames)
            return VectorMath.normalized(VectorMath.mean(vectors)) ?? vectors[0]
        case .item(let id):
            let rows = try await store.get(configuration.collection, ids: [id], fields: [MediaSchema.vector])
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

    /// The embedding of an encoded picture in memory.
    private func vector(for input: SearchInput, path: String) async throws -> [Float] {
        guard case .imageData(let data) = input else { return try await vector(for: input) }
        let image = try await decodePicture(data, path: path)
        return try await embedder.embed(images: [image])[0]
    }

    // MARK: Items

    /// The item with `id`, or nil.
    public func item(_ id: Int64) async throws -> MediaItem? {
        let rows = try await store.get(configuration.collection, ids: [id], fields: MediaSchema.outputFields)
        return try rows.first.map { try MediaItem(row: $0) }
    }

    /// The longest video stretch a search may embed, and the latest time it may start at (seconds).
    public static let maxClipSeconds = 600.0
    public static let maxClipStart = 1e7

    /// The most moments of one video a search may return.
    public static let maxMomentsPerVideo = 1024
    /// The deepest a search may page (`offset + limit`).
    public static let maxSearchDepth = 16_384

    /// Indexed files (pictures and whole videos, not moments) that pass `filter`, in indexing order,
    /// skipping `offset`.
    public func files(matching filter: MediaFilter = MediaFilter(), limit: Int? = nil, offset: Int = 0) async throws
        -> [MediaItem]
    {
        try await store.query(configuration.collection, matching: try filter.compiled(scopes: [.image, .video]),
                              fields: MediaSchema.outputFields, limit: limit, offset: offset)
            .map { try MediaItem(row: $0) }
    }

    /// How many indexed files pass `filter`.
    public func fileCount(matching filter: MediaFilter = MediaFilter()) async throws -> Int {
        try await store.count(configuration.collection, matching: try filter.compiled(scopes: [.image, .video]))
    }

    /// Rows of every scope (pictures, moments, whole videos) matching a Milvus filter expression (all when
    /// empty), in insertion order, skipping `offset`.
    public func items(filter: String = "", limit: Int? = nil, offset: Int = 0) async throws -> [MediaItem] {
        try await store.query(configuration.collection, matching: try Self.parse(filter), fields: MediaSchema.outputFields,
                              limit: limit, offset: offset)
            .map { try MediaItem(row: $0) }
    }

    /// How many rows of every scope match a Milvus filter expression (all when empty).
    public func count(filter: String = "") async throws -> Int {
        try await store.count(configuration.collection, matching: try Self.parse(filter))
    }

    private static func parse(_ filter: String) throws -> FilterExpression? {
        guard !filter.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else { return nil }
        do {
            return try FilterExpression.parse(filter)
        } catch {
            throw LoupeError(.invalidQuery, "the filter '\(filter)' is not a valid expression: \(error)")
        }
    }

    /// Takes the file at `path` out of the library: its picture, or its video with every moment. The file
    /// itself is left alone, and indexing its folder again brings it back. Returns the rows removed.
    @discardableResult
    public func remove(path: String) async throws -> Int {
        try await store.delete(configuration.collection, matching: MediaFilter.file(path))
    }

    /// Takes every file under `folder` out of the library (the files stay); returns how many files and rows.
    @discardableResult
    public func remove(under folder: String) async throws -> (files: Int, rows: Int) {
        let files = try await fileCount(matching: MediaFilter(folder: folder))
        return (files, try await store.delete(configuration.collection, matching: MediaFilter.under(folder)))
    }

    /// Counts of images, videos and video moments.
    public func counts() async throws -> (images: Int, videos: Int, moments: Int) {
        func count(_ scope: MediaScope) async throws -> Int {
            try await store.count(configuration.collection, matching: .equals(MediaSchema.scope, .string(scope.rawValue)))
        }
        return (try await count(.image), try await count(.video), try await count(.clip))
    }

    /// Rows of the collection and how many the vector index covers.
    public func statistics() async throws -> MediaStoreStatistics {
        try await store.statistics(configuration.collection)
    }

    /// Decodes an encoded picture on the executor's CPU slots once the memory its decoding needs (from the
    /// header: `ImageDecoder.decodingCost`) fits in `configuration.decodeBudget`. Searches by
    /// picture, uploads, URLs and indexing all decode through here, so large pictures arriving at once
    /// decode in turn instead of together. The wait holds no CPU slot.
    func decodePicture(_ data: Data, path: String, lane: ComputeExecutor.Lane = ComputeExecutor.lane) async throws -> RGBImage {
        try await pictureDecoding.decode(data, path: path, with: decoder(), lane: lane) { try RGBImage($0) }
    }

    /// The library's decoding setting and budget (`PictureDecoding`, shared with tables).
    var pictureDecoding: PictureDecoding {
        PictureDecoding(maxPixels: configuration.maxPixels, fastJPEGDecoding: configuration.fastJPEGDecoding,
                        budget: configuration.decodeBudget, executor: configuration.executor)
    }

    /// The picture decoder for indexing and for query pictures alike, so a query by an indexed file gets
    /// exactly its stored vector (and a large photo dropped into a search decodes at reduced size too).
    func decoder() -> ImageDecoder {
        pictureDecoding.decoder(inputSize: embedder.inputSize)
    }
}
