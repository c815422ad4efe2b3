import Foundation
import LoupeCLIP
import LoupeFixtures
import LoupeMedia
import NIOHTTP1
import Synchronization
import LoupeTestSupport
import Testing
@testable import Loupe

@Suite("Twelve Labs embedder", .stopsProviderStandIns, .serialized)
struct TwelveLabsEmbedderTests {
    static let key = "tlk_test_secret_7c41a9"
    static let model = "Marengo-retrieval-2.7"

    static func embedder(_ base: URL, data: URL, timing: VirtualRetryTiming = VirtualRetryTiming(),
                         options: TwelveLabsEmbedder.Options = .init(),
                         environment: [String: String]? = nil) async throws -> TwelveLabsEmbedder {
        try await TwelveLabsEmbedder.fromEnvironment(
            model: model, options: options, cache: .inDataDirectory(data),
            environment: environment ?? ["TWELVE_LABS_BASE_URL": base.absoluteString, "TWELVE_LABS_API_KEY": key],
            timing: timing.timing)
    }

    static func folder() -> URL {
        FileManager.default.temporaryDirectory.appendingPathComponent("loupe-twelvelabs-\(UUID().uuidString)")
    }

    static func sceneVideo(in root: URL) throws -> URL {
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        let video = root.appendingPathComponent("scenes.mp4")
        try DemoLibrary.writeSceneVideo(to: video)
        return video
    }

