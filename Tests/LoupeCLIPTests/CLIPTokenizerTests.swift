import Foundation
import LoupeCLIP
import Testing

/// Checks `CLIPTokenizer` against ids produced by open_clip's `SimpleTokenizer` (the
/// reference), on the generated fixture cases and on hand-picked edge cases.
struct CLIPTokenizerTests {
    static let fixtures = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Fixtures")
    /// HF layout with `vocab.json` and `merges.txt`.
    static let vocabAndMergesDirectory = fixtures.appendingPathComponent("clip-tiny")
    /// HF layout with only `tokenizer.json`.
    static let tokenizerJSONDirectory = fixtures.appendingPathComponent("clip-tiny-gelu")

    /// Loaded once and shared: loading takes a few hundred milliseconds in debug builds.
    static let sharedFromVocabAndMerges = Result { try CLIPTokenizer(directory: vocabAndMergesDirectory) }
    static let sharedFromTokenizerJSON = Result { try CLIPTokenizer(directory: tokenizerJSONDirectory) }

    /// One entry of `Tests/Fixtures/tokenizer-cases.json`.
    struct FixtureCase: Decodable {
        var text: String
        var ids: [Int32]
        /// Set when the reference ids depend on ftfy's mojibake repair, which is not ported.
        var ftfyOnly: Bool?

        enum CodingKeys: String, CodingKey {
            case text, ids
            case ftfyOnly = "ftfy_only"
        }
    }

    static func loadFixtureCases() throws -> [FixtureCase] {
        let data = try Data(contentsOf: fixtures.appendingPathComponent("tokenizer-cases.json"))
        return try JSONDecoder().decode([FixtureCase].self, from: data)
    }

    @Test func specialTokensAndVocabularySizeComeFromTheVocabulary() throws {
        let tokenizer = try Self.sharedFromVocabAndMerges.get()
        #expect(tokenizer.startOfTextID == 49406)
        #expect(tokenizer.endOfTextID == 49407)
        #expect(tokenizer.vocabularySize == 49408)
        #expect(tokenizer.encode("") == [49406, 49407])
    }

    @Test func matchesOpenCLIPOnEveryFixtureCase() throws {
        let tokenizer = try Self.sharedFromVocabAndMerges.get()
        let cases = try Self.loadFixtureCases().filter { $0.ftfyOnly != true }
        try #require(!cases.isEmpty, "tokenizer-cases.json has no cases")
        var failures = 0
        for fixture in cases {
            let actual = tokenizer.encode(fixture.text)
            if actual != fixture.ids {
                failures += 1
                Issue.record(
                    """
                    text: \(fixture.text.debugDescription)
                    expected: \(fixture.ids)
                    actual:   \(actual)
                    """)
            }
        }
        #expect(failures == 0, "\(failures) of \(cases.count) fixture cases differ from open_clip")
    }

    @Test func tokenizerJSONGivesTheSameIDsAsVocabAndMerges() throws {
        let fromVocab = try Self.sharedFromVocabAndMerges.get()
        let fromJSON = try Self.sharedFromTokenizerJSON.get()
        #expect(fromJSON.startOfTextID == fromVocab.startOfTextID)
        #expect(fromJSON.endOfTextID == fromVocab.endOfTextID)
        #expect(fromJSON.vocabularySize == fromVocab.vocabularySize)
        let texts = try Self.loadFixtureCases().map(\.text) + Self.edgeCases.map(\.text)
        for text in texts {
            #expect(fromJSON.encode(text) == fromVocab.encode(text), "text: \(text.debugDescription)")
        }
    }

    @Test(arguments: edgeCases)
    func matchesOpenCLIPOnEdgeCase(_ edgeCase: EdgeCase) throws {
        let tokenizer = try Self.sharedFromVocabAndMerges.get()
        #expect(tokenizer.encode(edgeCase.text) == edgeCase.ids)
    }

    @Test func truncationKeepsTheEndTokenLast() throws {
        let tokenizer = try Self.sharedFromVocabAndMerges.get()
        let text = Array(repeating: "a photo of a cat", count: 30).joined(separator: " ")
        let full = tokenizer.encode(text, contextLength: .max)
        #expect(full.count == 2 + 30 * 5)

        let truncated = tokenizer.encode(text)
        #expect(truncated.count == 77)
        #expect(truncated.last == tokenizer.endOfTextID)
        #expect(truncated.dropLast() == full.prefix(76))

        #expect(tokenizer.encode(text, contextLength: 3) == [49406, 320, 49407])
        #expect(tokenizer.encode(text, contextLength: 1) == [49407])
        // Exactly 77 ids fit without truncation.
        let exact = Array(repeating: "a", count: 75).joined(separator: " ")
        #expect(tokenizer.encode(exact) == [49406] + Array(repeating: 320, count: 75) + [49407])
    }

