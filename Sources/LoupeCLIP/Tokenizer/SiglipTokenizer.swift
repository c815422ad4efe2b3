import Foundation

/// SigLIP's SentencePiece unigram tokenizer (`spiece.model`), producing the ids transformers'
/// `SiglipTokenizer` does, as `google/siglip-base-patch16-224` and
/// `google/siglip-base-patch16-256-multilingual` load it.
///
/// The pipeline, in transformers' order: the text gets a leading `▁` (and its own `▁` become
/// spaces); literal `</s>` and `<unk>` are split out as their special ids, eating the whitespace
/// around them; each remaining chunk is lower-cased, stripped of ASCII punctuation, its
/// whitespace runs collapsed and trimmed ("canonicalised"), then normalised by the model's
/// precompiled charsmap and segmented by Viterbi over piece scores. transformers encodes
/// `"<unk>" + chunk` and drops the pieces `"<unk>"` alone encodes to; so does this type, since
/// that changes how a chunk's first word is segmented. ``encode(_:length:)`` truncates to
/// `length - 1`, appends `</s>` unless the ids already end with it, and pads with `</s>`.
///
/// ```swift
/// let tokenizer = try SiglipTokenizer(directory: modelDirectory)
/// let ids = tokenizer.encode("a photo of a cat")   // 64 ids, </s>-padded
/// ```
public struct SiglipTokenizer: Sendable {
    /// The id of `</s>`, appended to every text and used as padding.
    public let endOfTextID: Int32
    /// The id of `<unk>`.
    public let unknownID: Int32
    /// The number of pieces in the model.
    public let vocabularySize: Int
    /// Whether text is lower-cased first (`do_lower_case`, on for every released checkpoint).
    public let lowercases: Bool

    private let normalizer: SentencePieceNormalizer
    private let model: UnigramModel
    /// How many pieces `"<unk>"` alone encodes to.
    private let unknownPrefixLength: Int

    /// The text length SigLIP was trained with.
    public static let defaultLength = 64

