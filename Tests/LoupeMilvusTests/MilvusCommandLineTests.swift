import Foundation
import LoupeFixtures
import Testing

/// The `loupe` binary with `--milvus`: index, search, remove against both test servers, the URI and token
/// from the environment, and a wrong token that fails without being printed.
@Suite("loupe --milvus", .serialized, .timeLimit(.minutes(10)))
struct MilvusCommandLineTests {
    /// The `loupe` binary built next to this test bundle.
    static func binary() throws -> URL {
        var dir = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        for _ in 0..<4 {
            let candidate = dir.appendingPathComponent("loupe")
            if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
            dir = dir.deletingLastPathComponent()
        }
        throw MilvusTestServer.Unavailable(description: "the loupe binary was not built next to the tests (swift build --build-tests)")
    }

    struct Answer {
        var status: Int32
        var output: String
        var errors: String
    }

    @Test("index, search and remove with --milvus; the URI and token also come from the environment",
          arguments: MilvusTestServer.Kind.allCases)
    func indexSearchRemove(kind: MilvusTestServer.Kind) async throws {
        let server = try MilvusTestServer.running(kind)
        let collection = "loupe_cli_\(kind)"
        try await server.withClient { client in
            if try await client.hasCollection(collection) { try await client.dropCollection(collection) }
        }
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("loupe-milvus-cli-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: root) }
        let media = root.appendingPathComponent("media")
        let pictures = try DemoLibrary.generate(into: media, perClass: 1, video: false)
        let model = MilvusMediaStoreTests.modelDirectory.path
        let common = ["--model", model, "--data", root.appendingPathComponent("local").path, "--collection", collection]
        let token = MilvusMediaStoreTests.token(server)
        let flags = ["--milvus", server.uri] + (token.map { ["--milvus-token", $0] } ?? [])

        let indexed = try await Self.output(["index", media.path] + common + flags)
        #expect(indexed.status == 0, "index failed on \(kind): \(indexed.errors)")
        #expect(indexed.output.contains("18 new"), "\(indexed.output)")
        #expect(!FileManager.default.fileExists(atPath: root.appendingPathComponent("local/loupe.sqlite").path),
                "no embedded database is made beside Milvus")

        // The same server through LOUPE_MILVUS_URI and MILVUS_TOKEN.
        var environment = ["LOUPE_MILVUS_URI": server.uri]
        if let token { environment["MILVUS_TOKEN"] = token }
        let found = try await Self.output(["search", "a red circle", "-k", "3", "--json"] + common, environment: environment)
        #expect(found.status == 0, "search failed on \(kind): \(found.errors)")
        let red = try #require(pictures.first { $0.colour == .red && $0.shape == .circle })
        #expect(found.output.contains("\"rank\": 1, ") && found.output.contains(red.url.path),
                "the red circle is among the top 3 on \(kind): \(found.output)")

        let again = try await Self.output(["index", media.path] + common + flags)
        #expect(again.output.contains("18 unchanged") && again.output.contains("0 pictures embedded"), "\(again.output)")

        let removed = try await Self.output(["remove", red.url.path] + common + flags)
        #expect(removed.status == 0 && removed.output.contains("(1 rows)"), "remove on \(kind): \(removed.output) \(removed.errors)")
        let after = try await Self.output(["search", "a red circle", "-k", "18", "--json"] + common + flags)
        #expect(after.status == 0 && !after.output.contains(red.url.path), "the removed file is gone on \(kind)")
    }

    @Test("a wrong --milvus-token fails with an authentication error and is never printed")
    func wrongToken() async throws {
        let server = try MilvusTestServer.running(.milvus)
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("loupe-milvus-cli-token-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: root) }
        let answer = try await Self.output(["search", "a red circle", "--model", MilvusMediaStoreTests.modelDirectory.path,
                                            "--data", root.path, "--milvus", server.uri, "--milvus-token", "root:s3cret-wrong"])
        #expect(answer.status != 0)
        #expect(answer.errors.contains("authentication failed"), "\(answer.errors)")
        #expect(!answer.errors.contains("s3cret-wrong") && !answer.output.contains("s3cret-wrong"), "the token leaked: \(answer.errors)")
    }

    /// Runs `loupe` with `arguments` off the cooperative pool (it waits for the process) and collects stdout
    /// and stderr (stderr to a file, so neither pipe can fill up while the other is read). The Milvus
    /// variables of the test's own environment are removed: only what the test passes counts.
    static func output(_ arguments: [String], environment: [String: String] = [:]) async throws -> Answer {
        let executable = try binary()
        return try await withCheckedThrowingContinuation { continuation in
            Thread.detachNewThread {
                do {
                    let process = Process()
                    process.executableURL = executable
                    process.arguments = arguments
                    var env = ProcessInfo.processInfo.environment
                    env["LOUPE_MILVUS_URI"] = nil
                    env["MILVUS_TOKEN"] = nil
                    env.merge(environment) { _, new in new }
                    process.environment = env
                    let errorFile = FileManager.default.temporaryDirectory
                        .appendingPathComponent("loupe-cli-stderr-\(UUID().uuidString)")
                    FileManager.default.createFile(atPath: errorFile.path, contents: nil)
                    defer { try? FileManager.default.removeItem(at: errorFile) }
                    let errors = try FileHandle(forWritingTo: errorFile)
                    let output = Pipe()
                    process.standardOutput = output
                    process.standardError = errors
                    try process.run()
                    let out = output.fileHandleForReading.readDataToEndOfFile()
                    process.waitUntilExit()
                    try errors.close()
                    let err = (try? Data(contentsOf: errorFile)) ?? Data()
                    continuation.resume(returning: Answer(status: process.terminationStatus,
                                                          output: String(decoding: out, as: UTF8.self),
                                                          errors: String(decoding: err, as: UTF8.self)))
                } catch {
                    continuation.resume(throwing: error)
                }
            }
        }
    }
}
