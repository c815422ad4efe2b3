import Foundation
import LoupeTensor
import Testing
@testable import LoupeCLIP

@Suite("CLIPModel parity with transformers")
struct CLIPModelTests {
    static let modelNames = ["clip-tiny", "clip-tiny-gelu"]

    @Test("fp32 text embeddings match the reference (cosine >= 0.99999, max abs diff <= 1e-4)", arguments: modelNames)
    func textParity(name: String) throws {
        let reference = try #require(Fixtures.reference[name])
        let model = try CLIPModel(directory: Fixtures.model(name), precision: .fp32)
        #expect(model.dimension == reference.projection_dim)
        let vectors = try model.embed(tokens: reference.texts.map(\.ids))
        for (vector, expected) in zip(vectors, reference.texts) {
            #expect(cosine(vector, expected.embedding) >= 0.99999, "\(name): '\(expected.text.prefix(40))'")
            #expect(maxAbsDifference(vector, expected.embedding) <= 1e-4, "\(name): '\(expected.text.prefix(40))'")
        }
    }

    @Test("embedding texts tokenizes them exactly like the reference", arguments: modelNames)
    func textThroughTokenizer(name: String) throws {
        let reference = try #require(Fixtures.reference[name])
        let model = try CLIPModel(directory: Fixtures.model(name), precision: .fp32)
        let tokenizer = try #require(model.tokenizer)
        for case let expected in reference.texts {
            #expect(tokenizer.encode(expected.text) == expected.ids, "\(name): '\(expected.text.prefix(40))'")
        }
        let vectors = try model.embed(texts: reference.texts.map(\.text))
        for (vector, expected) in zip(vectors, reference.texts) {
            #expect(cosine(vector, expected.embedding) >= 0.99999, "\(name): '\(expected.text.prefix(40))'")
        }
    }

    @Test("fp32 image embeddings from PPM pixels match the reference", arguments: modelNames)
    func imageParity(name: String) throws {
        let reference = try #require(Fixtures.reference[name])
        let model = try CLIPModel(directory: Fixtures.model(name), precision: .fp32)
        let images = try reference.images.map { try Fixtures.image($0.ppm) }
        let vectors = try model.embed(images: images)
        for (vector, expected) in zip(vectors, reference.images) {
            #expect(cosine(vector, expected.embedding) >= 0.99999, "\(name): \(expected.ppm)")
            #expect(maxAbsDifference(vector, expected.embedding) <= 1e-4, "\(name): \(expected.ppm)")
        }
    }

    @Test("asking for bf16 on a CPU without AVX-512 is a clear error", .disabled(if: Precision.bf16.isSupported))
    func bf16RefusedWithoutAVX512() throws {
        let error = try #require(throws: CLIPError.self) { _ = try CLIPModel(directory: Fixtures.model("clip-tiny"), precision: .bf16) }
        #expect(error.message.contains("AVX-512"))
    }

    @Test("bf16 embeddings stay within cosine 0.999 of fp32", .enabled(if: Precision.bf16.isSupported, "bf16 needs AVX-512"),
          arguments: modelNames)
    func bf16MatchesFP32(name: String) throws {
        let reference = try #require(Fixtures.reference[name])
        let fp32 = try CLIPModel(directory: Fixtures.model(name), precision: .fp32)
        let bf16 = try CLIPModel(directory: Fixtures.model(name), precision: .bf16)
        let ids = reference.texts.map(\.ids)
        for (a, b) in zip(try fp32.embed(tokens: ids), try bf16.embed(tokens: ids)) {
            #expect(cosine(a, b) >= 0.999)
        }
        let images = try reference.images.map { try Fixtures.image($0.ppm) }
        for (a, b) in zip(try fp32.embed(images: images), try bf16.embed(images: images)) {
            #expect(cosine(a, b) >= 0.999)
        }
    }

