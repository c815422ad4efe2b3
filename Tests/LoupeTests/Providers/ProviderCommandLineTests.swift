import Foundation
import LoupeFixtures
import LoupeMedia
import LoupeTestSupport
import Testing
@testable import Loupe

/// The `loupe` binary built beside the test bundle.
private func loupe() throws -> URL {
    var dir = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
    for _ in 0..<4 {
        let candidate = dir.appendingPathComponent("loupe")
        if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
        dir = dir.deletingLastPathComponent()
    }
    throw LoupeError(.notFound, "the loupe binary was not built next to the tests (run swift build --build-tests)")
}

/// Runs `loupe` with `arguments` and `environment` (added to a clean one); returns status, stdout, stderr.
private func run(_ arguments: [String], environment: [String: String]) async throws -> (Int32, String, String) {
    let process = Process()
    process.executableURL = try loupe()
    process.arguments = arguments
    var base = ProcessInfo.processInfo.environment
    for name in ["GEMINI_API_KEY", "GOOGLE_API_KEY", "JINA_API_KEY", "GEMINI_BASE_URL", "JINA_BASE_URL",
                 "TWELVE_LABS_API_KEY", "TWELVE_LABS_BASE_URL"] { base[name] = nil }
    process.environment = base.merging(environment) { $1 }
    let out = Pipe(), err = Pipe()
    process.standardOutput = out
    process.standardError = err
    try process.run()
    async let output = Task.detached { out.fileHandleForReading.readDataToEndOfFile() }.value
    async let errors = Task.detached { err.fileHandleForReading.readDataToEndOfFile() }.value
    let (stdout, stderr) = await (output, errors)
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: stdout, as: UTF8.self), String(decoding: stderr, as: UTF8.self))
}

@Suite("Provider commands", .stopsProviderStandIns, .serialized)
struct ProviderCommandLineTests {
    @Test("loupe generate saves the picture with --json, and a blocked prompt exits 3 without echoing the key")
    func generateCommand() async throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("loupe-gencli-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: root) }
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        let picture = root.appendingPathComponent("ref.png")
        try ImageEncoder.encode(pixels: ShapePainter(width: 64, height: 64).paint(.circle, .red), width: 64, height: 64, as: .png)
            .write(to: picture)
        let standIn = ProviderStandIn { request, _ in
            let prompt = ((((request.json?["contents"] as? [[String: Any]])?.first)?["parts"] as? [[String: Any]])?.first)?["text"] as? String
            return .json(prompt == "forbidden" ? GeminiAnswers.refusal("blocked") : GeminiAnswers.image())
        }
        let base = try await standIn.start()
        let key = "AIza-cli-secret-42"
        let environment = ["GEMINI_BASE_URL": base.absoluteString, "GEMINI_API_KEY": key]
        let out = root.appendingPathComponent("generated")
        let (status, stdout, stderr) = try await run(
            ["generate", "a red ball", "-k", "0", "--ref", picture.path, "--out", out.path, "--json",
             "--data", root.appendingPathComponent("none").path], environment: environment)
        #expect(status == 0, "\(stderr)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(stdout.utf8)) as? [String: Any])
        let images = try #require(object["images"] as? [String])
        #expect(images.count == 1 && FileManager.default.fileExists(atPath: images[0] + ".json"))
        #expect(try Data(contentsOf: URL(fileURLWithPath: images[0])) == GeminiAnswers.picture)
        #expect((object["references"] as? [[String: Any]])?.first?["path"] as? String == picture.path)
        #expect(standIn.requests.first?.header("x-goog-api-key") == key)

        let (blocked, blockedOut, blockedErr) = try await run(
            ["generate", "forbidden", "-k", "0", "--ref", picture.path, "--out", out.path], environment: environment)
        #expect(blocked == 3, "a blocked prompt exits 3: \(blockedErr)")
        #expect(blockedErr.contains("blocked (SAFETY)"), "\(blockedErr)")
        #expect(!(blockedOut + blockedErr + stdout + stderr).contains(key), "the key was printed")
    }

