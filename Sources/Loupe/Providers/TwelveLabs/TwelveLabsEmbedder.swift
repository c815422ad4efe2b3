import Foundation
import LoupeCLIP
import LoupeMedia
import Logging
import NIOHTTP1

/// Twelve Labs' Marengo embeddings (`Marengo-retrieval-2.7`, ...) behind `Embedder`: texts, pictures and
/// whole videos in one space, through API v1.3.
///
/// Texts and pictures go one per `POST /v1.3/embed` (multipart), up to `concurrency` at a time. A video is
/// sent whole to `POST /v1.3/embed/tasks` (its bytes, or its address when it came from a public URL); the
/// task is polled with growing waits until it is `ready`, and its clip and whole-video segments are fetched.
/// Every vector, and every video's segment list, is kept in the `RemoteEmbeddingCache`, so an input is
/// paid for once (a video is keyed by its SHA-256 and the clip length).
public final class TwelveLabsEmbedder: WholeVideoEmbedder, Sendable {
    public static let provider = "Twelve Labs"
    public static let defaultBaseURL = URL(string: "https://api.twelvelabs.io")!
    /// The clip lengths the API accepts (`video_clip_length`), in seconds.
    public static let clipSeconds = 2...10
    /// The largest video file the API takes as an upload.
    public static let maxUploadBytes: Int64 = 2 << 30

    /// Settings of the embedder.
    public struct Options: Sendable {
        /// Text and picture requests in flight at once.
        public var concurrency = 4
        /// The longest side of a picture sent.
        public var imageSide = 512
        /// The first wait before a video task's status is asked for; later waits grow by half each time.
        public var pollInterval: Duration = .seconds(2)
        public var maxPollInterval: Duration = .seconds(30)
        /// The longest a video task may take, from its creation.
        public var taskDeadline: Duration = .seconds(4 * 3600)
        /// The longest one upload of a video file may take (the client's timeout is for short calls).
        public var uploadTimeout: Duration = .seconds(1800)
        /// Video files sent at once (each is held in memory while it is sent); tasks wait in parallel.
        public var uploadsInFlight = 2
        public init() {}
    }

    public let client: ProviderClient
    /// Twelve Labs' model name, e.g. `Marengo-retrieval-2.7`.
    public let model: String
    public let options: Options
    public let cache: RemoteEmbeddingCache?
    public let dimension: Int
    private let uploads: AsyncGate

    /// `twelvelabs:MODEL`, as stored in the library.
    public var modelName: String { "twelvelabs:\(model)" }

    private init(client: ProviderClient, model: String, options: Options, cache: RemoteEmbeddingCache?, dimension: Int) {
        self.client = client
        self.model = model
        self.options = options
        self.cache = cache
        self.dimension = dimension
        uploads = AsyncGate(width: max(1, options.uploadsInFlight))
    }

    /// An embedder for `model`; its dimension is learnt from one embedding of a probe text (cached, so
    /// later runs make no call for it).
    public static func connect(client: ProviderClient, model: String, options: Options = Options(),
                               cache: RemoteEmbeddingCache?) async throws -> TwelveLabsEmbedder {
        guard options.concurrency >= 1, options.uploadsInFlight >= 1, options.imageSide >= 1 else {
            throw LoupeError(.invalidArgument, "the Twelve Labs concurrency, uploads in flight and picture side must be at least 1")
        }
        guard options.pollInterval > .zero, options.maxPollInterval >= options.pollInterval else {
            throw LoupeError(.invalidArgument, "the Twelve Labs poll interval must be positive and at most its maximum")
        }
        let probe = TwelveLabsEmbedder(client: client, model: model, options: options, cache: cache, dimension: 0)
        let vector = try await probe.embed([.text("loupe dimension probe")])[0]
        return TwelveLabsEmbedder(client: client, model: model, options: options, cache: cache, dimension: vector.count)
    }