    @Test("int8 embeddings stay within cosine 0.99 of fp32, images and texts",
          .enabled(if: Precision.int8.isSupported, "int8 needs VNNI"), arguments: modelNames)
    func int8MatchesFP32(name: String) throws {
        let reference = try #require(Fixtures.reference[name])
        let fp32 = try CLIPModel(directory: Fixtures.model(name), precision: .fp32)
        let int8 = try CLIPModel(directory: Fixtures.model(name), precision: .int8)
        let ids = reference.texts.map(\.ids)
        let texts = zip(try fp32.embed(tokens: ids), try int8.embed(tokens: ids)).map { cosine($0, $1) }
        let images = try reference.images.map { try Fixtures.image($0.ppm) }
        let pictures = zip(try fp32.embed(images: images), try int8.embed(images: images)).map { cosine($0, $1) }
        for (index, value) in texts.enumerated() { #expect(value >= 0.99, "\(name): text \(index) cosine \(value)") }
        for (index, value) in pictures.enumerated() { #expect(value >= 0.99, "\(name): image \(index) cosine \(value)") }
        print("\(name) int8 vs fp32: mean cosine texts \(texts.reduce(0, +) / Double(texts.count)), "
              + "images \(pictures.reduce(0, +) / Double(pictures.count)), min \((texts + pictures).min()!)")
    }

    @Test("asking for int8 on a CPU without VNNI is a clear error", .disabled(if: Precision.int8.isSupported))
    func int8RefusedWithoutVNNI() throws {
        let error = try #require(throws: CLIPError.self) { _ = try CLIPModel(directory: Fixtures.model("clip-tiny"), precision: .int8) }
        #expect(error.message.contains("VNNI"))
    }

    @Test("embeddings are unit length and come back in input order")
    func normalisedAndOrdered() throws {
        let reference = try #require(Fixtures.reference["clip-tiny"])
        let model = try CLIPModel(directory: Fixtures.model("clip-tiny"), precision: .fp32, batchSize: 3)
        // Texts of very different lengths are regrouped into batches internally; order must survive.
        let ids = reference.texts.map(\.ids).reversed()
        let vectors = try model.embed(tokens: Array(ids))
        for (vector, expected) in zip(vectors, reference.texts.reversed()) {
            let norm = vector.map { Double($0 * $0) }.reduce(0, +).squareRoot()
            #expect(abs(norm - 1) < 1e-5)
            #expect(cosine(vector, expected.embedding) >= 0.99999)
        }
    }

    @Test("tokens after the pooled position do not change a text embedding")
    func onlyRunsToEndOfText() throws {
        let model = try CLIPModel(directory: Fixtures.model("clip-tiny-gelu"), precision: .fp32)
        let ids: [Int32] = [49406, 320, 1125, 539, 320, 2368, 49407]
        let padded = ids + [49407, 320, 1125]
        let results = try model.embed(tokens: [ids, padded])
        // Equal up to the GEMM's summation order, which oneDNN may pick by the number of rows.
        #expect(maxAbsDifference(results[0], results[1]) <= 1e-6)
    }

    @Test("concurrent calls from several tasks give the same vectors as serial calls")
    func concurrentEmbedding() async throws {
        let reference = try #require(Fixtures.reference["clip-tiny"])
        let model = try CLIPModel(directory: Fixtures.model("clip-tiny"), precision: .fp32, threads: 1)
        let images = try reference.images.map { try Fixtures.image($0.ppm) }
        let ids = reference.texts.map(\.ids)
        let serialText = try model.embed(tokens: ids)
        let serialImages = try model.embed(images: images)
        try await withThrowingTaskGroup(of: ([[Float]], [[Float]]).self) { group in
            for _ in 0..<6 {
                group.addTask { (try model.embed(tokens: ids), try model.embed(images: images)) }
            }
            for try await (text, pictures) in group {
                #expect(text == serialText)
                #expect(pictures == serialImages)
            }
        }
    }

    @Test("bad token input is refused with a clear error")
    func badTokens() throws {
        let model = try CLIPModel(directory: Fixtures.model("clip-tiny"), precision: .fp32)
        for bad: [[Int32]] in [[[]], [[49406, 60000, 49407]], [Array(repeating: 320, count: 78)]] {
            let error = try #require(throws: CLIPError.self) { try model.embed(tokens: bad) }
            #expect(error.code == .invalidInput)
        }
    }
}
