import Foundation
import LoupeTensor
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

    @Test("int8 text and image embeddings stay within cosine 0.99 of fp32",
          .enabled(if: Precision.int8.isSupported, "int8 needs VNNI"))
    func int8MatchesFP32() throws {
        let reference = try JSONDecoder().decode(
            Reference.self, from: Data(contentsOf: Self.folder.appendingPathComponent("shapes-reference.json")))
        let directory = Self.folder.appendingPathComponent("shapes-clip")
        let fp32 = try CLIPModel(directory: directory, precision: .fp32)
        let int8 = try CLIPModel(directory: directory, precision: .int8)
        let texts = reference.texts.map(\.text)
        let textCosines = zip(try fp32.embed(texts: texts), try int8.embed(texts: texts)).map { cosine($0, $1) }
        let images = try reference.images.map { try Fixtures.image("models/" + $0.ppm) }
        let imageCosines = zip(try fp32.embed(images: images), try int8.embed(images: images)).map { cosine($0, $1) }
        for (value, text) in zip(textCosines, texts) { #expect(value >= 0.99, "'\(text)': cosine \(value)") }
        for (value, image) in zip(imageCosines, reference.images) { #expect(value >= 0.99, "\(image.ppm): cosine \(value)") }
        print("shapes-clip int8 vs fp32: mean cosine texts \(textCosines.reduce(0, +) / Double(textCosines.count)), "
              + "images \(imageCosines.reduce(0, +) / Double(imageCosines.count)), min \((textCosines + imageCosines).min()!)")
    }
}