    @Test("the shapes video indexed through Twelve Labs: \"a blue square\" finds the 4-8 s moment; a second run makes no calls")
    func indexSearchAndCache() async throws {
        let root = Self.folder()
        defer { try? FileManager.default.removeItem(at: root) }
        let media = root.appendingPathComponent("media")
        let pictures = try DemoLibrary.generate(into: media, perClass: 1)
        let video = media.appendingPathComponent("scenes.mp4")
        let data = root.appendingPathComponent("data")
        let twelve = TwelveLabsStandIn()
        let standIn = ProviderStandIn { request, _ in twelve.reply(request) }
        let base = try await standIn.start()
        let virtual = VirtualRetryTiming()

        let embedder = try await Self.embedder(base, data: data, timing: virtual)
        #expect(embedder.dimension == ShapeFeatureEmbedding.dimension)
        #expect(embedder.modelName == "twelvelabs:\(Self.model)")
        var configuration = MediaLibrary.Configuration()
        configuration.segmentation = .fixed(seconds: 4)
        let stages = CapturingLogHandler.Lines()
        let report = try await MediaLibrary.withLibrary(at: data, mode: .writer, embedder: embedder, configuration: configuration) {
            library in
            try await library.index([media.path]) { progress in
                if let stage = progress.stage { stages.append("\(progress.current ?? "-") \(stage)") }
            }
        }
        #expect(report.failures.isEmpty, "\(report.failures)")
        #expect(report.added == pictures.count + 1)
        #expect(report.moments == 3)
        #expect(stages.all == ["uploading", "waiting", "fetching"].map { "\(video.path) \($0)" })

        // What Loupe sent: the key on every call; the video whole, as Twelve Labs documents the task form.
        let calls = standIn.requests
        #expect(calls.allSatisfy { $0.header("x-api-key") == Self.key })
        let creations = calls.filter { $0.method == .POST && $0.path == "/v1.3/embed/tasks" }
        #expect(creations.count == 1)
        let creation = try #require(creations.first)
        #expect(creation.header("content-type")?.hasPrefix("multipart/form-data; boundary=") == true)
        let form = try #require(creation.form)
        #expect(creation.field("model_name") == Self.model)
        #expect(creation.field("video_clip_length") == "4")
        #expect(form.filter { $0.name == "video_embedding_scope" }.map(\.text) == ["clip", "video"])
        let upload = try #require(form.first { $0.name == "video_file" })
        #expect(upload.data == (try Data(contentsOf: video)), "the file's bytes, unchanged")
        #expect(upload.filename == "scenes.mp4" && upload.contentType == "video/mp4")
        // Polled until ready (one `processing`), with growing waits on the (virtual) clock; fetched once.
        #expect(calls.filter { $0.path == "/v1.3/embed/tasks/task-1/status" }.count == 2)
        #expect(calls.filter { $0.method == .GET && $0.path == "/v1.3/embed/tasks/task-1" }.count == 1)
        #expect(virtual.sleeps == [.seconds(2), .seconds(3)])
        // The probe and every picture through /v1.3/embed; no video frame went one by one.
        let embeds = calls.filter { $0.path == "/v1.3/embed" }
        #expect(embeds.count == 1 + pictures.count)
        for call in embeds {
            #expect(call.field("model_name") == Self.model)
            if call.field("text") != nil {
                #expect(call.field("text_truncate") == "end")
            } else {
                let image = try #require(call.form?.first { $0.name == "image_file" })
                #expect(image.data.starts(with: [0xFF, 0xD8]), "pictures go as JPEG")
            }
        }

        let truth = Dictionary(uniqueKeysWithValues: pictures.map { ($0.url.path, ($0.colour, $0.shape)) })
        let (moment, circles, items) = try await MediaLibrary.withLibrary(at: data, mode: .reader, embedder: embedder) { library in
            var request = SearchRequest(.text("a blue square"), limit: 1)
            request.filter.kind = .video
            let moment = try await library.search(request).results.first
            var pictures = SearchRequest(.text("a red circle"), limit: 1)
            pictures.filter.kind = .image
            return (moment, try await library.search(pictures).results, try await library.items(filter: "path == \"\(video.path)\""))
        }
        let found = try #require(moment)
        #expect(found.item.scope == .clip && found.item.path == video.path)
        #expect(found.item.start == 4 && found.item.end == 8, "moment \(found.item.start ?? -1)-\(found.item.end ?? -1) s")
        #expect(circles.count == 1 && circles.allSatisfy { truth[$0.item.path].map { $0 == (.red, .circle) } ?? false })

        // The rows have the fields the local path writes for the same video.
        let local = root.appendingPathComponent("local")
        try await MediaLibrary.withLibrary(at: local, mode: .writer, embedder: ShapeFeatureEmbedder(), configuration: configuration) {
            library in
            let report = try await library.index([video.path])
            #expect(report.failures.isEmpty, "\(report.failures)")
        }
        let expected = try await MediaLibrary.withLibrary(at: local, mode: .reader, embedder: ShapeFeatureEmbedder()) { library in
            try await library.items(filter: "path == \"\(video.path)\"")
        }
        func summary(_ items: [MediaItem]) -> [String] {
            items.sorted { ($0.scope.rawValue, $0.start ?? 0) < ($1.scope.rawValue, $1.start ?? 0) }.map { item in
                "\(item.scope) \(item.kind) \(item.start ?? -1)-\(item.end ?? -1) \(item.width ?? 0)x\(item.height ?? 0) "
                    + "\(item.duration ?? 0) \(item.sha256) \(item.size) \(item.metadata.sorted { $0.key < $1.key })"
            }
        }
        #expect(items.count == 4, "three moments and the whole video")
        #expect(summary(items) == summary(expected))
        #expect(items.allSatisfy { $0.thumbnailTime != nil })

        // A moved video is recognised by its bytes: its rows are re-addressed, nothing is sent.
        let moved = media.appendingPathComponent("moved-scenes.mp4")
        try FileManager.default.moveItem(at: video, to: moved)
        let beforeMove = standIn.requests.count
        let movedReport = try await MediaLibrary.withLibrary(at: data, mode: .writer, embedder: embedder,
                                                             configuration: configuration) { library in
            try await library.index([media.path])
        }
        #expect(movedReport.reused == 1 && movedReport.removed == 1 && movedReport.failures.isEmpty)
        #expect(standIn.requests.count == beforeMove, "the move called Twelve Labs")

        // Second run: a fresh embedder (its probe cached), a new collection indexing the same files, and the
        // same query: every vector and the video's segments come from the cache.
        let before = standIn.requests.count
        let again = try await Self.embedder(base, data: data, timing: virtual)
        configuration.collection = "media_again"
        let second = try await MediaLibrary.withLibrary(at: data, mode: .writer, embedder: again, configuration: configuration) {
            library in
            let report = try await library.index([media.path])
            _ = try await library.search(.text("a blue square"), limit: 2)
            return report
        }
        #expect(second.added == pictures.count + 1 && second.moments == 3 && second.failures.isEmpty)
        #expect(standIn.requests.count == before, "the second run called Twelve Labs \(standIn.requests.count - before) times")
    }

