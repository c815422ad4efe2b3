import Foundation
import Loupe
import Testing
@testable import LoupeServer

/// The server over a library indexed with a SigLIP model (the tiny random SigLIP 2 fixture, with Gemma's
/// byte-fallback BPE): the same routes, plus each text search result's calibrated match probability.
@Suite("Server with a SigLIP model", .serialized, .stopsTestServers)
struct SiglipServerTests {
    static let model = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/siglip/siglip2-bpe")

    private func results(_ object: [String: Any]) -> [[String: Any]] { object["results"] as? [[String: Any]] ?? [] }

    @Test("text searches in any language carry probabilities, min_probability keeps exactly those above it")
    func probabilities() async throws {
        let server = try await TestServer.start(perClass: 1, model: Self.model)
        let calibration = try #require(server.library.embedder.matchCalibration)

        let (status, answer) = try await server.json(.GET, "/api/search?q=rel%C3%B3gio%20dourado&k=12&type=image")
        #expect(status == 200, "\(answer)")
        let ranked = results(answer)
        #expect(ranked.count == 12)
        for result in ranked {
            let score = try #require((result["score"] as? NSNumber)?.floatValue)
            let probability = try #require((result["probability"] as? NSNumber)?.floatValue, "\(result)")
            #expect(abs(probability - calibration.probability(cosine: score)) <= 1e-6 * max(1, probability))
            #expect(probability > 0 && probability < 1)
        }

        // A threshold between the 6th and the 7th probability keeps the first six, in order.
        let probabilities = ranked.compactMap { ($0["probability"] as? NSNumber)?.doubleValue }
        let cut = try #require((5..<probabilities.count).first { probabilities[$0 - 1] > probabilities[$0] * 1.001 })
        let threshold = (probabilities[cut - 1] + probabilities[cut]) / 2
        let (_, kept) = try await server.json(.POST, "/api/search",
                                              ["text": "relógio dourado", "k": 12, "type": "image", "min_probability": threshold])
        #expect(results(kept).map { $0["id"] as? Int } == ranked.prefix(cut).map { $0["id"] as? Int })

        // Pictures as queries have scores, no probabilities; thresholds outside (0, 1) are refused.
        let first = try #require(ranked.first?["id"] as? Int)
        let (_, byItem) = try await server.json(.POST, "/api/search", ["item": first, "k": 3])
        #expect(results(byItem).count == 3 && results(byItem).allSatisfy { $0["probability"] == nil })
        #expect((results(byItem).first?["id"] as? Int) == first)
        let (refused, message) = try await server.json(.GET, "/api/search?q=watch&min_probability=1.5")
        #expect(refused == 400, "\(message)")
        let (pictureThreshold, _) = try await server.json(.POST, "/api/search", ["item": first, "min_probability": 0.5])
        #expect(pictureThreshold == 400)
    }

    @Test("video moments come back per video, each with its probability")
    func moments() async throws {
        let server = try await TestServer.start(perClass: 1, model: Self.model)
        let (status, answer) = try await server.json(.POST, "/api/search",
                                                     ["text": "金色手表", "type": "video", "k": 5, "moments_per_video": 5])
        #expect(status == 200, "\(answer)")
        let moments = results(answer)
        #expect(moments.count == 3, "the video's three scenes: \(moments)")
        #expect(moments.allSatisfy { $0["scope"] as? String == "clip" && $0["probability"] != nil && $0["start"] != nil })
    }
}