    @Test func encodeBatchMatchesEncode() throws {
        let tokenizer = try Self.sharedFromVocabAndMerges.get()
        let texts = try Self.loadFixtureCases().map(\.text)
        #expect(tokenizer.encodeBatch(texts) == texts.map { tokenizer.encode($0) })
    }

    @Test func concurrentEncodingSharesTheCacheSafely() async throws {
        let tokenizer = try Self.sharedFromVocabAndMerges.get()
        let texts = try Self.loadFixtureCases().map(\.text)
        let expected = texts.map { tokenizer.encode($0) }
        let fresh = try CLIPTokenizer(directory: Self.vocabAndMergesDirectory)
        let results = await withTaskGroup(of: [[Int32]].self) { group in
            // Eight tasks, each through the texts in its own fixed order (rotated, every other one reversed),
            // so they meet in the cache differently but every run is the same.
            for task in 0..<8 {
                let start = task * texts.count / 8
                let rotated = Array(texts[start...] + texts[..<start])
                let order = task.isMultiple(of: 2) ? rotated : rotated.reversed()
                group.addTask { fresh.encodeBatch(order).sorted { $0.lexicographicallyPrecedes($1) } }
            }
            return await group.reduce(into: []) { $0.append($1) }
        }
        let sortedExpected = expected.sorted { $0.lexicographicallyPrecedes($1) }
        for result in results {
            #expect(result == sortedExpected)
        }
    }

    @Test func inMemoryVocabularyAppliesMergesByRank() throws {
        let symbols = (0...255).map { byteSymbol(UInt8($0)) }
        var vocabulary: [String: Int] = [:]
        for symbol in symbols + symbols.map({ $0 + "</w>" }) + ["ca", "at</w>", "cat</w>"] {
            vocabulary[symbol] = vocabulary.count
        }
        vocabulary["<|startoftext|>"] = vocabulary.count
        vocabulary["<|endoftext|>"] = vocabulary.count
        // ("c", "a") outranks ("a", "t</w>"), so "cat" becomes "ca" + "t</w>", then "cat</w>".
        let merges = [("c", "a"), ("a", "t</w>"), ("ca", "t</w>")]
        let tokenizer = try CLIPTokenizer(vocabulary: vocabulary, merges: merges)
        let ids = tokenizer.encode("Cat at")
        let expected = [
            vocabulary["<|startoftext|>"]!, vocabulary["cat</w>"]!, vocabulary["at</w>"]!,
            vocabulary["<|endoftext|>"]!,
        ]
        #expect(ids == expected.map { Int32($0) })
        #expect(tokenizer.vocabularySize == vocabulary.count)
    }

