import Foundation
import LoupeFixtures
import LoupeMedia
import LoupeTestSupport
import Synchronization
@testable import Loupe

/// One part of a `multipart/form-data` body, as a test reads what Loupe sent.
struct FormPart: Sendable {
    var name: String
    var filename: String?
    var contentType: String?
    var data: Data
    var text: String { String(decoding: data, as: UTF8.self) }

    /// The parts of `body`, whose `Content-Type` header names the boundary; nil when it is not a form.
    static func parse(_ body: Data, contentType: String?) -> [FormPart]? {
        guard let contentType, contentType.lowercased().hasPrefix("multipart/form-data"),
              let marker = contentType.range(of: "boundary=")
        else { return nil }
        let boundary = contentType[marker.upperBound...].split(separator: ";").first.map {
            $0.trimmingCharacters(in: CharacterSet(charactersIn: "\" "))
        } ?? ""
        let delimiter = Data("--\(boundary)".utf8)
        var edges: [Range<Data.Index>] = []
        var from = body.startIndex
        while let found = body.range(of: delimiter, in: from..<body.endIndex) {
            edges.append(found)
            from = found.upperBound
        }
        guard edges.count >= 2 else { return nil }
        var parts: [FormPart] = []
        for (open, close) in zip(edges, edges.dropFirst()) {
            var chunk = Data(body[open.upperBound..<close.lowerBound])
            guard chunk.starts(with: Data("\r\n".utf8)), chunk.count >= 4 else { return nil }
            chunk = Data(chunk.dropFirst(2).dropLast(2))
            guard let split = chunk.range(of: Data("\r\n\r\n".utf8)) else { return nil }
            let head = String(decoding: chunk[chunk.startIndex..<split.lowerBound], as: UTF8.self)
            let data = Data(chunk[split.upperBound...])
            var name: String?, filename: String?, type: String?
            for line in head.components(separatedBy: "\r\n") {
                let lower = line.lowercased()
                if lower.hasPrefix("content-disposition:") {
                    name = Self.parameter("name", in: line)
                    filename = Self.parameter("filename", in: line)
                } else if lower.hasPrefix("content-type:") {
                    type = line.dropFirst("content-type:".count).trimmingCharacters(in: .whitespaces)
                }
            }
            guard let name else { return nil }
            parts.append(FormPart(name: name, filename: filename, contentType: type, data: data))
        }
        return parts
    }

    private static func parameter(_ key: String, in line: String) -> String? {
        guard let range = line.range(of: "; \(key)=\"") else { return nil }
        let rest = line[range.upperBound...]
        return rest.firstIndex(of: "\"").map { String(rest[..<$0]) }
    }
}

extension ProviderStandIn.Received {
    /// The multipart form Loupe sent, when the body is one.
    var form: [FormPart]? { FormPart.parse(body, contentType: header("content-type")) }
    /// The text of the first form field `name`.
    func field(_ name: String) -> String? { form?.first { $0.name == name }?.text }
}

/// A Twelve Labs API v1.3 stand-in in the documented shapes: `POST /v1.3/embed` embeds a text or a picture
/// with `ShapeFeatureEmbedding`, and a video task (`POST /v1.3/embed/tasks`) is embedded from the video's
/// actual frames: each clip's vector is the normalised mean of the `ShapeFeatureEmbedding` of its frames,
/// the video's of all frames. Like Marengo 2.7 it answers an `audio` segment beside each `visual-text` one;
/// the audio vectors are those of the next clip, so a client that took them would find the wrong moment.
final class TwelveLabsStandIn: Sendable {
    struct Behaviour: Sendable {
        /// Status polls answered `processing` before a task is `ready`.
        var pollsBeforeReady = 1
        /// Every task ends `failed`.
        var failsTasks = false
        /// The videos `video_url` may name, by address (the stand-in's stand-in for the web).
        var videosAtURLs: [String: Data] = [:]
    }

    private struct StoredTask: Sendable {
        var model: String
        /// The answer's segments, as JSON.
        var segments: Data
        var polls = 0
    }

    private let behaviour: Behaviour
    private let tasks = Mutex<[String: StoredTask]>([:])

    init(_ behaviour: Behaviour = Behaviour()) { self.behaviour = behaviour }

    /// Video tasks created so far.
    var taskCount: Int { tasks.withLock { $0.count } }

    func reply(_ request: ProviderStandIn.Received) -> ProviderStandIn.Reply {
        guard let key = request.header("x-api-key"), !key.isEmpty else {
            return .json(["code": "api_key_invalid", "message": "No API key was provided."], status: .unauthorized)
        }
        switch (request.method, request.path) {
        case (.POST, "/v1.3/embed"):
            return embed(request)
        case (.POST, "/v1.3/embed/tasks"):
            return createTask(request)
        case (.GET, let path) where path.hasPrefix("/v1.3/embed/tasks/"):
            let rest = path.dropFirst("/v1.3/embed/tasks/".count).split(separator: "/").map(String.init)
            return task(rest.first ?? "", status: rest.count == 2 && rest[1] == "status")
        default:
            return .json(["code": "not_found", "message": "no route \(request.method) \(request.path)"], status: .notFound)
        }
    }

