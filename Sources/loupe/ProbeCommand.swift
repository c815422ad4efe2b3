import ArgumentParser
import Foundation
import LoupeMedia

struct ProbeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "probe",
        abstract: "Show what images and videos are: size, format, EXIF date, camera, GPS, duration, codec.",
        discussion: "Files that cannot be read are reported on stderr; the exit status is non-zero if any failed.")

    @Argument(help: "Image or video files.")
    var files: [String]

    @Flag(name: .long, help: "Print a JSON array: one object per file, with \"error\" for failures.")
    var json = false

    func run() async throws {
        let probe = MediaProbe()
        var entries: [ProbeEntry] = []
        for file in files {
            do {
                entries.append(ProbeEntry(path: file, info: try probe.probe(contentsOf: URL(fileURLWithPath: file))))
            } catch {
                entries.append(ProbeEntry(path: file, error: "\(error)"))
                if !json { FileHandle.standardError.write(Data("loupe: error: \(error)\n".utf8)) }
            }
        }
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            print(String(decoding: try encoder.encode(entries), as: UTF8.self))
        } else {
            for entry in entries where entry.error == nil { print(entry.summary) }
        }
        if entries.contains(where: { $0.error != nil }) { throw ExitCode.failure }
    }
}

/// One file's line of `loupe probe` output.
struct ProbeEntry: Encodable {
    var path: String
    var info: MediaInfo?
    var error: String?

    init(path: String, info: MediaInfo? = nil, error: String? = nil) {
        self.path = path
        self.info = info
        self.error = error
    }

    private enum Keys: String, CodingKey { case path, kind, image, video, error }

    func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: Keys.self)
        try c.encode(path, forKey: .path)
        switch info {
        case .image(let metadata):
            try c.encode("image", forKey: .kind)
            try c.encode(metadata, forKey: .image)
        case .video(let video):
            try c.encode("video", forKey: .kind)
            try c.encode(video, forKey: .video)
        case nil:
            try c.encodeIfPresent(error, forKey: .error)
        }
    }

    var summary: String {
        switch info {
        case .image(let m):
            var parts = ["\(path)\timage \(m.format) \(m.width)x\(m.height)"]
            if m.orientation != 1 { parts.append("orientation \(m.orientation)") }
            if let date = m.dateTaken { parts.append("taken \(date)") }
            let camera = [m.cameraMake, m.cameraModel].compactMap { $0 }.joined(separator: " ")
            if !camera.isEmpty { parts.append("camera \(camera)") }
            if let gps = m.location { parts.append(String(format: "gps %.6f,%.6f", gps.latitude, gps.longitude)) }
            return parts.joined(separator: ", ")
        case .video(let v):
            var parts = ["\(path)\tvideo \(v.codec) \(v.width)x\(v.height)"]
            if let duration = v.duration { parts.append(String(format: "%.2f s", duration)) }
            if let rate = v.frameRate { parts.append(String(format: "%.3f fps", rate)) }
            if v.rotation != 0 { parts.append("rotation \(v.rotation)") }
            if let created = v.creationTime { parts.append("created \(created)") }
            return parts.joined(separator: ", ")
        case nil:
            return "\(path)\terror \(error ?? "")"
        }
    }
}