    @Test func inMemoryVocabularyWithoutSpecialTokensIsRejected() {
        #expect {
            _ = try CLIPTokenizer(vocabulary: ["a": 0], merges: [])
        } throws: { ($0 as? CLIPError)?.code == .invalidTokenizer }
    }

    // MARK: - Loading errors

    @Test func missingDirectoryThrowsMissingFile() {
        let directory = Self.fixtures.appendingPathComponent("no-such-model")
        let error = #expect(throws: CLIPError.self) { try CLIPTokenizer(directory: directory) }
        #expect(error?.code == .missingFile)
        #expect(error?.path == directory.path)
    }

    @Test func directoryWithoutTokenizerFilesThrowsMissingFile() throws {
        try withTemporaryDirectory { directory in
            // merges.txt alone is not enough.
            try "#version: 0.2\ni n\n".write(
                to: directory.appendingPathComponent("merges.txt"), atomically: true, encoding: .utf8)
            let error = #expect(throws: CLIPError.self) { try CLIPTokenizer(directory: directory) }
            #expect(error?.code == .missingFile)
            #expect(error?.message.contains("tokenizer.json") == true)
        }
    }

    @Test func malformedVocabularyThrowsInvalidTokenizer() throws {
        try withTemporaryDirectory { directory in
            let vocabulary = directory.appendingPathComponent("vocab.json")
            try #"{"a": 0, "b": }"#.write(to: vocabulary, atomically: true, encoding: .utf8)
            try FileManager.default.copyItem(
                at: Self.vocabAndMergesDirectory.appendingPathComponent("merges.txt"),
                to: directory.appendingPathComponent("merges.txt"))
            let error = #expect(throws: CLIPError.self) { try CLIPTokenizer(directory: directory) }
            #expect(error?.code == .invalidTokenizer)
            #expect(error?.path == vocabulary.path)
        }
    }

    @Test func vocabularyWithNonIntegerIDThrowsInvalidTokenizer() throws {
        try withTemporaryDirectory { directory in
            let vocabulary = directory.appendingPathComponent("vocab.json")
            try #"{"a": "zero"}"#.write(to: vocabulary, atomically: true, encoding: .utf8)
            try "#version: 0.2\n".write(
                to: directory.appendingPathComponent("merges.txt"), atomically: true, encoding: .utf8)
            let error = #expect(throws: CLIPError.self) { try CLIPTokenizer(directory: directory) }
            #expect(error?.code == .invalidTokenizer)
            #expect(error?.path == vocabulary.path)
        }
    }

    @Test func mergeOfUnknownSymbolThrowsInvalidTokenizer() throws {
        try withTemporaryDirectory { directory in
            try FileManager.default.copyItem(
                at: Self.vocabAndMergesDirectory.appendingPathComponent("vocab.json"),
                to: directory.appendingPathComponent("vocab.json"))
            let merges = directory.appendingPathComponent("merges.txt")
            try "#version: 0.2\ni n\nnot-a-symbol x\n".write(to: merges, atomically: true, encoding: .utf8)
            let error = #expect(throws: CLIPError.self) { try CLIPTokenizer(directory: directory) }
            #expect(error?.code == .invalidTokenizer)
            #expect(error?.path == merges.path)
            #expect(error?.message.contains("not-a-symbol") == true)
        }
    }

    @Test func tokenizerJSONAcceptsMergesWrittenAsStrings() throws {
        // The fixture writes merges as ["a", "b"] pairs (tokenizers >= 0.20); older files
        // write "a b". Rewrite the fixture in the old form and compare.
        let original = Self.tokenizerJSONDirectory.appendingPathComponent("tokenizer.json")
        var root = try #require(
            try JSONSerialization.jsonObject(with: Data(contentsOf: original)) as? [String: Any])
        var model = try #require(root["model"] as? [String: Any])
        let pairs = try #require(model["merges"] as? [[String]])
        model["merges"] = pairs.map { $0.joined(separator: " ") }
        root["model"] = model
        try withTemporaryDirectory { directory in
            try JSONSerialization.data(withJSONObject: root)
                .write(to: directory.appendingPathComponent("tokenizer.json"))
            let fromStrings = try CLIPTokenizer(directory: directory)
            let fromPairs = try Self.sharedFromTokenizerJSON.get()
            for text in try Self.loadFixtureCases().map(\.text) {
                #expect(fromStrings.encode(text) == fromPairs.encode(text), "text: \(text.debugDescription)")
            }
        }
    }

    @Test func tokenizerJSONWithoutModelThrowsInvalidTokenizer() throws {
        try withTemporaryDirectory { directory in
            let file = directory.appendingPathComponent("tokenizer.json")
            try #"{"version": "1.0", "added_tokens": []}"#.write(to: file, atomically: true, encoding: .utf8)
            let error = #expect(throws: CLIPError.self) { try CLIPTokenizer(directory: directory) }
            #expect(error?.code == .invalidTokenizer)
            #expect(error?.path == file.path)
        }
    }

    // MARK: - Edge cases

    /// A text and the ids open_clip 3.3.0's `SimpleTokenizer` (ftfy 6.3.1, Python 3.11)
    /// gives it, unpadded.
    struct EdgeCase: Sendable, CustomTestStringConvertible {
        var note: String
        var text: String
        var ids: [Int32]

        init(_ note: String, _ text: String, _ ids: [Int32]) {
            self.note = note
            self.text = text
            self.ids = ids
        }

        var testDescription: String { note }
    }

    static let edgeCases: [EdgeCase] = [
        EdgeCase(
            "final sigma at the end of each word",
            "\u{39F}\u{394}\u{39F}\u{3A3} \u{3A3}\u{391}\u{3A3}",
            [
                49406, 138, 123, 138, 112, 138, 123, 139, 480, 139, 225, 138, 109, 139, 480, 49407,
            ]),
        EdgeCase(
            "a lone capital sigma is not final",
            "\u{3A3}", [49406, 139, 481, 49407]),
        EdgeCase(
            "sigma before punctuation is final",
            "\u{391}\u{3A3}.\u{3A3}", [49406, 138, 109, 139, 481, 269, 139, 480, 49407]),
        EdgeCase(
            "full lower-case mapping: İ becomes i + U+0307",
            "\u{130}STANBUL", [49406, 328, 16384, 11231, 49407]),
        EdgeCase(
            "IGNORECASE lets 's match long s",
            "dog'\u{17F} bone", [49406, 1929, 6, 129, 379, 6195, 49407]),
        EdgeCase(
            "U+0345 is matched by no alternative and dropped",
            "a\u{345}b", [49406, 320, 321, 49407]),
        EdgeCase(
            "open_clip's special-token spellings",
            "<start_of_text>hello<end_of_text>", [49406, 49406, 3306, 49407, 49407]),
        EdgeCase(
            "special-token spelling after lower-casing",
            "<START_OF_TEXT>", [49406, 49406, 49407]),
        EdgeCase(
            "HTML5 rules for invalid numeric references",
            "&#128;uro &#0; &#x110000; &#xD800; &#1;x &#65",
            [
                49406, 6309, 5925, 39802, 39802, 39802, 343, 320, 49407,
            ]),
        EdgeCase(
            "legacy entity without a semicolon",
            "AT&ampT", [49406, 536, 261, 339, 49407]),
        EdgeCase(
            "longest legacy prefix of an unknown name",
            "&notit;", [49406, 126, 361, 585, 282, 49407]),
        EdgeCase(
            "ftfy's all-caps entities",
            "P&EACUTE;REZ", [49406, 43167, 15192, 49407]),
        EdgeCase(
            "ftfy's all-caps entities, and a mixed-case one left alone",
            "&NTILDE; &nTILDE; &SZLIG;", [49406, 127, 365, 261, 77, 6124, 654, 282, 632, 49407]),
        EdgeCase(
            "ANSI terminal escapes are removed",
            "\u{1B}[31mred\u{1B}[0m text", [49406, 736, 4160, 49407]),
        EdgeCase(
            "C1 controls read as Windows-1252",
            "a\u{80}b\u{85}c\u{9D}d", [49406, 320, 6309, 321, 959, 322, 126, 507, 323, 49407]),
        EdgeCase(
            "control characters removed",
            "bell\u{7} del\u{7F} bom\u{FEFF}", [49406, 3718, 2003, 19469, 49407]),
        EdgeCase(
            "halfwidth katakana widened, then voiced marks composed by NFC",
            "\u{FF76}\u{FF9E}\u{FF77}\u{FF9E} \u{FF8A}\u{FF9F}\u{FF9D}",
            [
                49406, 3909, 105, 3909, 362, 2429, 239, 26875, 49407,
            ]),
        EdgeCase(
            "halfwidth katakana with sound marks",
            "\u{FF8D}\u{FF9F}\u{FF70}\u{FF7C}\u{FF9E}", [49406, 2429, 248, 13457, 3909, 372, 49407]),
        EdgeCase(
            "halfwidth Hangul jamo and fullwidth symbols",
            "\u{FFA1}\u{FFA2} \u{FFE6} \u{FFE3}",
            [
                49406, 157, 226, 222, 157, 226, 479, 5227, 358, 136, 482, 49407,
            ]),
        EdgeCase(
            "Latin ligatures and digraphs split",
            "\u{149} \u{1C6} \u{1C5}emal \u{FB05}",
            [
                49406, 262, 333, 67, 129, 378, 67, 129, 122, 908, 566, 129, 123, 339, 49407,
            ]),
        EdgeCase(
            "a '<' turns ftfy's unescaping off for the rest of the text",
            "line1\nx<y &amp;amp;amp;\nline3 &amp;amp;amp;",
            [
                49406, 1148, 272, 343, 283, 344, 261, 6259, 282, 1148, 274, 261, 6259, 282, 49407,
            ]),
        EdgeCase(
            "lines before the first '<' are still unescaped",
            "&amp;amp;amp; first\n<b>", [49406, 261, 874, 283, 321, 285, 49407]),
        EdgeCase(
            "NFC composition",
            "e\u{301} cafe\u{301}", [49406, 4166, 15304, 49407]),
        EdgeCase(
            "lower-casing a titlecase letter with ypogegrammeni",
            "\u{1FBC}", [49406, 157, 122, 367, 49407]),
        EdgeCase(
            "Unicode line and paragraph separators",
            "a\u{2028}b\u{2029}c", [49406, 320, 321, 322, 49407]),
        EdgeCase(
            "information separators are removed by ftfy",
            "x\u{1C}y\u{1D}z", [49406, 20023, 345, 49407]),
        EdgeCase(
            "emoji ZWJ sequence",
            "\u{1F937}\u{1F3FB}\u{200D}\u{2640}\u{FE0F}", [49406, 46770, 49407]),
        EdgeCase(
            "incomplete references, and &#59; that ftfy leaves alone",
            "& && &# &#x; &#59; &#x41 &#X41;",
            [
                49406, 261, 27791, 5, 258, 5, 258, 343, 282, 282, 320, 320, 49407,
            ]),
        EdgeCase(
            "each Unicode number is its own word",
            "\u{663} \u{216B} \u{BD} \u{B2}", [49406, 149, 352, 158, 227, 375, 33613, 41175, 49407]),
        EdgeCase(
            "a 300-letter word: long BPE, truncated to 77 ids ending in the end token",
            String(repeating: "a", count: 300),
            [
                49406, 23126, 23126, 23126, 23126, 23126, 23126, 23126, 23126, 23126, 23126, 23126,
                23126, 23126, 23126, 23126, 23126, 23126, 23126, 23126, 23126, 23126, 23126, 23126,
                23126, 23126, 23126, 23126, 23126, 23126, 23126, 23126, 23126, 23126, 23126, 23126,
                23126, 23126, 19336, 49407,
            ]),
        EdgeCase(
            "KELVIN SIGN and capital sharp s lower-cased",
            "\u{212A} \u{1E9E}", [49406, 330, 127, 509, 49407]),
        EdgeCase(
            "curly quotes straightened",
            "\u{2018}quote\u{2019} \u{201A}low\u{201B} \u{201E}double\u{201F} \u{2BC}n",
            [
                49406, 262, 4020, 262, 262, 1042, 262, 257, 3200, 257, 262, 333, 49407,
            ]),
        EdgeCase(
            "typographic ligatures",
            "\u{FB00} \u{FB03} \u{FB04}", [49406, 1304, 1021, 328, 39490, 49407]),
        EdgeCase(
            "astral-plane entities",
            "\u{1D4A5}ohn &Jscr;ohn &HilbertSpace;",
            [
                49406, 43387, 98, 48043, 43387, 98, 48043, 8604, 489, 49407,
            ]),
        EdgeCase(
            "vertical tab removed, form feed is whitespace",
            "tab\u{B}vt\u{C}ff", [49406, 2648, 10291, 1304, 49407]),
        EdgeCase(
            "entities decoded into a long punctuation run",
            "x" + String(repeating: "&amp;", count: 30),
            [
                49406, 343, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5,
                5, 5, 5, 27791, 49407,
            ]),
        EdgeCase(
            "Unicode spaces trimmed",
            "\u{A0}\u{1680}\u{2000}\u{200A}\u{202F}\u{205F}\u{3000}end", [49406, 806, 49407]),
    ]
}

/// GPT-2's byte-to-Unicode symbol for `byte`.
private func byteSymbol(_ byte: UInt8) -> String {
    var next: UInt32 = 0x100
    for candidate in 0...255 {
        let printable =
            (0x21...0x7E).contains(candidate) || (0xA1...0xAC).contains(candidate)
            || (0xAE...0xFF).contains(candidate)
        let value = printable ? UInt32(candidate) : next
        if !printable { next += 1 }
        if candidate == Int(byte) { return String(Unicode.Scalar(value)!) }
    }
    fatalError("unreachable")
}

/// Runs `body` with a fresh temporary directory that is removed afterwards.
private func withTemporaryDirectory(_ body: (URL) throws -> Void) throws {
    let directory = FileManager.default.temporaryDirectory
        .appendingPathComponent("CLIPTokenizerTests-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: directory) }
    try body(directory)
}