    @Test("loupe table: a vector field whose embedder is jina:MODEL fills and searches through Jina, key unprinted")
    func tableWithRemoteEmbedder() async throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("loupe-tablejina-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: root) }
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        var lines: [String] = []
        for (shape, colour) in [(ShapeKind.circle, ShapeColour.red), (.square, .blue), (.triangle, .green)] {
            let picture = root.appendingPathComponent("\(colour)-\(shape).png")
            try ImageEncoder.encode(pixels: ShapePainter(width: 64, height: 64).paint(shape, colour), width: 64, height: 64, as: .png)
                .write(to: picture)
            lines.append(#"{"image_uri": "\#(picture.path)"}"#)
        }
        let rows = root.appendingPathComponent("rows.jsonl")
        try lines.joined(separator: "\n").write(to: rows, atomically: true, encoding: .utf8)
        let standIn = ProviderStandIn { request, _ in JinaStandIn.reply(request) }
        let key = "jina-table-secret-7"
        let environment = ["JINA_BASE_URL": try await standIn.start().absoluteString, "JINA_API_KEY": key]
        let data = root.appendingPathComponent("tables").path

        let created = try await run(["table", "create", "items", "--field", "image_uri:string",
                                     "--vector", "image_vec:image_uri:image:jina:jina-clip-v2", "--data", data], environment: environment)
        #expect(created.0 == 0, "\(created.2)")
        #expect(created.1.contains("embedder jina:jina-clip-v2"), "\(created.1)")
        let inserted = try await run(["table", "insert", "items", rows.path, "--data", data], environment: environment)
        #expect(inserted.0 == 0, "\(inserted.2)")
        let found = try await run(["table", "search", "items", "a blue square", "-k", "1", "--data", data, "--json"],
                                  environment: environment)
        #expect(found.0 == 0, "\(found.2)")
        #expect(found.1.contains("blue-square.png"), "\(found.1)")
        #expect(standIn.requests.allSatisfy { $0.header("authorization") == "Bearer " + key })
        let images = standIn.requests.flatMap { ($0.json?["input"] as? [[String: Any]]) ?? [] }.filter { $0["image"] != nil }
        #expect(images.count == 3, "each picture is sent once: \(images.count)")
        for output in [created, inserted, found] { #expect(!(output.1 + output.2).contains(key), "the key was printed") }

        // Without a key the command says which variable to set.
        let missing = try await run(["table", "search", "items", "a blue square", "--data", data],
                                    environment: ["JINA_BASE_URL": environment["JINA_BASE_URL"]!])
        #expect(missing.0 != 0 && missing.2.contains("JINA_API_KEY"), "\(missing.2)")
    }

    @Test("--embedder that differs from the library's is refused, naming both")
    func conflictingEmbedder() async throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("loupe-embcli-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: root) }
        let media = root.appendingPathComponent("media")
        try FileManager.default.createDirectory(at: media, withIntermediateDirectories: true)
        try ImageEncoder.encode(pixels: ShapePainter(width: 64, height: 64).paint(.circle, .red), width: 64, height: 64, as: .png)
            .write(to: media.appendingPathComponent("red.png"))
        let data = root.appendingPathComponent("data").path
        let model = ShapesLibrary.modelDirectory.path
        let (indexed, _, indexErr) = try await run(["index", "--data", data, "--model", model, media.path], environment: [:])
        #expect(indexed == 0, "\(indexErr)")
        // No key and an address nothing listens on: the refusal must come before any call.
        let (status, _, stderr) = try await run(
            ["search", "--data", data, "--model", model, "--embedder", "jina:jina-clip-v2", "a red circle"],
            environment: ["JINA_API_KEY": "k", "JINA_BASE_URL": "http://127.0.0.1:9"])
        #expect(status != 0)
        #expect(stderr.contains("was built with --embedder clip, so it cannot use jina:jina-clip-v2"), "\(stderr)")
    }

    @Test("--embedder twelvelabs:MODEL: a missing key and a bad --segment-seconds are clear errors, before any upload")
    func twelveLabsErrors() async throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("loupe-tlcli-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: root) }
        let media = root.appendingPathComponent("media")
        try FileManager.default.createDirectory(at: media, withIntermediateDirectories: true)
        try DemoLibrary.writeSceneVideo(to: media.appendingPathComponent("scenes.mp4"))
        let data = root.appendingPathComponent("data").path
        let (missing, _, missingErr) = try await run(
            ["search", "--data", data, "--embedder", "twelvelabs:Marengo-retrieval-2.7", "a blue square"],
            environment: ["TWELVE_LABS_BASE_URL": "http://127.0.0.1:9"])
        #expect(missing != 0)
        #expect(missingErr.contains("TWELVE_LABS_API_KEY"), "\(missingErr)")

        let twelve = TwelveLabsStandIn()
        let standIn = ProviderStandIn { request, _ in twelve.reply(request) }
        let base = try await standIn.start()
        let key = "tlk-cli-secret-0d93"
        let (status, stdout, stderr) = try await run(
            ["index", "--data", data, "--embedder", "twelvelabs:Marengo-retrieval-2.7", "--segment-seconds", "12", media.path],
            environment: ["TWELVE_LABS_API_KEY": key, "TWELVE_LABS_BASE_URL": base.absoluteString])
        #expect(status != 0)
        #expect(stderr.contains("--segment-seconds must be a whole number from 2 to 10"), "\(stderr)")
        #expect(!(stdout + stderr + missingErr).contains(key), "the key was printed")
        #expect(twelve.taskCount == 0)
        #expect(standIn.requests.allSatisfy { $0.header("x-api-key") == key })
    }
}
