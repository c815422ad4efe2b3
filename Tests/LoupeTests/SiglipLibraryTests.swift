import Foundation
import LoupeFixtures
import Testing
@testable import Loupe

/// A mixed library (a picture of every colour-shape class and the three-scene video) indexed once with the
/// tiny random SigLIP 2 fixture (Gemma's byte-fallback BPE, so queries in any script tokenize).
actor SiglipLibrary {
    static let shared = SiglipLibrary()
    static let modelDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/siglip/siglip2-bpe")

    private var opened: (MediaLibrary, [DemoLibrary.Picture], URL, IngestReport)?

    func get() async throws -> (library: MediaLibrary, pictures: [DemoLibrary.Picture], folder: URL, report: IngestReport) {
        if let opened { return opened }
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("loupe-siglip-\(UUID().uuidString)")
        let folder = root.appendingPathComponent("media")
        let pictures = try DemoLibrary.generate(into: folder, perClass: 1)
        var configuration = MediaLibrary.Configuration()
        configuration.segmentation = .scenes(maxSeconds: 10)
        let library = try await MediaLibrary.open(at: root.appendingPathComponent("data"),
                                                  embedder: try CLIPEmbedder(directory: Self.modelDirectory),
                                                  configuration: configuration)
        let report = try await library.index([folder.path])
        opened = (library, pictures, folder, report)
        return opened!
    }
}

/// The random weights carry no meaning, so these tests check what holds for any model: a picture finds
/// itself, a stretch of the video finds its own scene, and scores become the calibrated probabilities
/// SigLIP defines (`sigmoid(exp(logit_scale) * cosine + logit_bias)`).
@Suite("A library indexed with a SigLIP model", .serialized)
struct SiglipLibraryTests {
    @Test("indexing a mixed folder stores every picture, the video and its scenes")
    func indexes() async throws {
        let (library, pictures, _, report) = try await SiglipLibrary.shared.get()
        #expect(report.failures.isEmpty, "\(report.failures)")
        #expect(report.added == pictures.count + 1)
        #expect(report.moments == 3)
        let counts = try await library.counts()
        #expect(counts.images == pictures.count && counts.videos == 1 && counts.moments == 3)
        #expect(library.embedder.dimension == 32)
    }

    @Test("each picture, as a query file, finds itself first")
    func picturesFindThemselves() async throws {
        let (library, pictures, _, _) = try await SiglipLibrary.shared.get()
        for picture in pictures {
            var request = SearchRequest(.imageFile(picture.url), limit: 3)
            request.filter.kind = .image
            let top = try #require(try await library.search(request).results.first)
            #expect(top.item.path == picture.url.path && top.score > 0.999, "\(picture.url.lastPathComponent): \(top.item.path) \(top.score)")
            #expect(top.probability == nil, "a picture query has no calibrated probability")
        }
    }

    @Test("texts in six languages rank with probabilities that follow the model's sigmoid")
    func multilingualProbabilities() async throws {
        let (library, pictures, _, _) = try await SiglipLibrary.shared.get()
        let calibration = try #require(library.embedder.matchCalibration)
        for text in ["a golden watch", "jam tangan emas", "relógio dourado", "金色手表", "金色の腕時計", "ساعة ذهبية"] {
            var request = SearchRequest(.text(text), limit: pictures.count)
            request.filter.kind = .image
            let results = try await library.search(request).results
            #expect(results.count == pictures.count, "\(text)")
            #expect(zip(results, results.dropFirst()).allSatisfy { $0.score >= $1.score })
            for result in results {
                let probability = try #require(result.probability, "\(text)")
                #expect(probability == calibration.probability(cosine: result.score))
                #expect(probability > 0 && probability < 1)
            }
        }
    }