    /// An embedder for `$TWELVE_LABS_BASE_URL` (default Twelve Labs' API) with the key from `key`, else
    /// `$TWELVE_LABS_API_KEY`, sent as `x-api-key`.
    public static func fromEnvironment(model: String, options: Options = Options(), key: String? = nil,
                                       cache: RemoteEmbeddingCache?,
                                       environment: [String: String] = ProcessInfo.processInfo.environment,
                                       policy: RemoteCallPolicy = RemoteCallPolicy(), timing: RetryTiming = .system,
                                       logger: Logger = Logger(label: "loupe.providers.twelvelabs")) async throws
        -> TwelveLabsEmbedder
    {
        let credential = try ProviderCredential.resolve(provider: provider, flag: key, variables: ["TWELVE_LABS_API_KEY"],
                                                        header: "x-api-key", environment: environment)
        let base = try ProviderEnvironment.baseURL(environment["TWELVE_LABS_BASE_URL"], default: defaultBaseURL,
                                                   variable: "TWELVE_LABS_BASE_URL")
        return try await connect(client: ProviderClient(provider: provider, baseURL: base, credential: credential,
                                                        policy: policy, timing: timing, logger: logger),
                                 model: model, options: options, cache: cache)
    }

    // MARK: Texts and pictures

    /// Pictures shrunk to `imageSide` before they are encoded and sent.
    public func prepare(_ image: RGBImage) -> RGBImage { RemoteInput.shrunk(image, longestSide: options.imageSide) }

    public func embed(texts: [String]) async throws -> [[Float]] {
        try await embed(texts.map { .text($0) })
    }

    public func embed(images: [RGBImage]) async throws -> [[Float]] {
        try await embed(images.map { .image(prepare($0)) })
    }

    /// Cached vectors where there are some; the rest one request each, `concurrency` at a time.
    func embed(_ inputs: [RemoteInput]) async throws -> [[Float]] {
        let run = RemoteEmbeddingRun(provider: Self.provider, modelName: modelName, dimension: dimension, cache: cache,
                                     batchSize: 1, concurrency: options.concurrency)
        return try await run.embed(inputs) { [try await self.request($0[0])] }
    }

    /// One `POST /v1.3/embed`: the input's unit vector.
    private func request(_ input: RemoteInput) async throws -> [Float] {
        var form = MultipartForm()
        form.add("model_name", model)
        let field: String
        switch input {
        case .text(let text):
            form.add("text", text)
            form.add("text_truncate", "end")
            field = "text_embedding"
        case .image(let image):
            let jpeg = try RemoteInput.jpeg(image)
            form.add("image_file", filename: "picture.jpg", contentType: "image/jpeg", data: jpeg)
            field = "image_embedding"
        }
        let response = try await client.send(ProviderClient.Request(
            method: .POST, path: "/v1.3/embed", headers: [("Content-Type", form.contentType)], body: form.finished(), operation: "embed"))
        let object = try response.jsonObject(provider: Self.provider)
        guard let embedding = object[field] as? [String: Any], let segments = embedding["segments"] as? [[String: Any]],
              let first = segments.first
        else { throw bad(response, "the answer has no '\(field).segments'") }
        return try vector(first["float"], what: "the \(field == "text_embedding" ? "text" : "picture")'s embedding", response)
    }

    // MARK: Videos

    public func check(_ segmentation: MediaLibrary.VideoSegmentation) throws {
        switch segmentation {
        case .fixed(let seconds):
            _ = try Self.clipLength(seconds)
        case .scenes:
            throw LoupeError(.invalidArgument, "Twelve Labs cuts videos into clips of one length: use --segments fixed with it")
        }
    }