    @Test("a 429 with Retry-After on the upload and a 503 while polling are retried, without sleeping")
    func retriesUploadAndPoll() async throws {
        let root = Self.folder()
        defer { try? FileManager.default.removeItem(at: root) }
        let video = try Self.sceneVideo(in: root)
        let twelve = TwelveLabsStandIn()
        let once = Once()
        let standIn = ProviderStandIn { request, _ in
            if request.method == .POST && request.path == "/v1.3/embed/tasks" && once.first("upload") {
                return .json(["code": "too_many_requests", "message": "slow down"], status: .tooManyRequests,
                             headers: [("Retry-After", "7")])
            }
            if request.path.hasSuffix("/status") && once.first("poll") {
                return .json(["message": "try again"], status: .serviceUnavailable)
            }
            return twelve.reply(request)
        }
        let virtual = VirtualRetryTiming()
        let embedder = try await Self.embedder(try await standIn.start(), data: root.appendingPathComponent("data"), timing: virtual)
        let embedding = try await embedder.embed(
            video: WholeVideo(file: video, sha256: "retry-test", segmentSeconds: 4), stage: { _ in })
        #expect(embedding.clips.map { [$0.start, $0.end] } == [[0, 4], [4, 8], [8, 12]])
        #expect(VectorMath.dot(embedding.clips[1].vector, ShapeFeatureEmbedding.vector(colour: .blue, shape: .square)) > 0.999,
                "the visual-text segment, not the audio one")
        #expect(twelve.taskCount == 1, "one task: the refused upload created none")
        #expect(standIn.requests.filter { $0.path.hasSuffix("/status") }.count == 3, "503, processing, ready")
        #expect(virtual.sleeps.first == .seconds(7), "the wait Retry-After asked for: \(virtual.sleeps)")
        #expect(virtual.sleeps.count == 4 && virtual.sleeps[1] == .seconds(2) && virtual.sleeps[3] == .seconds(3))
        #expect(virtual.sleeps[2] < .milliseconds(500), "the 503's full-jitter backoff: \(virtual.sleeps)")
    }

    @Test("a failed task is an error naming the task and the video; indexing records it and goes on")
    func failedTask() async throws {
        let root = Self.folder()
        defer { try? FileManager.default.removeItem(at: root) }
        let media = root.appendingPathComponent("media")
        let video = try Self.sceneVideo(in: media)
        let twelve = TwelveLabsStandIn(.init(failsTasks: true))
        let standIn = ProviderStandIn { request, _ in twelve.reply(request) }
        let data = root.appendingPathComponent("data")
        let embedder = try await Self.embedder(try await standIn.start(), data: data)
        await #expect {
            try await embedder.embed(video: WholeVideo(file: video, sha256: "failed-test", segmentSeconds: 6), stage: { _ in })
        } throws: { error in
            guard let error = error as? ProviderError else { return false }
            return error.code == .taskFailed && "\(error)".contains("task-1") && "\(error)".contains(video.path)
                && "\(error)".contains("Twelve Labs")
        }
        let report = try await MediaLibrary.withLibrary(at: data, mode: .writer, embedder: embedder) { library in
            try await library.index([media.path])
        }
        #expect(report.failures.map(\.path) == [video.path])
        #expect(report.failures.first?.message.contains("task failed") == true, "\(report.failures)")
        #expect(report.moments == 0)
    }

    @Test("a bad key (401, 403) fails at once, naming the provider and status, never showing the key")
    func badKey() async throws {
        let root = Self.folder()
        defer { try? FileManager.default.removeItem(at: root) }
        for status in [HTTPResponseStatus.unauthorized, .forbidden] {
            let standIn = ProviderStandIn { request, _ in
                .json(["code": "api_key_invalid", "message": "The API key \(request.header("x-api-key") ?? "") is not valid"],
                      status: status)
            }
            let base = try await standIn.start()
            await #expect {
                try await Self.embedder(base, data: root)
            } throws: { error in
                guard let error = error as? ProviderError else { return false }
                let text = "\(error)"
                return error.code == .rejected && error.status == Int(status.code) && error.attempts == 1
                    && text.contains("Twelve Labs") && text.contains("is not valid") && !text.contains(Self.key)
            }
            #expect(standIn.requests.count == 1, "a \(status.code) is not retried")
            #expect(standIn.requests.first?.header("x-api-key") == Self.key)
        }
    }

    @Test("no key is a clear error naming the variable, before any call")
    func missingKey() async throws {
        let root = Self.folder()
        defer { try? FileManager.default.removeItem(at: root) }
        let standIn = ProviderStandIn { request, _ in TwelveLabsStandIn().reply(request) }
        let base = try await standIn.start()
        var settings = RemoteEmbedderSettings()
        settings.environment = ["TWELVE_LABS_BASE_URL": base.absoluteString]
        await #expect {
            try await EmbedderSpec.twelveLabs(model: Self.model).remoteEmbedder(data: root, settings: settings)
        } throws: { error in
            guard let error = error as? ProviderError else { return false }
            return error.code == .missingKey && "\(error)".contains("TWELVE_LABS_API_KEY")
        }
        #expect(standIn.requests.isEmpty)

        // With the key, `--embedder twelvelabs:MODEL` gives the Twelve Labs embedder.
        settings.environment["TWELVE_LABS_API_KEY"] = Self.key
        settings.timing = VirtualRetryTiming().timing
        let embedder = try #require(try await EmbedderSpec(parsing: "twelvelabs:\(Self.model)").remoteEmbedder(data: root, settings: settings))
        #expect(embedder is TwelveLabsEmbedder && embedder is any WholeVideoEmbedder)
        #expect(embedder.modelName == "twelvelabs:\(Self.model)" && embedder.dimension == ShapeFeatureEmbedding.dimension)
    }

    @Test("--segment-seconds outside 2-10 whole seconds, or scene segments, are refused before any upload")
    func segmentSeconds() async throws {
        for good in [2.0, 6, 10] { #expect(try TwelveLabsEmbedder.clipLength(good) == Int(good)) }
        for bad in [1.0, 11, 4.5, 0, -3, .nan, .infinity, 1e300] {
            do {
                _ = try TwelveLabsEmbedder.clipLength(bad)
                Issue.record("--segment-seconds \(bad) was accepted")
            } catch {
                #expect("\(error)".contains("--segment-seconds must be a whole number from 2 to 10"), "\(error)")
            }
        }
        let root = Self.folder()
        defer { try? FileManager.default.removeItem(at: root) }
        let media = root.appendingPathComponent("media")
        _ = try Self.sceneVideo(in: media)
        let twelve = TwelveLabsStandIn()
        let standIn = ProviderStandIn { request, _ in twelve.reply(request) }
        let data = root.appendingPathComponent("data")
        let embedder = try await Self.embedder(try await standIn.start(), data: data)
        #expect(throws: LoupeError.self) { try embedder.check(.scenes(maxSeconds: 6)) }
        for segmentation in [MediaLibrary.VideoSegmentation.fixed(seconds: 12), .scenes(maxSeconds: 6)] {
            var configuration = MediaLibrary.Configuration()
            configuration.segmentation = segmentation
            await #expect(throws: LoupeError.self) {
                try await MediaLibrary.withLibrary(at: data, mode: .writer, embedder: embedder, configuration: configuration) {
                    library in try await library.index([media.path])
                }
            }
        }
        #expect(twelve.taskCount == 0)
    }

    @Test("a task created before a run stopped is picked up again, not paid for twice; one the provider lost is replaced")
    func resumesPendingTask() async throws {
        let root = Self.folder()
        defer { try? FileManager.default.removeItem(at: root) }
        let video = try Self.sceneVideo(in: root)
        let data = root.appendingPathComponent("data")
        let twelve = TwelveLabsStandIn()
        let outage = Flag(true)
        let standIn = ProviderStandIn { request, _ in
            if request.path.hasSuffix("/status") && outage.isOn {
                return .json(["message": "maintenance"], status: .internalServerError)
            }
            return twelve.reply(request)
        }
        let base = try await standIn.start()
        let embedder = try await Self.embedder(base, data: data)
        let wanted = WholeVideo(file: video, sha256: "resume-test", segmentSeconds: 4)
        await #expect(throws: ProviderError.self) { try await embedder.embed(video: wanted, stage: { _ in }) }
        #expect(twelve.taskCount == 1)

        outage.set(false)
        let stages = CapturingLogHandler.Lines()
        let again = try await Self.embedder(base, data: data)
        let embedding = try await again.embed(video: wanted, stage: { stages.append($0.rawValue) })
        #expect(embedding.clips.count == 3)
        #expect(twelve.taskCount == 1, "the earlier task was polled again, not uploaded anew")
        #expect(stages.all == ["waiting", "fetching"])
        let calls = standIn.requests.count
        _ = try await again.embed(video: wanted, stage: { _ in })
        #expect(standIn.requests.count == calls, "done: from the cache")

        // A task the provider no longer knows (here: another stand-in) is replaced by a new upload.
        outage.set(true)
        let lost = WholeVideo(file: video, sha256: "lost-test", segmentSeconds: 4)
        await #expect(throws: ProviderError.self) { try await embedder.embed(video: lost, stage: { _ in }) }
        let other = TwelveLabsStandIn()
        let otherStandIn = ProviderStandIn { request, _ in other.reply(request) }
        let moved = try await Self.embedder(try await otherStandIn.start(), data: data)
        #expect(try await moved.embed(video: lost, stage: { _ in }).clips.count == 3)
        #expect(other.taskCount == 1)
        #expect(otherStandIn.requests.contains { $0.path == "/v1.3/embed/tasks/task-2/status" }, "the lost task was asked for first")
    }

    @Test("a video that came from a public address is sent as video_url, not as its bytes")
    func videoURL() async throws {
        let root = Self.folder()
        defer { try? FileManager.default.removeItem(at: root) }
        let video = try Self.sceneVideo(in: root)
        let address = "https://media.example.com/clips/scenes.mp4"
        let twelve = TwelveLabsStandIn(.init(videosAtURLs: [address: try Data(contentsOf: video)]))
        let standIn = ProviderStandIn { request, _ in twelve.reply(request) }
        let embedder = try await Self.embedder(try await standIn.start(), data: root.appendingPathComponent("data"))
        let embedding = try await embedder.embed(
            video: WholeVideo(file: video, sha256: "url-test", url: URL(string: address)!, segmentSeconds: 6), stage: { _ in })
        #expect(embedding.clips.map { [$0.start, $0.end] } == [[0, 6], [6, 12]])
        let creation = try #require(standIn.requests.first { $0.method == .POST && $0.path == "/v1.3/embed/tasks" })
        #expect(creation.field("video_url") == address)
        #expect(creation.form?.contains { $0.name == "video_file" } == false, "no bytes with an address")
        #expect(creation.field("video_clip_length") == "6")
    }

    @Test("form fields and file names cannot break out of their part")
    func multipartQuoting() throws {
        var form = MultipartForm(boundary: "b0undary")
        form.add("text", "a \"quoted\"\r\nline")
        form.add("video_file", filename: "evil\"\r\nContent-Type: text/html.mp4", contentType: "video/mp4", data: Data([1, 2, 3]))
        #expect(form.contentType == "multipart/form-data; boundary=b0undary")
        let parts = try #require(FormPart.parse(form.finished(), contentType: form.contentType))
        #expect(parts.map(\.name) == ["text", "video_file"])
        #expect(parts[0].text == "a \"quoted\"\r\nline")
        #expect(parts[1].filename == "evil%22%0D%0AContent-Type: text/html.mp4")
        #expect(parts[1].contentType == "video/mp4" && parts[1].data == Data([1, 2, 3]))
    }

    @Test("several videos are in flight at once, up to the limit")
    func videosInFlight() async throws {
        let root = Self.folder()
        defer { try? FileManager.default.removeItem(at: root) }
        let media = root.appendingPathComponent("media")
        let first = try Self.sceneVideo(in: media)
        // Different bytes (so no copy is recognised), the same pictures.
        try DemoLibrary.writeSceneVideo(to: media.appendingPathComponent("wide.mp4"), width: 192, height: 120)
        try DemoLibrary.writeSceneVideo(to: media.appendingPathComponent("tall.mp4"), width: 160, height: 144)
        // Each task answers `ready` only once all three have been created: indexing the videos one after
        // another would wait for ever, so the run finishing shows they were in flight together.
        let twelve = TwelveLabsStandIn(.init(pollsBeforeReady: 0))
        let standIn = ProviderStandIn { request, _ in
            if request.path.hasSuffix("/status") && twelve.taskCount < 3 {
                // The waits are virtual: a short real delay keeps the early videos from polling flat out.
                var reply = ProviderStandIn.Reply.json(["_id": "waiting", "status": "processing"])
                reply.delay = .milliseconds(10)
                return reply
            }
            return twelve.reply(request)
        }
        // A virtual deadline no run of polls reaches while the last uploads are decoded by the stand-in.
        var options = TwelveLabsEmbedder.Options()
        options.taskDeadline = .seconds(365 * 86_400)
        let embedder = try await Self.embedder(try await standIn.start(), data: root.appendingPathComponent("data"), options: options)
        var configuration = MediaLibrary.Configuration()
        configuration.videosInFlight = 3
        configuration.segmentation = .fixed(seconds: 4)
        let report = try await MediaLibrary.withLibrary(at: root.appendingPathComponent("data"), mode: .writer, embedder: embedder,
                                                        configuration: configuration) { library in
            try await library.index([media.path])
        }
        #expect(report.failures.isEmpty, "\(report.failures)")
        #expect(report.added == 3 && report.moments == 9)
        #expect(twelve.taskCount == 3)
        #expect(FileManager.default.fileExists(atPath: first.path))
    }
}