    @Test("a minimum probability keeps exactly the results above it, and is refused where it has no meaning")
    func minimumProbability() async throws {
        let (library, pictures, _, _) = try await SiglipLibrary.shared.get()
        var request = SearchRequest(.text("a blue square"), limit: pictures.count)
        request.filter.kind = .image
        let all = try await library.search(request).results
        let probabilities = all.compactMap(\.probability)
        let cut = try #require((5..<probabilities.count).first { probabilities[$0 - 1] > probabilities[$0] * 1.001 })
        request.minProbability = (probabilities[cut - 1] + probabilities[cut]) / 2
        #expect(try await library.search(request).results.map(\.item.id) == all.prefix(cut).map(\.item.id))

        for bad: Float in [0, 1, -0.5, .nan] {
            request.minProbability = bad
            await #expect(throws: LoupeError.self) { try await library.search(request) }
        }
        var byPicture = SearchRequest(.imageFile(pictures[0].url))
        byPicture.minProbability = 0.5
        await #expect(throws: LoupeError.self) { try await library.search(byPicture) }
        var combined = SearchRequest(terms: [(1, .text("a square")), (-0.5, .text("blue"))])
        combined.minProbability = 0.5
        await #expect(throws: LoupeError.self) { try await library.search(combined) }
    }

    @Test("a CLIP library refuses a minimum probability and gives none")
    func clipHasNoProbabilities() async throws {
        let (library, _, _, _) = try await ShapesLibrary.shared.get()
        #expect(library.embedder.matchCalibration == nil)
        var request = SearchRequest(.text("a red circle"), limit: 3)
        #expect(try await library.search(request).results.allSatisfy { $0.probability == nil })
        request.minProbability = 0.5
        let error = await #expect(throws: LoupeError.self) { try await library.search(request) }
        #expect(error?.message.contains("no calibrated probabilities") == true, "\(String(describing: error))")
    }

    @Test("a stretch of the video finds its own scene among the video's moments")
    func videoMoments() async throws {
        let (library, _, folder, _) = try await SiglipLibrary.shared.get()
        let video = folder.appendingPathComponent("scenes.mp4")
        for (start, end, _, _) in DemoLibrary.videoScenes {
            var request = SearchRequest(.videoClip(video, start: start + 0.5, end: end - 0.5), limit: 5)
            request.filter.kind = .video
            request.momentsPerVideo = 3
            let moments = try await library.search(request).results
            #expect(moments.count == 3 && moments.allSatisfy { $0.item.scope == .clip })
            let top = try #require(moments.first)
            #expect(abs((top.item.start ?? -9) - start) <= 1 && abs((top.item.end ?? -9) - end) <= 1,
                    "query \(start)-\(end) s found \(String(describing: top.item.start))-\(String(describing: top.item.end)) s")
        }
        var text = SearchRequest(.text("a dog jumps into the pool"), limit: 5)
        text.filter.kind = .video
        let grouped = try await library.search(text).results
        #expect(grouped.count == 1 && grouped[0].probability != nil, "one result per video, with its probability")
    }

    @Test("loupe index and search --json work with the SigLIP model folder")
    func commandLine() async throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("loupe-siglip-cli-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: root) }
        let folder = root.appendingPathComponent("media")
        let pictures = try DemoLibrary.generate(into: folder, perClass: 1, video: false)
        let data = root.appendingPathComponent("data").path
        let model = SiglipLibrary.modelDirectory.path
        let indexed = try runLoupe(["index", folder.path, "--data", data, "--model", model])
        #expect(indexed.status == 0, "\(indexed.errors)")
        let searched = try runLoupe(["search", "jam tangan emas", "--json", "-k", "4", "--data", data, "--model", model])
        #expect(searched.status == 0, "\(searched.errors)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(searched.output.utf8)) as? [String: Any])
        let results = try #require(object["results"] as? [[String: Any]])
        #expect(results.count == 4 && results.allSatisfy { ($0["probability"] as? Double).map { $0 > 0 && $0 < 1 } ?? false })
        #expect(pictures.contains { $0.url.path == results[0]["path"] as? String })
        let refused = try runLoupe(["search", "jam tangan emas", "--min-probability", "1.5", "--data", data, "--model", model])
        #expect(refused.status != 0 && refused.errors.contains("--min-probability"), "\(refused.errors)")
    }
}
