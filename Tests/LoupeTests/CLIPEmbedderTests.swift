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