    /// `--segment-seconds` as Twelve Labs' `video_clip_length`: a whole number of seconds from 2 to 10.
    public static func clipLength(_ seconds: Double) throws -> Int {
        guard seconds >= Double(clipSeconds.lowerBound), seconds <= Double(clipSeconds.upperBound), seconds == seconds.rounded() else {
            throw LoupeError(.invalidArgument, "--segment-seconds must be a whole number from \(clipSeconds.lowerBound) to "
                             + "\(clipSeconds.upperBound) with Twelve Labs (its video_clip_length), not \(seconds == seconds.rounded() && abs(seconds) < 1e15 ? String(Int(seconds)) : "\(seconds)")")
        }
        return Int(seconds)
    }

    public func embed(video: WholeVideo, stage: @escaping @Sendable (RemoteVideoStage) -> Void) async throws -> WholeVideoEmbedding {
        let clip = try Self.clipLength(video.segmentSeconds)
        let key = RemoteEmbeddingCache.key(bytes: Data("\(video.sha256)\0clip=\(clip)\0scopes=clip,video".utf8), kind: "video")
        if let stored = cache?.data(key, model: modelName),
           let cached = try? JSONDecoder().decode(WholeVideoEmbedding.self, from: stored),
           cached.video.count == dimension, cached.clips.allSatisfy({ $0.vector.count == dimension })
        {
            return cached
        }
        // A task created by a run that stopped (Ctrl-C, a crash, an outage) is picked up again rather than
        // paid for twice; one the provider no longer knows, or that failed, is replaced by a new upload.
        let pending = key + "-task"
        var embedding: WholeVideoEmbedding?
        if let stored = cache?.data(pending, model: modelName), let task = String(data: stored, encoding: .utf8),
           Self.isTaskID(task)
        {
            do {
                embedding = try await finish(task, video: video, stage: stage)
            } catch let error as ProviderError
                where error.code == .taskFailed || (error.code == .rejected && [400, 404, 410].contains(error.status ?? 0))
            {
                client.logger.notice("earlier video embedding task not resumed", metadata: [
                    "provider": "\(Self.provider)", "task": "\(task)", "video": "\(video.file.lastPathComponent)",
                    "error": "\(error)",
                ])
                cache?.remove(pending, model: modelName)
            }
        }
        if embedding == nil {
            let task = try await createTask(video, clip: clip, stage: stage)
            cache?.store(Data(task.utf8), pending, model: modelName)
            client.logger.info("video embedding task created", metadata: [
                "provider": "\(Self.provider)", "task": "\(task)", "video": "\(video.file.lastPathComponent)",
            ])
            do {
                embedding = try await finish(task, video: video, stage: stage)
            } catch let error as ProviderError where error.code == .taskFailed {
                cache?.remove(pending, model: modelName)
                throw error
            }
        }
        guard let embedding else { throw ProviderError(.badResponse, provider: Self.provider, message: "the video got no embedding") }
        if let encoded = try? JSONEncoder().encode(embedding) { cache?.store(encoded, key, model: modelName) }
        cache?.remove(pending, model: modelName)
        return embedding
    }

    /// Waits for `task` and fetches its segments.
    private func finish(_ task: String, video: WholeVideo, stage: @Sendable (RemoteVideoStage) -> Void) async throws
        -> WholeVideoEmbedding
    {
        stage(.waiting)
        try await waitUntilReady(task, video: video)
        stage(.fetching)
        return try await segments(of: task, video: video)
    }

    /// Whether `id` can stand in a request path: what task ids look like, nothing more.
    static func isTaskID(_ id: String) -> Bool {
        !id.isEmpty && id.count <= 128 && id.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") }
    }

    /// Creates the embedding task; its id. A file's bytes are held in memory while it is sent, so only
    /// `uploadsInFlight` uploads run at once (the other videos wait their turn, or for their tasks).
    private func createTask(_ video: WholeVideo, clip: Int, stage: @Sendable (RemoteVideoStage) -> Void) async throws -> String {
        guard video.url == nil else {
            stage(.uploading)
            return try await sendTask(video, clip: clip)
        }
        await uploads.enter()
        stage(.uploading)
        do {
            let id = try await sendTask(video, clip: clip)
            await uploads.leave()
            return id
        } catch {
            await uploads.leave()
            throw error
        }
    }