/// A switch tests flip between calls.
final class Flag: Sendable {
    private let value: Mutex<Bool>
    init(_ value: Bool) { self.value = Mutex(value) }
    var isOn: Bool { value.withLock { $0 } }
    func set(_ on: Bool) { value.withLock { $0 = on } }
}

/// Answers true the first time it is asked about each name.
final class Once: Sendable {
    private let seen = Mutex<Set<String>>([])
    func first(_ name: String) -> Bool { seen.withLock { $0.insert(name).inserted } }
}

/// The stand-ins' embedding as a local embedder: frames are decoded and embedded on this machine, as with CLIP.
struct ShapeFeatureEmbedder: Embedder {
    var modelName: String { "shape-features" }
    var dimension: Int { ShapeFeatureEmbedding.dimension }
    func embed(texts: [String]) async throws -> [[Float]] { texts.map(ShapeFeatureEmbedding.text) }
    func embed(images: [RGBImage]) async throws -> [[Float]] {
        images.map { image in
            let (colour, shape) = ShapeFeatureEmbedding.classify(DecodedImage(
                width: image.width, height: image.height, pixels: image.pixels,
                metadata: ImageMetadata(format: .ppm, storedWidth: image.width, storedHeight: image.height)))
            return ShapeFeatureEmbedding.vector(colour: colour, shape: shape)
        }
    }
}
