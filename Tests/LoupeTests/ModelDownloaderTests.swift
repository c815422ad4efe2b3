import Foundation
import NIOCore
import Testing
@testable import Loupe

@Suite("Model download and cache", .stopsHubServers)
struct ModelDownloaderTests {
    let repository = try! HubRepository("test-org/tiny-clip")
    let weights = Data((0..<300_000).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) })

    func makeServer() -> HubTestServer {
        HubTestServer(repository: repository.id, files: [
            "config.json": .init(data: Data(#"{"projection_dim": 24}"#.utf8), lfs: false),
            "preprocessor_config.json": .init(data: Data("{}".utf8), lfs: false),
            "tokenizer.json": .init(data: Data(#"{"model": {}}"#.utf8), lfs: false),
            "model.safetensors": .init(data: weights, lfs: true),
            "pytorch_model.bin": .init(data: Data(count: 5000), lfs: true),
            "README.md": .init(data: Data("# tiny".utf8), lfs: false),
        ])
    }

    func temporaryCache() -> ModelCache {
        ModelCache(root: FileManager.default.temporaryDirectory.appendingPathComponent("loupe-hub-\(UUID().uuidString)"))
    }

    func downloader(_ cache: ModelCache, endpoint: URL, token: String? = nil, attempts: Int = 3) -> ModelDownloader {
        var configuration = ModelDownloader.Configuration()
        configuration.connectTimeout = .seconds(2)
        configuration.endpoint = endpoint
        configuration.token = token
        configuration.attempts = attempts
        return ModelDownloader(cache: cache, configuration: configuration)
    }

    @Test("pull fetches only what a CLIP model needs, into the Hugging Face cache layout")
    func pullsIntoCacheLayout() async throws {
        let server = makeServer()
        let endpoint = try await server.start()
        let cache = temporaryCache()
        let snapshot = try await downloader(cache, endpoint: endpoint).pull(repository)
        #expect(snapshot.lastPathComponent == server.commit)
        let files = try FileManager.default.contentsOfDirectory(atPath: snapshot.path).sorted()
        #expect(files == ["config.json", "model.safetensors", "preprocessor_config.json", "tokenizer.json"])
        #expect(try Data(contentsOf: snapshot.appendingPathComponent("model.safetensors")) == weights)
        let link = try FileManager.default.destinationOfSymbolicLink(atPath: snapshot.appendingPathComponent("model.safetensors").path)
        #expect(link == "../../blobs/\(HubTestServer.sha256(weights))")
        #expect(cache.snapshot(repository)?.standardizedFileURL.path == snapshot.standardizedFileURL.path)
        let entries = cache.entries()
        #expect(entries.map(\.repository) == [repository])
        #expect(entries[0].byteCount > Int64(weights.count))
    }

    @Test("a second pull downloads nothing again")
    func secondPullIsCached() async throws {
        let server = makeServer()
        let endpoint = try await server.start()
        let cache = temporaryCache()
        _ = try await downloader(cache, endpoint: endpoint).pull(repository)
        let before = server.requests.filter { $0.uri.hasPrefix("/cdn/") }.count
        _ = try await downloader(cache, endpoint: endpoint).pull(repository)
        #expect(server.requests.filter { $0.uri.hasPrefix("/cdn/") }.count == before)
    }

    @Test("a dropped connection resumes from the partial file with a range request")
    func resumesAfterDrop() async throws {
        let server = makeServer()
        server.cutNextTransfer(of: "model.safetensors", after: 100_000)
        let endpoint = try await server.start()
        let cache = temporaryCache()
        // With one attempt the pull fails but keeps what arrived; the next pull resumes.
        await #expect(throws: LoupeError.self) { try await downloader(cache, endpoint: endpoint, attempts: 1).pull(repository) }
        let snapshot = try await downloader(cache, endpoint: endpoint).pull(repository)
        #expect(try Data(contentsOf: snapshot.appendingPathComponent("model.safetensors")) == weights)
        let ranges = server.requests.compactMap { $0.headers.first(name: "range") }
        #expect(ranges.contains { $0.hasPrefix("bytes=") && $0 != "bytes=0-" }, "no resumed range in \(ranges)")
    }

    @Test("a corrupted download fails its checksum and leaves nothing in the cache")
    func checksumMismatch() async throws {
        let server = makeServer()
        server.corrupt("model.safetensors")
        let endpoint = try await server.start()
        let cache = temporaryCache()
        let error = await #expect(throws: LoupeError.self) { try await downloader(cache, endpoint: endpoint).pull(repository) }
        #expect(error?.code == .integrity)
        #expect(cache.snapshot(repository).flatMap { try? Data(contentsOf: $0.appendingPathComponent("model.safetensors")) } == nil)
    }

    @Test("the token goes to the hub but not to the redirected download host")
    func tokenHandling() async throws {
        let server = makeServer()
        server.requiredToken = "secret"
        let endpoint = try await server.start()
        let denied = await #expect(throws: LoupeError.self) { try await downloader(temporaryCache(), endpoint: endpoint).pull(repository) }
        #expect(denied?.description.contains("HF_TOKEN") == true)
        // LFS files redirect to another host name; the stand-in rejects credentials there to prove none were sent.
        _ = try await downloader(temporaryCache(), endpoint: endpoint, token: "secret").pull(repository)
    }

    @Test("no network gives advice on what to download and where to put it")
    func offlineAdvice() async throws {
        // Port 9 on loopback: nothing listens there, so the connection is refused at once.
        let error = await #expect(throws: LoupeError.self) {
            try await downloader(temporaryCache(), endpoint: URL(string: "http://127.0.0.1:9")!).pull(repository)
        }
        #expect(error?.code == .network)
        #expect(error?.description.contains("model.safetensors") == true)
        #expect(error?.description.contains("--model") == true)
    }

    @Test("a pull fetches the files a CLIP or SigLIP folder needs, and no others")
    func neededFiles() {
        for file in ["config.json", "vocab.json", "tokenizer.json", "spiece.model", "model-00001-of-00002.safetensors"] {
            #expect(HubRepository.isNeeded(file), "\(file)")
        }
        for file in ["pytorch_model.bin", "flax_model.msgpack", "onnx/model.onnx", "README.md"] {
            #expect(!HubRepository.isNeeded(file), "\(file)")
        }
    }

    @Test("repository ids are validated", arguments: ["openai", "a/b/c", "../x", "a/..", "", "a b/c"])
    func invalidRepository(id: String) {
        #expect(throws: LoupeError.self) { try HubRepository(id) }
    }

    @Test("the standard cache honours HF_HUB_CACHE, then HF_HOME")
    func standardCache() {
        #expect(ModelCache.standard(environment: ["HF_HUB_CACHE": "/x/hub"]).root.path == "/x/hub")
        #expect(ModelCache.standard(environment: ["HF_HOME": "/y"]).root.path == "/y/hub")
        #expect(ModelCache.standard(environment: ["XDG_CACHE_HOME": "/z"]).root.path == "/z/huggingface/hub")
    }

    @Test("removing a model frees its folder")
    func removeModel() async throws {
        let server = makeServer()
        let endpoint = try await server.start()
        let cache = temporaryCache()
        _ = try await downloader(cache, endpoint: endpoint).pull(repository)
        #expect(try cache.remove(repository) > 0)
        #expect(cache.entries().isEmpty)
        #expect(throws: LoupeError.self) { try cache.remove(repository) }
    }
}
