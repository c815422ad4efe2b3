import Foundation
import Testing

@testable import LoupeCLIP

/// Parity with transformers on `Tests/Fixtures/siglip` (made by `tools/make_siglip_fixtures.py`).
@Suite struct SiglipTokenizerTests {
    struct Case: Decodable {
        let text: String
        let raw: [Int32]
        let ids: [Int32]
    }

    struct ModelCases: Decodable {
        let tokenizer_class: String
        let max_length: Int
        let cases: [Case]
    }

    struct Document: Decodable {
        let models: [String: ModelCases]
    }

    static let directory = Fixtures.directory.appendingPathComponent("siglip")

    static func cases(_ model: String) throws -> ModelCases {
        let data = try Data(contentsOf: directory.appendingPathComponent("tokenizer-cases.json"))
        let document = try JSONDecoder().decode(Document.self, from: data)
        return try #require(document.models[model], "tokenizer-cases.json has no \(model)")
    }

    /// Describes the first few mismatches, so a failure shows what differs.
    static func mismatches(_ cases: [Case], _ encode: (String) -> ([Int32], [Int32])) -> [String] {
        var found: [String] = []
        for entry in cases {
            let (raw, ids) = encode(entry.text)
            if raw != entry.raw || ids != entry.ids {
                found.append("\(entry.text.debugDescription.prefix(60)): raw \(raw) expected \(entry.raw); padded \(ids.prefix(12))... expected \(entry.ids.prefix(12))...")
            }
        }
        return found
    }

    /// `siglip-unigram` maps what it lacks to `<unk>`; `siglip-unigram-bytes` to `<0xNN>` pieces.
    @Test(arguments: ["siglip-unigram", "siglip-unigram-bytes"])
    func unigramMatchesTransformersSiglipTokenizerOnEveryCase(model: String) throws {
        let reference = try Self.cases(model)
        #expect(reference.tokenizer_class == "SiglipTokenizer")
        #expect(reference.cases.count >= 300)
        let tokenizer = try SiglipTokenizer(directory: Self.directory.appendingPathComponent(model))
        let failures = Self.mismatches(reference.cases) { text in
            (tokenizer.encodeWithoutSpecialTokens(text), tokenizer.encode(text, length: reference.max_length))
        }
        #expect(failures.isEmpty, "\(failures.count) of \(reference.cases.count) differ:\n\(failures.prefix(15).joined(separator: "\n"))")
    }

    @Test func gemmaBPEMatchesTransformersGemmaTokenizerOnEveryCase() throws {
        let reference = try Self.cases("siglip2-bpe")
        #expect(reference.tokenizer_class == "GemmaTokenizer")
        #expect(reference.cases.count >= 300)
        let tokenizer = try GemmaTokenizer(directory: Self.directory.appendingPathComponent("siglip2-bpe"))
        let failures = Self.mismatches(reference.cases) { text in
            (tokenizer.encodeWithoutSpecialTokens(text), tokenizer.encode(text, length: reference.max_length))
        }
        #expect(failures.isEmpty, "\(failures.count) of \(reference.cases.count) differ:\n\(failures.prefix(15).joined(separator: "\n"))")
    }

    /// The precompiled charsmap really is applied: nmt_nfkc folds full-width letters, ligatures
    /// and circled digits, which the raw UTF-8 would not match.
    @Test func precompiledCharsMapAppliesNFKCRules() throws {
        let data = try Data(contentsOf: Self.directory.appendingPathComponent("siglip-unigram/spiece.model"))
        let model = try SentencePieceModel(bytes: Array(data))
        #expect(model.precompiledCharsMap.count > 1000)
        let normalizer = SentencePieceNormalizer(
            charsMap: try PrecompiledCharsMap(model.precompiledCharsMap), addDummyPrefix: true,
            removeExtraWhitespaces: true, escapeWhitespaces: true)
        func normalized(_ text: String) -> String { String(decoding: normalizer.normalize(Array(text.utf8)), as: UTF8.self) }
        #expect(normalized("ＡＢＣ１２３") == "▁ABC123")
        #expect(normalized("ﬁsh") == "▁fish")
        #expect(normalized("①  ㎏") == "▁1▁kg")
        #expect(normalized("  two   spaces  ") == "▁two▁spaces")
        #expect(normalized("ｶﾀｶﾅ") == "▁カタカナ")
        let plain = SentencePieceNormalizer(
            charsMap: nil, addDummyPrefix: true, removeExtraWhitespaces: true, escapeWhitespaces: true)
        #expect(String(decoding: plain.normalize(Array("ﬁsh".utf8)), as: UTF8.self) == "▁ﬁsh")
    }

    @Test func encodedTextIsAlwaysSixtyFourIdsEndingInEOSOrPadding() throws {
        let unigram = try SiglipTokenizer(directory: Self.directory.appendingPathComponent("siglip-unigram"))
        let long = unigram.encode(String(repeating: "kucing ", count: 200))
        #expect(long.count == 64)
        #expect(long.last == unigram.endOfTextID)
        let bpe = try GemmaTokenizer(directory: Self.directory.appendingPathComponent("siglip2-bpe"))
        let ids = bpe.encode(String(repeating: "relógio ", count: 200))
        #expect(ids.count == 64)
        #expect(ids.last == 1, "the <eos> of the template survives truncation")
    }

    @Test func malformedModelFilesAreClearErrors() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("siglip-bad-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        try Data([0x0A, 0x80]).write(to: directory.appendingPathComponent("spiece.model"))
        #expect {
            _ = try SiglipTokenizer(directory: directory)
        } throws: { error in
            "\(error)".contains("spiece.model") && "\(error)".contains("protobuf")
        }
        try Data("{\"model\": {\"type\": \"Unigram\"}}".utf8)
            .write(to: directory.appendingPathComponent("tokenizer.json"))
        #expect {
            _ = try GemmaTokenizer(directory: directory)
        } throws: { error in
            "\(error)".contains("tokenizer.json") && "\(error)".contains("BPE")
        }
        #expect(throws: CLIPError.self) {
            _ = try PrecompiledCharsMap([0xFF, 0xFF, 0, 0, 1, 2])
        }
    }
}
