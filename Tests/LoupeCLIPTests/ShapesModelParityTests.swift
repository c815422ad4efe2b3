import Foundation
import Testing
@testable import LoupeCLIP

/// The trained shapes model (Tests/Fixtures/models) gives the same vectors in Swift as in transformers.
@Suite("Shapes model parity")
struct ShapesModelParityTests {
    struct Reference: Decodable {
        struct Text: Decodable { let text: String; let ids: [Int32]; let embedding: [Float] }
        struct Image: Decodable { let ppm: String; let label: String; let embedding: [Float] }
        let texts: [Text]
        let images: [Image]
    }

    static let folder = Fixtures.directory.appendingPathComponent("models")

    @Test("fp32 text and image embeddings match transformers, and tokens match")
    func parity() throws {
        let reference = try JSONDecoder().decode(
            Reference.self, from: Data(contentsOf: Self.folder.appendingPathComponent("shapes-reference.json")))
        let model = try CLIPModel(directory: Self.folder.appendingPathComponent("shapes-clip"))
        let tokenizer = try #require(model.tokenizer)
        for text in reference.texts { #expect(tokenizer.encode(text.text) == text.ids, "\(text.text)") }
        for (vector, text) in zip(try model.embed(texts: reference.texts.map(\.text)), reference.texts) {
            #expect(maxAbsDifference(vector, text.embedding) <= 1e-4, "\(text.text)")
        }
        let images = try reference.images.map { try Fixtures.image("models/" + $0.ppm) }
        for (vector, image) in zip(try model.embed(images: images), reference.images) {
            #expect(maxAbsDifference(vector, image.embedding) <= 1e-4, "\(image.ppm)")
        }
    }
}