    private func embed(_ request: ProviderStandIn.Received) -> ProviderStandIn.Reply {
        guard let form = request.form, let model = request.field("model_name") else {
            return .json(["code": "parameter_invalid", "message": "model_name is required"], status: .badRequest)
        }
        if let text = request.field("text") {
            return .json(["model_name": model, "text_embedding": ["segments": [["float": Self.numbers(ShapeFeatureEmbedding.text(text))]]]])
        }
        if let image = form.first(where: { $0.name == "image_file" }), let vector = ShapeFeatureEmbedding.image(image.data) {
            return .json(["model_name": model, "image_embedding": ["segments": [["float": Self.numbers(vector)]]]])
        }
        return .json(["code": "parameter_invalid", "message": "one of text, image_file or image_url is required"], status: .badRequest)
    }

    private func createTask(_ request: ProviderStandIn.Received) -> ProviderStandIn.Reply {
        guard let form = request.form, let model = request.field("model_name"),
              let video = form.first(where: { $0.name == "video_file" })?.data
                  ?? request.field("video_url").flatMap({ behaviour.videosAtURLs[$0] }),
              let clip = request.field("video_clip_length").flatMap(Int.init), (2...10).contains(clip)
        else {
            return .json(["code": "parameter_invalid",
                          "message": "model_name, video_file or a reachable video_url, and video_clip_length (2-10) are required"],
                         status: .badRequest)
        }
        guard let segments = Self.segments(of: video, clip: Double(clip)).flatMap({ try? JSONSerialization.data(withJSONObject: $0) })
        else {
            return .json(["code": "video_file_invalid", "message": "the video could not be decoded"], status: .badRequest)
        }
        let id = tasks.withLock { tasks in
            let id = "task-\(tasks.count + 1)"
            tasks[id] = StoredTask(model: model, segments: segments)
            return id
        }
        return .json(["_id": id])
    }

    private func task(_ id: String, status: Bool) -> ProviderStandIn.Reply {
        let found: StoredTask? = tasks.withLock { tasks in
            if status { tasks[id]?.polls += 1 }
            return tasks[id]
        }
        guard let task = found else {
            return .json(["code": "resource_not_exists", "message": "task \(id) does not exist"], status: .notFound)
        }
        let state = behaviour.failsTasks ? "failed" : task.polls > behaviour.pollsBeforeReady ? "ready" : "processing"
        var answer: [String: Any] = ["_id": id, "model_name": task.model, "status": state,
                                     "video_embedding": ["metadata": ["video_embedding_scope": ["clip", "video"]]]]
        if !status {
            guard state == "ready" else {
                return .json(["code": "task_not_ready", "message": "task \(id) is \(state)"], status: .badRequest)
            }
            answer["video_embedding"] = ["metadata": ["video_embedding_scope": ["clip", "video"]], "segments": (try? JSONSerialization.jsonObject(with: task.segments)) ?? []]
        }
        return .json(answer)
    }

    /// The answer's segments: per clip a `visual-text` and an `audio` one, then the whole video's.
    static func segments(of video: Data, clip: Double) -> [[String: Any]]? {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("twelvelabs-standin-\(UUID().uuidString).mp4")
        defer { try? FileManager.default.removeItem(at: file) }
        guard (try? video.write(to: file)) != nil else { return nil }
        var decoder = VideoDecoder()
        decoder.configuration.framesPerSecond = 2
        guard let info = try? decoder.probe(contentsOf: file), let frames = try? decoder.sampleFrames(contentsOf: file),
              !frames.isEmpty
        else { return nil }
        let duration = info.duration ?? frames.last!.timestamp + 0.5
        let embedded = frames.map { frame -> (Double, [Float]) in
            let image = DecodedImage(width: frame.width, height: frame.height, pixels: frame.pixels,
                                     metadata: ImageMetadata(format: .ppm, storedWidth: frame.width, storedHeight: frame.height))
            let (colour, shape) = ShapeFeatureEmbedding.classify(image)
            return (frame.timestamp, ShapeFeatureEmbedding.vector(colour: colour, shape: shape))
        }
        var clips: [(Double, Double, [Float])] = []
        var start = 0.0
        while start < duration {
            let end = min(duration, start + clip)
            let members = embedded.filter { $0.0 >= start && $0.0 < end }.map(\.1)
            if !members.isEmpty, let vector = VectorMath.normalized(VectorMath.mean(members)) { clips.append((start, end, vector)) }
            start = end
        }
        var segments: [[String: Any]] = []
        for (index, clip) in clips.enumerated() {
            for (option, vector) in [("visual-text", clip.2), ("audio", clips[(index + 1) % clips.count].2)] {
                segments.append(["float": numbers(vector), "start_offset_sec": clip.0, "end_offset_sec": clip.1,
                                 "embedding_scope": "clip", "embedding_option": option])
            }
        }
        let whole = VectorMath.normalized(VectorMath.mean(embedded.map(\.1)))!
        segments.append(["float": numbers(whole), "start_offset_sec": 0, "end_offset_sec": duration,
                         "embedding_scope": "video", "embedding_option": "visual-text"])
        return segments
    }

    /// A vector as the API writes it: numbers, scaled (Marengo's vectors are not unit length).
    static func numbers(_ vector: [Float]) -> [Double] { vector.map { Double($0) * 3 } }
}