    private func sendTask(_ video: WholeVideo, clip: Int) async throws -> String {
        var form = MultipartForm()
        form.add("model_name", model)
        if let url = video.url {
            form.add("video_url", url.absoluteString)
        } else {
            let size = (try? video.file.resourceValues(forKeys: [.fileSizeKey]).fileSize).map(Int64.init) ?? 0
            guard size <= Self.maxUploadBytes else {
                throw LoupeError(.invalidArgument, "the file is \(size >> 20) MB; Twelve Labs takes uploads of at most 2 GB",
                                 input: video.file.path)
            }
            let bytes = try Data(contentsOf: video.file, options: .mappedIfSafe)
            form.add("video_file", filename: video.file.lastPathComponent, contentType: Self.mediaType(video.file), data: bytes)
        }
        form.add("video_clip_length", String(clip))
        form.add("video_embedding_scope", "clip")
        form.add("video_embedding_scope", "video")
        // An upload takes as long as the file needs; the short-call timeout would cut big files off.
        var uploader = client
        uploader.policy.timeout = max(client.policy.timeout, options.uploadTimeout)
        uploader.policy.deadline = max(client.policy.deadline, options.uploadTimeout)
        let request = ProviderClient.Request(method: .POST, path: "/v1.3/embed/tasks", headers: [("Content-Type", form.contentType)],
                                             body: form.finished(), operation: "embed-video")
        let response = try await uploader.send(request)
        let object = try response.jsonObject(provider: Self.provider)
        guard let id = object["_id"] as? String, Self.isTaskID(id) else { throw bad(response, "the new task has no valid '_id'") }
        return id
    }

    /// Polls the task's status, waiting longer each time, until it is `ready`.
    private func waitUntilReady(_ task: String, video: WholeVideo) async throws {
        let timing = client.timing
        let started = timing.now()
        var wait = options.pollInterval
        var last = ""
        while true {
            try await timing.sleep(wait)
            let response = try await client.send(ProviderClient.Request(
                method: .GET, path: "/v1.3/embed/tasks/\(task)/status", operation: "poll"))
            let object = try response.jsonObject(provider: Self.provider)
            guard let status = (object["status"] as? String)?.lowercased() else {
                throw bad(response, "the status of task \(task) has no 'status'")
            }
            if status != last {
                client.logger.debug("video embedding task status", metadata: [
                    "provider": "\(Self.provider)", "task": "\(task)", "status": "\(status)",
                ])
                last = status
            }
            switch status {
            case "ready":
                return
            case "failed":
                let reason = (object["message"] as? String ?? object["error"] as? String).map { ": \($0)" } ?? ""
                throw ProviderError(.taskFailed, provider: Self.provider, status: response.status,
                                    message: "embedding task \(task) for \(video.file.path) failed\(reason)",
                                    requestID: response.requestID)
            default:
                break
            }
            guard timing.now() - started + wait < options.taskDeadline else {
                throw ProviderError(.unavailable, provider: Self.provider, status: response.status,
                                    message: "embedding task \(task) for \(video.file.path) is still '\(status)' after "
                                        + ProviderClient.format(timing.now() - started), requestID: response.requestID)
            }
            wait = min(options.maxPollInterval, .seconds(wait.seconds * 1.5))
        }
    }

