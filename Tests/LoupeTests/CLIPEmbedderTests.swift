import Foundation
import LoupeCLIP
import Testing
@testable import Loupe

@Suite("CLIPEmbedder")
struct CLIPEmbedderTests {
    static let modelDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/clip-tiny")

    @Test("async embedding equals the model's own, and many concurrent callers get the same vectors")
    func concurrentCallers() async throws {
        let embedder = try CLIPEmbedder(directory: Self.modelDirectory)
        let texts = ["a golden watch", "a red silk robe with gold trim", "a dog jumps into the pool"]
        let expected = try embedder.model.embed(texts: texts)
        #expect(try await embedder.embed(texts: texts) == expected)
        try await withThrowingTaskGroup(of: [[Float]].self) { group in
            for _ in 0..<8 { group.addTask { try await embedder.embed(texts: texts) } }
            for try await result in group { #expect(result == expected) }
        }
        #expect(embedder.dimension == 24)
        #expect(embedder.modelName == "clip-tiny")
        #expect(try await embedder.embed(texts: []).isEmpty)
    }
}

@Suite("CLIPEmbedder with a SigLIP model")
struct SiglipEmbedderTests {
    static let modelDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/siglip/siglip2-bpe")

    @Test("a SigLIP folder loads as SigLIP and embeds text and images like the model itself")
    func siglipFolder() async throws {
        let embedder = try CLIPEmbedder(directory: Self.modelDirectory)
        #expect(embedder.model is SiglipModel)
        #expect(embedder.modelName == "siglip2-bpe" && embedder.dimension == 32 && embedder.inputSize == 36)
        let texts = ["a golden watch", "jam tangan emas"]
        #expect(try await embedder.embed(texts: texts) == (try embedder.model.embed(texts: texts)))
        var pixels = [UInt8](repeating: 0, count: 50 * 40 * 3)
        for i in pixels.indices { pixels[i] = UInt8(truncatingIfNeeded: i &* 37 &+ i / 7) }
        let image = try RGBImage(width: 50, height: 40, pixels: pixels)
        let prepared = embedder.prepare(image)
        #expect(prepared.width == 36 && prepared.height == 36)
        let direct = try await embedder.embed(images: [image])[0]
        let viaPrepared = try await embedder.embed(images: [prepared])[0]
        #expect(zip(direct, viaPrepared).allSatisfy { abs($0 - $1) < 1e-5 })
        try embedder.model.load([.text, .vision])
    }
}
