import Foundation

/// CLIP's byte-level BPE text tokenizer, producing the same ids as the reference
/// implementation, open_clip's `SimpleTokenizer`.
///
/// Text goes through the reference pipeline: ftfy-style cleanup, HTML unescaping, whitespace
/// collapsing and lower-casing (``TextNormalizer``), splitting into words with CLIP's
/// pattern (``PreTokenizer``), then byte-level BPE on each word (``BytePairEncoder``).
///
/// Known differences from the reference:
/// - ftfy's mojibake repair is not reproduced (see ``TextFixer``), so text such as `cafÃ©`
///   is tokenised as written rather than as `café`.
/// - Letters and numbers are classified with the Unicode data of the Swift runtime
///   (Unicode 16 in Swift 6.3) while the reference uses the `regex` module's (Unicode 17)
///   and Python's (Unicode 14 for case mapping and NFC). Only code points assigned in
///   between are affected.
///
/// Unlike OpenAI's original tokenizer and Hugging Face's, a literal `<|endoftext|>` in the
/// text is split like ordinary text; open_clip instead recognises the spellings
/// `<start_of_text>` and `<end_of_text>`. Hugging Face's fast `CLIPTokenizer` also skips
/// ftfy and HTML unescaping, so it differs on entities, curly quotes and fullwidth text.
///
/// The tokenizer is a value that can be shared across tasks; encoded words are cached in
/// storage shared by all copies.
///
/// ```swift
/// let tokenizer = try CLIPTokenizer(directory: modelDirectory)
/// let ids = tokenizer.encode("a photo of a cat")
/// // [49406, 320, 1125, 539, 320, 2368, 49407]
/// ```
public struct CLIPTokenizer: Sendable {
    /// The id of `<|startoftext|>`, which begins every encoded text.
    public let startOfTextID: Int32
    /// The id of `<|endoftext|>`, which ends every encoded text.
    public let endOfTextID: Int32
    /// The number of entries in the vocabulary (49,408 for CLIP).
    public let vocabularySize: Int

    private let encoder: BytePairEncoder
    private let preTokenizer: PreTokenizer
    private let cache: WordCache

    /// The context length of every released CLIP model.
    public static let defaultContextLength = 77

    /// Creates a tokenizer from a vocabulary and merge rules.
    ///
    /// - Parameters:
    ///   - vocabulary: Token strings, in GPT-2's byte-to-Unicode alphabet, mapped to ids.
    ///     It must contain every byte symbol with and without `</w>`, `<|startoftext|>`
    ///     and `<|endoftext|>`.
    ///   - merges: The merge rules, highest priority first.
    /// - Throws: ``CLIPError`` with code ``CLIPError/Code/invalidTokenizer`` if a required
    ///   token is missing or a merge refers to a symbol outside the vocabulary.
    public init(vocabulary: [String: Int], merges: [(String, String)]) throws {
        var table = Vocabulary(minimumCapacity: vocabulary.count)
        for (token, id) in vocabulary {
            guard let tokenID = Int32(exactly: id), tokenID >= 0 else {
                throw CLIPError(.invalidTokenizer, "token \"\(token)\" has an invalid id \(id)")
            }
            table.insert(token.utf8, id: tokenID)
        }
        var rules = MergeRules(minimumCapacity: merges.count)
        for (left, right) in merges {
            rules.append(left: left.utf8, right: right.utf8)
        }
        try self.init(vocabulary: table, merges: rules.resolved(in: table))
    }

    init(vocabulary: Vocabulary, merges: [MergeRules.Resolved]) throws(CLIPError) {
        func specialID(_ token: String) throws(CLIPError) -> Int32 {
            guard let id = vocabulary.id(of: token) else {
                throw CLIPError(.invalidTokenizer, "the vocabulary has no \"\(token)\" token")
            }
            return id
        }
        startOfTextID = try specialID("<|startoftext|>")
        endOfTextID = try specialID("<|endoftext|>")
        vocabularySize = vocabulary.count
        encoder = try BytePairEncoder(vocabulary: vocabulary, merges: merges)
        // open_clip names its special tokens <start_of_text> and <end_of_text> and matches
        // those spellings in the text; OpenAI's <|startoftext|> spelling is split like
        // ordinary text.
        preTokenizer = PreTokenizer(specialTokens: [
            .init(literal: Array("<start_of_text>".unicodeScalars), id: startOfTextID),
            .init(literal: Array("<end_of_text>".unicodeScalars), id: endOfTextID),
        ])
        cache = WordCache()
    }

    /// Encodes `text` into token ids: the start token, the text's tokens, and the end token.
    ///
    /// The result is not padded. Longer results are cut to `contextLength` ids, the last of
    /// which is replaced by the end token, as open_clip does.
    ///
    /// - Parameters:
    ///   - text: Any text; it is cleaned and lower-cased first.
    ///   - contextLength: The maximum number of ids to return; must be at least 1.
    public func encode(_ text: String, contextLength: Int = defaultContextLength) -> [Int32] {
        precondition(contextLength > 0, "contextLength must be positive, got \(contextLength)")
        let scalars = TextNormalizer.normalize(text)
        var ids: [Int32] = [startOfTextID]
        var word: [UInt8] = []
        preTokenizer.split(scalars) { piece in
            switch piece {
            case .special(let id):
                ids.append(id)
            case .word(let range):
                word.removeAll(keepingCapacity: true)
                for scalar in scalars[range] {
                    UTF8.encode(scalar) { word.append($0) }
                }
                appendTokens(of: word, to: &ids)
            }
        }
        ids.append(endOfTextID)
        if ids.count > contextLength {
            ids.removeLast(ids.count - contextLength)
            ids[contextLength - 1] = endOfTextID
        }
        return ids
    }

    /// Encodes each text as ``encode(_:contextLength:)`` does.
    public func encodeBatch(_ texts: [String], contextLength: Int = defaultContextLength) -> [[Int32]] {
        texts.map { encode($0, contextLength: contextLength) }
    }

    private func appendTokens(of word: [UInt8], to ids: inout [Int32]) {
        if let cached = cache[word] {
            ids.append(contentsOf: cached)
            return
        }
        var tokens: [Int32] = []
        encoder.encode(word, into: &tokens)
        cache[word] = tokens
        ids.append(contentsOf: tokens)
    }
}