    /// The ready task's clips (in time order) and whole-video vector.
    ///
    /// A model that embeds several aspects of each clip (Marengo 2.7's `visual-text` and `audio`) answers
    /// with a segment per aspect: the visual one is kept (`visual-text`, else `visual`, else the first
    /// aspect answered), so each stretch of video is one moment.
    private func segments(of task: String, video: WholeVideo) async throws -> WholeVideoEmbedding {
        let response = try await client.send(ProviderClient.Request(method: .GET, path: "/v1.3/embed/tasks/\(task)",
                                                                     operation: "fetch"))
        let object = try response.jsonObject(provider: Self.provider)
        guard let embedding = object["video_embedding"] as? [String: Any], let raw = embedding["segments"] as? [[String: Any]] else {
            throw bad(response, "task \(task) has no 'video_embedding.segments'")
        }
        struct Segment {
            var scope: String
            var option: String?
            var start: Double
            var end: Double
            var vector: [Float]
        }
        var segments: [Segment] = []
        for (index, entry) in raw.enumerated() {
            let scope = (entry["embedding_scope"] as? String)?.lowercased() ?? "clip"
            let start = (entry["start_offset_sec"] as? NSNumber)?.doubleValue ?? 0
            let end = (entry["end_offset_sec"] as? NSNumber)?.doubleValue ?? start
            guard start.isFinite, end.isFinite, start >= 0, end >= start else {
                throw bad(response, "segment \(index) of task \(task) has no valid start_offset_sec and end_offset_sec")
            }
            segments.append(Segment(scope: scope, option: (entry["embedding_option"] as? String)?.lowercased(), start: start,
                                    end: end, vector: try vector(entry["float"], what: "segment \(index) of task \(task)", response)))
        }
        func visual(_ scope: String) -> [Segment] {
            let inScope = segments.filter { $0.scope == scope }
            let options = inScope.map(\.option)
            let chosen = options.contains("visual-text") ? "visual-text" : options.contains("visual") ? "visual" : options.first ?? nil
            return inScope.filter { $0.option == chosen }
        }
        let clips = visual("clip").sorted { $0.start < $1.start }.map { WholeVideoEmbedding.Clip(start: $0.start, end: $0.end, vector: $0.vector) }
        guard !clips.isEmpty else { throw bad(response, "task \(task) answered no clip segments") }
        let whole = visual("video").first?.vector ?? VectorMath.normalized(VectorMath.mean(clips.map(\.vector))) ?? clips[0].vector
        return WholeVideoEmbedding(clips: clips, video: whole)
    }

    // MARK: Answers

    /// `value` as a unit vector of the embedder's dimension.
    private func vector(_ value: Any?, what: String, _ response: ProviderClient.Response) throws -> [Float] {
        guard let values = value as? [Any] else { throw bad(response, "\(what) has no 'float' values") }
        let floats = values.compactMap { ($0 as? NSNumber)?.floatValue }
        guard floats.count == values.count, !floats.isEmpty, floats.allSatisfy(\.isFinite) else {
            throw bad(response, "\(what) is not a list of numbers")
        }
        if dimension != 0 && floats.count != dimension {
            throw bad(response, "\(what) has \(floats.count) values, not \(dimension)")
        }
        guard let unit = VectorMath.normalized(floats) else { throw bad(response, "\(what) is all zeros") }
        return unit
    }

    private func bad(_ response: ProviderClient.Response, _ message: String) -> ProviderError {
        ProviderError(.badResponse, provider: Self.provider, status: response.status, message: message, requestID: response.requestID)
    }

    /// The media type of a video file, by its extension.
    static func mediaType(_ file: URL) -> String {
        switch file.pathExtension.lowercased() {
        case "mp4", "m4v": "video/mp4"
        case "mov": "video/quicktime"
        case "webm": "video/webm"
        case "mkv": "video/x-matroska"
        case "avi": "video/x-msvideo"
        default: "application/octet-stream"
        }
    }
}

/// At most `width` holders at once; the others wait in order.
actor AsyncGate {
    private let width: Int
    private var holders = 0
    private var waiting: [CheckedContinuation<Void, Never>] = []

    init(width: Int) { self.width = width }

    func enter() async {
        if holders < width {
            holders += 1
            return
        }
        await withCheckedContinuation { waiting.append($0) }
    }

    /// Hands the place to the next in line, if any.
    func leave() {
        if waiting.isEmpty {
            holders -= 1
        } else {
            waiting.removeFirst().resume()
        }
    }
}
