import Foundation

/// Saves what an image model returned: each picture under the output folder with a sidecar JSON beside
/// it (prompt, model, references with their scores, the returned text, the time).
public struct GenerationOutput: Sendable {
    /// The pictures written.
    public var images: [URL]
    /// Their sidecars (`<picture>.json`), in the same order.
    public var sidecars: [URL]
    public var text: String
    public var references: [GenerationReference]

    /// Writes `result`'s pictures into `directory` (created when needed), never over an existing file.
    public static func save(_ result: GeminiImageGenerator.Result, prompt: String, model: String,
                            references: [GenerationReference], to directory: URL, now: Date = Date()) throws
        -> GenerationOutput
    {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let stamp = Self.stampFormatter.string(from: now)
        var images: [URL] = [], sidecars: [URL] = []
        for (index, image) in result.images.enumerated() {
            let ext = Self.fileExtension(image.mimeType)
            var url = directory.appendingPathComponent("generated-\(stamp)-\(index + 1).\(ext)")
            var attempt = 1
            while FileManager.default.fileExists(atPath: url.path) {
                attempt += 1
                url = directory.appendingPathComponent("generated-\(stamp)-\(index + 1)-\(attempt).\(ext)")
            }
            try image.data.write(to: url, options: .withoutOverwriting)
            let sidecar = url.appendingPathExtension("json")
            try sidecarJSON(prompt: prompt, model: model, references: references, text: result.text,
                            requestID: result.requestID, image: url, created: now)
                .write(to: sidecar, options: .atomic)
            images.append(url)
            sidecars.append(sidecar)
        }
        return GenerationOutput(images: images, sidecars: sidecars, text: result.text, references: references)
    }

    /// The references as JSON objects: path, score (null for hand-picked files), item id and frame time.
    public static func referenceObjects(_ references: [GenerationReference]) -> [[String: Any]] {
        references.map { reference in
            var object: [String: Any] = ["path": reference.path, "score": reference.score.map { Double($0) } ?? NSNull()]
            if let id = reference.itemID { object["item_id"] = id }
            if let time = reference.time { object["time_s"] = time }
            return object
        }
    }

    static func sidecarJSON(prompt: String, model: String, references: [GenerationReference], text: String,
                            requestID: String, image: URL, created: Date) throws -> Data {
        let object: [String: Any] = [
            "prompt": prompt, "model": model, "image": image.lastPathComponent, "text": text, "request_id": requestID,
            "created": ISO8601DateFormatter().string(from: created), "references": referenceObjects(references),
        ]
        return try JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
    }

    static func fileExtension(_ mimeType: String) -> String {
        switch mimeType.lowercased() {
        case "image/jpeg", "image/jpg": "jpg"
        case "image/webp": "webp"
        case "image/gif": "gif"
        default: "png"
        }
    }

    private static let stampFormatter: DateFormatter = {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyyMMdd-HHmmss"
        return formatter
    }()
}