    /// Loads `spiece.model` (and `do_lower_case` from `tokenizer_config.json`, when present).
    public init(directory: URL) throws {
        let file = directory.appendingPathComponent("spiece.model")
        let bytes: [UInt8]
        do {
            bytes = Array(try Data(contentsOf: file))
        } catch {
            throw CLIPError(.missingFile, "cannot read spiece.model: \(error.localizedDescription)", path: file.path)
        }
        var lowercases = true
        let configFile = directory.appendingPathComponent("tokenizer_config.json")
        if let data = try? Data(contentsOf: configFile) {
            guard let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
                throw CLIPError(.invalidTokenizer, "not a JSON object", path: configFile.path)
            }
            if let flag = object["do_lower_case"] as? Bool { lowercases = flag }
        }
        do {
            try self.init(model: SentencePieceModel(bytes: bytes), lowercases: lowercases)
        } catch {
            throw CLIPError(error.code, error.message, path: file.path)
        }
    }

    init(model proto: SentencePieceModel, lowercases: Bool) throws(CLIPError) {
        guard proto.modelType == .unigram else {
            throw CLIPError(.invalidTokenizer, "expected a unigram SentencePiece model, found \(proto.modelType)")
        }
        let charsMap = proto.precompiledCharsMap.isEmpty ? nil : try PrecompiledCharsMap(proto.precompiledCharsMap)
        normalizer = SentencePieceNormalizer(
            charsMap: charsMap, addDummyPrefix: proto.addDummyPrefix,
            removeExtraWhitespaces: proto.removeExtraWhitespaces, escapeWhitespaces: proto.escapeWhitespaces)
        model = try UnigramModel(model: proto)
        guard let eos = proto.pieces.firstIndex(where: { $0.text == "</s>" }) else {
            throw CLIPError(.invalidTokenizer, "the model has no </s> piece")
        }
        endOfTextID = Int32(eos)
        unknownID = model.unknownID
        vocabularySize = proto.pieces.count
        self.lowercases = lowercases
        unknownPrefixLength = model.encode(normalizer.normalize(Array("<unk>".utf8))).count
    }

    /// The ids of `text` without `</s>`, truncation or padding.
    public func encodeWithoutSpecialTokens(_ text: String) -> [Int32] {
        let prefixed = "\u{2581}" + text.replacingOccurrences(of: "\u{2581}", with: " ")
        var tokens: [(id: Int32, special: Bool, bareSpace: Bool)] = []
        for chunk in splitSpecialTokens(prefixed) {
            switch chunk {
            case .special(let id):
                tokens.append((id, true, false))
            case .text(let text):
                let canonical = canonicalize(text)
                let pieces = model.encode(normalizer.normalize(Array(("<unk>" + canonical).utf8)))
                let kept = pieces.count >= unknownPrefixLength ? pieces.dropFirst(unknownPrefixLength) : pieces[...]
                for piece in kept {
                    tokens.append((piece.id, false, piece.piece.elementsEqual("\u{2581}".utf8)))
                }
            }
        }
        // transformers drops a leading bare "▁" piece when a special token follows it.
        if tokens.count > 1, tokens[0].bareSpace, tokens[1].special { tokens.removeFirst() }
        return tokens.map(\.id)
    }

    /// `length` ids as SigLIP is fed: truncated to `length - 1`, `</s>` appended unless already
    /// last, padded with `</s>`.
    public func encode(_ text: String, length: Int = Self.defaultLength) -> [Int32] {
        var ids = encodeWithoutSpecialTokens(text)
        if ids.count + 1 > length { ids.removeLast(ids.count - max(length - 1, 0)) }
        if ids.last != endOfTextID { ids.append(endOfTextID) }
        if ids.count < length { ids += repeatElement(endOfTextID, count: length - ids.count) }
        return ids
    }

    // MARK: - Pipeline steps

    private enum Chunk {
        case text(String)
        case special(Int32)
    }

    /// Splits out literal `</s>` and `<unk>` (leftmost first), stripping whitespace on both sides.
    private func splitSpecialTokens(_ text: String) -> [Chunk] {
        let specials: [(String, Int32)] = [("</s>", endOfTextID), ("<unk>", unknownID)]
        var pieces: [(String, Int32?)] = []
        var rest = Substring(text)
        while true {
            var earliest: (Range<Substring.Index>, Int32)?
            for (token, id) in specials {
                if let range = rest.range(of: token), earliest.map({ range.lowerBound < $0.0.lowerBound }) ?? true {
                    earliest = (range, id)
                }
            }
            guard let (range, id) = earliest else { break }
            pieces.append((String(rest[..<range.lowerBound]), nil))
            pieces.append(("", id))
            rest = rest[range.upperBound...]
        }
        pieces.append((String(rest), nil))
        // lstrip/rstrip: a special token eats the whitespace next to it.
        for index in pieces.indices where pieces[index].1 != nil {
            if index > 0 { pieces[index - 1].0 = PythonText.rstrip(pieces[index - 1].0) }
            if index + 1 < pieces.count { pieces[index + 1].0 = PythonText.lstrip(pieces[index + 1].0) }
        }
        return pieces.compactMap { text, id in
            if let id { return .special(id) }
            return text.isEmpty ? nil : .text(text)
        }
    }

    /// transformers' `canonicalize_text`: lower-case, drop ASCII punctuation, collapse whitespace, trim.
    private func canonicalize(_ text: String) -> String {
        var scalars = String.UnicodeScalarView()
        let source = lowercases ? PythonText.lowercased(text) : text
        var pendingSpace = false
        var started = false
        for scalar in source.unicodeScalars {
            if scalar.isASCII, PythonText.asciiPunctuation.contains(UInt8(scalar.value)) { continue }
            if PythonText.isWhitespace(scalar) {
                pendingSpace = started
                continue
            }
            if pendingSpace { scalars.append(" ") }
            pendingSpace = false
            started = true
            scalars.append(scalar)
        }
        return String(scalars)
    }
}
