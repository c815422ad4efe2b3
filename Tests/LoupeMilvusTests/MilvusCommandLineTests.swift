import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
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

    @Test("two loupe index processes filling one collection from two folders at once leave every file once",
          arguments: MilvusTestServer.Kind.allCases)
    func concurrentIndexers(kind: MilvusTestServer.Kind) async throws {
        let server = try MilvusTestServer.running(kind)
        let collection = "loupe_cli_two_\(kind)"
        try await server.withClient { client in
            if try await client.hasCollection(collection) { try await client.dropCollection(collection) }
        }
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("loupe-milvus-two-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: root) }
        let folders = [root.appendingPathComponent("media/a"), root.appendingPathComponent("media/b")]
        var expected: [String] = []
        for folder in folders { expected += try DemoLibrary.generate(into: folder, perClass: 2, video: false).map(\.url.path) }
        let token = MilvusMediaStoreTests.token(server)
        let flags = ["--milvus", server.uri] + (token.map { ["--milvus-token", $0] } ?? [])
        // Two workers, as on two machines: each with its own local folder, both creating the collection.
        func index(_ i: Int) async throws -> Answer {
            try await Self.output(["index", folders[i].path, "--model", MilvusMediaStoreTests.modelDirectory.path,
                                   "--data", root.appendingPathComponent("local-\(i)").path, "--collection", collection] + flags)
        }
        async let first = index(0)
        async let second = index(1)
        let answers = try await [first, second]
        for answer in answers {
            #expect(answer.status == 0, "an indexer failed on \(kind): \(answer.errors)")
            #expect(answer.output.contains("36 new"), "\(answer.output)")
        }
        let paths = try await server.withClient { client in
            try await client.query(collection, filter: "id > 0", outputFields: ["path"], limit: 1000).compactMap { $0["path"]?.stringValue }
        }
        #expect(paths.count == expected.count, "\(paths.count) rows for \(expected.count) files on \(kind)")
        #expect(paths.sorted() == expected.sorted(), "every file once on \(kind)")
    }

    @Test("a server that is not there fails the command with a clear error naming it, and a later run indexes everything")
    func serverDown() async throws {
        let server = try MilvusTestServer.running(.lite)
        let collection = "loupe_cli_down"
        try await server.withClient { client in
            if try await client.hasCollection(collection) { try await client.dropCollection(collection) }
        }
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("loupe-milvus-down-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: root) }
        let media = root.appendingPathComponent("media")
        _ = try DemoLibrary.generate(into: media, perClass: 1, video: false)
        let common = ["index", media.path, "--model", MilvusMediaStoreTests.modelDirectory.path, "--data", root.appendingPathComponent("local").path,
                      "--collection", collection]
        // A port nothing listens on: bound, then closed.
        let closed = try MilvusTestServer.closedLoopbackPort()
        let down = try await Self.output(common + ["--milvus", "http://127.0.0.1:\(closed)"])
        #expect(down.status != 0)
        #expect(down.errors.contains("127.0.0.1:\(closed)"), "the error names the server: \(down.errors)")
        #expect(!down.errors.contains("Fatal error") && !down.errors.contains("Stack dump"), "\(down.errors)")
        let up = try await Self.output(common + ["--milvus", server.uri])
        #expect(up.status == 0 && up.output.contains("18 new"), "\(up.output) \(up.errors)")
    }

    @Test("a server that goes away mid-index fails the command with a clear error; a rerun keeps what was written and indexes the rest, once",
          arguments: MilvusTestServer.Kind.allCases)
    func serverGoneMidIndex(kind: MilvusTestServer.Kind) async throws {
        let server = try MilvusTestServer.running(kind)
        let collection = "loupe_cli_cut_\(kind)"
        try await server.withClient { client in
            if try await client.hasCollection(collection) { try await client.dropCollection(collection) }
        }
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("loupe-milvus-cut-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: root) }
        let media = root.appendingPathComponent("media")
        // 216 pictures: seven batches (32 a batch), each written before the progress line that counts it.
        let pictures = try DemoLibrary.generate(into: media, perClass: 12, video: false)
        let total = pictures.count
        let token = MilvusMediaStoreTests.token(server)
        let common = ["index", media.path, "--model", MilvusMediaStoreTests.modelDirectory.path,
                      "--data", root.appendingPathComponent("local").path, "--collection", collection]
            + (token.map { ["--milvus-token", $0] } ?? [])
        // The first run reaches the server through a relay, cut when the first batch is reported written,
        // six batches of embedding before the end: to the client that is a server killed mid-index
        // (connections reset, then refused).
        let relay = try TCPRelay(to: try #require(URLComponents(string: server.uri)?.port))
        let cut = try await Self.output(common + ["--milvus", "http://127.0.0.1:\(relay.port)"]) { line in
            if line.hasPrefix("index: 32/\(total) files") { relay.cut() }
        }
        #expect(cut.status != 0, "the run whose server went away must fail: \(cut.output)")
        #expect(cut.errors.contains("127.0.0.1:\(relay.port)"), "the error names the server: \(cut.errors)")
        #expect(!cut.errors.contains("Fatal error") && !cut.errors.contains("Stack dump"), "\(cut.errors)")

        let rerun = try await Self.output(common + ["--milvus", server.uri])
        #expect(rerun.status == 0, "the rerun failed on \(kind): \(rerun.errors)")
        // "scanned 216 files: N new, 0 changed, M unchanged, ...": the acknowledged batch is kept, the rest added.
        let counts = rerun.output.firstMatch(of: /(\d+) new, 0 changed, (\d+) unchanged/)
        let added = counts.flatMap { Int($0.1) } ?? -1, kept = counts.flatMap { Int($0.2) } ?? -1
        #expect(kept >= 32 && kept < total && added + kept == total, "the rerun embeds only what is missing: \(rerun.output)")
        let paths = try await server.withClient { client in
            try await client.query(collection, filter: "id > 0", outputFields: ["path"], limit: 1000).compactMap { $0["path"]?.stringValue }
        }
        #expect(paths.sorted() == pictures.map(\.url.path).sorted(), "every file once on \(kind): \(paths.count) rows")
    }

    @Test("loupe serve --milvus answers the page's API from Milvus and refuses Milvus REST calls, naming the server")
    func serveOnMilvus() async throws {
        let server = try MilvusTestServer.running(.milvus)
        let collection = "loupe_cli_serve"
        try await server.withClient { client in
            if try await client.hasCollection(collection) { try await client.dropCollection(collection) }
        }
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("loupe-milvus-serve-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: root) }
        let media = root.appendingPathComponent("media")
        let pictures = try DemoLibrary.generate(into: media, perClass: 1, video: false)
        let common = ["--model", MilvusMediaStoreTests.modelDirectory.path, "--data", root.appendingPathComponent("local").path,
                      "--collection", collection, "--milvus", server.uri] + (MilvusMediaStoreTests.token(server).map { ["--milvus-token", $0] } ?? [])
        let indexed = try await Self.output(["index", media.path] + common)
        #expect(indexed.status == 0, "\(indexed.errors)")

        let serve = Process()
        serve.executableURL = try Self.binary()
        serve.arguments = ["serve", "--port", "0", "--log-level", "warning"] + common
        let output = Pipe()
        serve.standardOutput = output
        serve.standardError = FileHandle.nullDevice
        try serve.run()
        defer {
            serve.terminate()
            serve.waitUntilExit()
        }
        let port = try #require(await Self.listeningPort(output.fileHandleForReading), "loupe serve printed no port")
        func post(_ path: String, _ body: String) async throws -> (status: Int, body: String) {
            var request = URLRequest(url: URL(string: "http://127.0.0.1:\(port)\(path)")!)
            request.httpMethod = "POST"
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
            request.httpBody = Data(body.utf8)
            let (data, response) = try await URLSession.shared.data(for: request)
            return ((response as? HTTPURLResponse)?.statusCode ?? 0, String(decoding: data, as: UTF8.self))
        }
        let found = try await post("/api/search", #"{"text": "a red circle", "k": 3}"#)
        let red = try #require(pictures.first { $0.colour == .red && $0.shape == .circle })
        let answer = try JSONSerialization.jsonObject(with: Data(found.body.utf8)) as? [String: Any]
        let paths = (answer?["results"] as? [[String: Any]])?.compactMap { $0["path"] as? String } ?? []
        #expect(found.status == 200 && paths.contains(red.url.path), "\(found.status) \(found.body)")
        let refused = try await post("/v2/vectordb/collections/list", "{}")
        #expect(refused.body.contains("\"code\":10") || refused.body.contains("\"code\": 10"), "\(refused.body)")
        #expect(refused.body.contains("127.0.0.1:\(server.grpcPort)"), "the refusal names the Milvus server: \(refused.body)")
    }

    /// The port from `loupe serve`'s "listening on HOST:PORT" line, read off the cooperative pool; nil if
    /// the process ends without one.
    static func listeningPort(_ output: FileHandle) async -> Int? {
        await withCheckedContinuation { continuation in
            Thread.detachNewThread {
                var text = ""
                while true {
                    let chunk = output.availableData
                    if chunk.isEmpty { break }
                    text += String(decoding: chunk, as: UTF8.self)
                    if let line = text.split(separator: "\n").first(where: { $0.hasPrefix("listening on ") }),
                       let port = line.split(separator: ":").last.flatMap({ Int($0) }) {
                        continuation.resume(returning: port)
                        return
                    }
                }
                continuation.resume(returning: nil)
            }
        }
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
    /// and stderr, each drained by a thread of its own so neither pipe can fill up. `watch` sees each line
    /// of stderr as it is written. The Milvus variables of the test's own environment are removed: only
    /// what the test passes counts.
    static func output(_ arguments: [String], environment: [String: String] = [:],
                       watch: (@Sendable (String) -> Void)? = nil) async throws -> Answer {
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
                    let output = Pipe(), errors = Pipe()
                    process.standardOutput = output
                    process.standardError = errors
                    try process.run()
                    let drained = DispatchGroup()
                    nonisolated(unsafe) var errorBytes = Data()
                    drained.enter()
                    Thread.detachNewThread {
                        var pending = Data()
                        while case let chunk = errors.fileHandleForReading.availableData, !chunk.isEmpty {
                            errorBytes.append(chunk)
                            pending.append(chunk)
                            while let newline = pending.firstIndex(of: UInt8(ascii: "\n")) {
                                watch?(String(decoding: pending[pending.startIndex..<newline], as: UTF8.self))
                                pending = Data(pending[(newline + 1)...])
                            }
                        }
                        drained.leave()
                    }
                    let out = output.fileHandleForReading.readDataToEndOfFile()
                    drained.wait()
                    process.waitUntilExit()
                    continuation.resume(returning: Answer(status: process.terminationStatus,
                                                          output: String(decoding: out, as: UTF8.self),
                                                          errors: String(decoding: errorBytes, as: UTF8.self)))
                } catch {
                    continuation.resume(throwing: error)
                }
            }
        }
    }
}
