import Foundation
import LoupeFixtures
import LoupeMedia
import LoupeTestSupport
import Testing
@testable import Loupe

@Suite("Jina embedder", .stopsProviderStandIns, .serialized)
struct JinaEmbedderTests {
    static let key = "jina_test_key_5f2e8d"

    static func embedder(_ base: URL, data: URL, batch: Int = 4, concurrency: Int = 3) async throws -> JinaEmbedder {
        var options = JinaEmbedder.Options()
        options.batchSize = batch
        options.concurrency = concurrency
        return try await JinaEmbedder.fromEnvironment(
            model: "jina-clip-v2", options: options, cache: .inDataDirectory(data),
            environment: ["JINA_BASE_URL": base.absoluteString, "JINA_API_KEY": Self.key])
    }

    @Test("a library indexed through Jina finds red circles for \"a red circle\"; a second run makes no calls")
    func indexSearchAndCache() async throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("loupe-jina-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: root) }
        let pictures = try DemoLibrary.generate(into: root.appendingPathComponent("media"), perClass: 2)
        let data = root.appendingPathComponent("data")
        let standIn = ProviderStandIn { request, _ in JinaStandIn.reply(request) }
        let base = try await standIn.start()

        let jina = try await Self.embedder(base, data: data)
        #expect(jina.dimension == ShapeFeatureEmbedding.dimension)
        #expect(jina.modelName == "jina:jina-clip-v2")
        let report = try await MediaLibrary.withLibrary(at: data, mode: .writer, embedder: jina) { library in
            try await library.index([root.appendingPathComponent("media").path])
        }
        #expect(report.failures.isEmpty, "\(report.failures)")
        #expect(report.added == pictures.count + 1)

        // What Loupe sent: Jina's documented body, in batches of at most 4.
        let calls = standIn.requests
        #expect(calls.allSatisfy { $0.header("authorization") == "Bearer \(Self.key)" })
        for call in calls {
            let body = try #require(call.json)
            #expect(body["model"] as? String == "jina-clip-v2")
            #expect(body["normalized"] as? Bool == true)
            let inputs = try #require(body["input"] as? [[String: Any]])
            #expect(inputs.count >= 1 && inputs.count <= 4)
            for input in inputs {
                if let image = input["image"] as? String {
                    #expect(Data(base64Encoded: image)?.starts(with: [0xFF, 0xD8]) == true, "images go as base64 JPEG")
                } else {
                    #expect(input["text"] is String)
                }
            }
        }
        let imageInputs = calls.compactMap { $0.json?["input"] as? [[String: Any]] }.joined().filter { $0["image"] != nil }.count
        #expect(imageInputs >= pictures.count, "every picture (and the video's frames) was embedded")

        let truth = Dictionary(uniqueKeysWithValues: pictures.map { ($0.url.path, ($0.colour, $0.shape)) })
        let top = try await MediaLibrary.withLibrary(at: data, mode: .reader, embedder: jina) { library in
            var request = SearchRequest(.text("a red circle"), limit: 2)
            request.filter.kind = .image
            return try await library.search(request).results
        }
        #expect(top.count == 2)
        #expect(top.allSatisfy { truth[$0.item.path].map { $0 == (.red, .circle) } ?? false }, "\(top.map(\.item.path))")

        // Second run: a fresh embedder (its dimension probe cached), a new collection indexing the same
        // files, and the same query again: every vector comes from the cache.
        let before = standIn.requests.count
        let again = try await Self.embedder(base, data: data)
        var configuration = MediaLibrary.Configuration()
        configuration.collection = "media_again"
        let second = try await MediaLibrary.withLibrary(at: data, mode: .writer, embedder: again, configuration: configuration) {
            library in
            let report = try await library.index([root.appendingPathComponent("media").path])
            _ = try await library.search(.text("a red circle"), limit: 2)
            return report
        }
        #expect(second.added == pictures.count + 1)
        #expect(standIn.requests.count == before, "the second run called Jina \(standIn.requests.count - before) times")
    }

    @Test("a library built with Jina refuses another embedder")
    func refusesAnotherEmbedder() async throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("loupe-jina-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: root) }
        let standIn = ProviderStandIn { request, _ in JinaStandIn.reply(request) }
        let base = try await standIn.start()
        let jina = try await Self.embedder(base, data: root)
        try await MediaLibrary.withLibrary(at: root, mode: .writer, embedder: jina) { _ in }
        let clip = try CLIPEmbedder(directory: ShapesLibrary.modelDirectory)
        await #expect {
            try await MediaLibrary.withLibrary(at: root, mode: .reader, embedder: clip) { _ in }
        } throws: { error in
            "\(error)".contains("model=jina:jina-clip-v2 dim=\(ShapeFeatureEmbedding.dimension)")
        }
    }

    @Test("batches go out several at a time, and vectors come back in input order")
    func concurrentBatchesKeepOrder() async throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("loupe-jina-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: root) }
        let standIn = ProviderStandIn { request, _ in JinaStandIn.reply(request, latency: 0.05) }
        let jina = try await Self.embedder(try await standIn.start(), data: root, batch: 2, concurrency: 4)
        let texts = ShapeColour.allCases.flatMap { colour in ShapeKind.allCases.map { "a \(colour) \($0)" } }
        let vectors = try await jina.embed(texts: texts)
        #expect(vectors == texts.map(ShapeFeatureEmbedding.text))
        #expect(standIn.requests.count == 1 + (texts.count + 1) / 2, "the probe, then batches of 2")
    }

    @Test("bad names for --embedder are refused with a message")
    func parsesEmbedderNames() throws {
        #expect(try EmbedderSpec(parsing: "clip") == .clip)
        #expect(try EmbedderSpec(parsing: "jina:jina-clip-v2") == .jina(model: "jina-clip-v2", dimensions: nil))
        #expect(try EmbedderSpec(parsing: "jina:jina-clip-v2@256") == .jina(model: "jina-clip-v2", dimensions: 256))
        #expect(try EmbedderSpec(parsing: "twelvelabs:Marengo-retrieval-2.7") == .twelveLabs(model: "Marengo-retrieval-2.7"))
        for bad in ["jina", "jina:", "openai:text-embedding-3", "jina:m@0"] {
            #expect(throws: LoupeError.self, "\(bad)") { try EmbedderSpec(parsing: bad) }
        }
    }
}
