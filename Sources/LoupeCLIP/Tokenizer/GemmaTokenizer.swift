import Foundation

/// The Gemma byte-fallback BPE tokenizer SigLIP 2 uses (`tokenizer.json`), producing the ids
/// transformers' `GemmaTokenizer` does for `google/siglip2-base-patch16-224`.
///
/// As transformers 5 builds it: added tokens (`<pad>`, `<eos>`, ...) are matched first on the
/// raw text, leftmost and longest; every other stretch has its spaces replaced by `▁` and is BPE
/// encoded as one word (no dummy prefix): characters missing from the vocabulary become their
/// `<0xNN>` byte tokens, then adjacent symbols merge by rank, lowest first. Special tokens come
/// from the `TemplateProcessing` post-processor of `tokenizer.json` (SigLIP 2's: `$A <eos>`).
///
/// transformers does not lower-case SigLIP 2 text for these checkpoints (their config says
/// `model_type: siglip`, which keeps `GemmaTokenizer`), though the model was trained on
/// lower-cased text; callers who want the training distribution lower-case first.
public struct GemmaTokenizer: Sendable {
    /// The id of the padding token.
    public let paddingID: Int32
    /// The number of entries in the vocabulary.
    public let vocabularySize: Int
    /// Whether padding goes before the ids (`padding_side: left`, GemmaTokenizer's default).
    public let padsOnLeft: Bool

    private let vocabulary: [String: Int32]
    /// (left id, right id) → (rank, merged id).
    private let merges: [UInt64: (rank: Int32, id: Int32)]
    private let byteIDs: [Int32]?
    private let unknownID: Int32?
    /// Added tokens by their first byte, longest first (Gemma's files list thousands).
    private let addedTokens: [UInt8: [(content: [UInt8], id: Int32, lstrip: Bool, rstrip: Bool)]]
    private let prefixIDs: [Int32]
    private let suffixIDs: [Int32]

    /// The text length SigLIP 2 was trained with.
    public static let defaultLength = 64

    /// Loads `tokenizer.json` (and `padding_side` from `tokenizer_config.json`, when present).
    public init(directory: URL) throws {
        let file = directory.appendingPathComponent("tokenizer.json")
        let bytes: [UInt8]
        do {
            bytes = Array(try Data(contentsOf: file))
        } catch {
            throw CLIPError(.missingFile, "cannot read tokenizer.json: \(error.localizedDescription)", path: file.path)
        }
        var padsOnLeft = true
        let configFile = directory.appendingPathComponent("tokenizer_config.json")
        if let data = try? Data(contentsOf: configFile) {
            guard let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
                throw CLIPError(.invalidTokenizer, "not a JSON object", path: configFile.path)
            }
            if let side = object["padding_side"] as? String { padsOnLeft = side == "left" }
        }
        do {
            try self.init(tokenizerJSON: bytes, padsOnLeft: padsOnLeft)
        } catch let error as CLIPError {
            throw CLIPError(error.code, error.message, path: file.path)
        } catch let error as JSONPullReader.SyntaxError {
            throw CLIPError(.invalidTokenizer, "not valid JSON: \(error)", path: file.path)
        }
    }

    init(tokenizerJSON bytes: [UInt8], padsOnLeft: Bool) throws {
        var reader = JSONPullReader(bytes)
        var vocabulary: [String: Int32] = [:]
        var mergePairs: [(String, String)] = []
        var byteFallback = false
        var unknownToken: String?
        var added: [(content: [UInt8], id: Int32, lstrip: Bool, rstrip: Bool)] = []
        var template: [String] = []
        var specialIDs: [String: [Int32]] = [:]
        var modelType = ""
        try reader.readObject { reader, key in
            switch String(decoding: key, as: UTF8.self) {
            case "model":
                try reader.readObject { reader, key in
                    switch String(decoding: key, as: UTF8.self) {
                    case "type": modelType = try reader.readString()
                    case "byte_fallback" where try reader.peekKind() == .literal:
                        byteFallback = try reader.readBool()
                    case "unk_token" where try reader.peekKind() == .string: unknownToken = try reader.readString()
                    case "vocab":
                        vocabulary.reserveCapacity(300_000)
                        try reader.readObject { reader, token in
                            let id = try reader.readInteger()
                            guard let id32 = Int32(exactly: id), id32 >= 0 else {
                                throw CLIPError(.invalidTokenizer, "model.vocab has an invalid id \(id)")
                            }
                            vocabulary[String(decoding: token, as: UTF8.self)] = id32
                        }
                    case "merges":
                        try reader.readArray { reader in
                            if try reader.peekKind() == .string {
                                let rule = try reader.readString()
                                let parts = rule.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: false)
                                guard parts.count == 2 else {
                                    throw CLIPError(.invalidTokenizer, "merge \"\(rule)\" is not two symbols")
                                }
                                mergePairs.append((String(parts[0]), String(parts[1])))
                            } else {
                                var pair: [String] = []
                                try reader.readArray { reader in pair.append(try reader.readString()) }
                                guard pair.count == 2 else {
                                    throw CLIPError(.invalidTokenizer, "a merge is not a pair of symbols")
                                }
                                mergePairs.append((pair[0], pair[1]))
                            }
                        }
                    default: try reader.skipValue()
                    }
                }
            case "added_tokens" where try reader.peekKind() == .array:
                try reader.readArray { reader in
                    var content: [UInt8] = []
                    var id = -1
                    var lstrip = false
                    var rstrip = false
                    try reader.readObject { reader, key in
                        switch String(decoding: key, as: UTF8.self) {
                        case "content": try reader.readString(into: &content)
                        case "id": id = try reader.readInteger()
                        case "lstrip": lstrip = try reader.readBool()
                        case "rstrip": rstrip = try reader.readBool()
                        default: try reader.skipValue()
                        }
                    }
                    guard let id32 = Int32(exactly: id), id32 >= 0, !content.isEmpty else {
                        throw CLIPError(.invalidTokenizer, "an added token has no content or an invalid id")
                    }
                    added.append((content, id32, lstrip, rstrip))
                }
            case "post_processor" where try reader.peekKind() == .object:
                try reader.readObject { reader, key in
                    switch String(decoding: key, as: UTF8.self) {
                    case "type":
                        let type = try reader.readString()
                        guard type == "TemplateProcessing" else {
                            throw CLIPError(.invalidTokenizer, "post_processor \(type) is not supported")
                        }
                    case "single":
                        try reader.readArray { reader in
                            try reader.readObject { reader, kind in
                                let kind = String(decoding: kind, as: UTF8.self)
                                var name = ""
                                try reader.readObject { reader, key in
                                    if key == Array("id".utf8) { name = try reader.readString() } else { try reader.skipValue() }
                                }
                                template.append(kind == "Sequence" ? "$" : name)
                            }
                        }
                    case "special_tokens":
                        try reader.readObject { reader, name in
                            var ids: [Int32] = []
                            try reader.readObject { reader, key in
                                if key == Array("ids".utf8) {
                                    try reader.readArray { reader in ids.append(Int32(clamping: try reader.readInteger())) }
                                } else {
                                    try reader.skipValue()
                                }
                            }
                            specialIDs[String(decoding: name, as: UTF8.self)] = ids
                        }
                    default: try reader.skipValue()
                    }
                }
            default:
                try reader.skipValue()
            }
        }
        try reader.expectEnd()
        guard modelType == "BPE" else {
            throw CLIPError(.invalidTokenizer, "model.type is \"\(modelType)\", expected \"BPE\"")
        }
        guard !vocabulary.isEmpty else { throw CLIPError(.invalidTokenizer, "model.vocab is missing or empty") }
        var merges: [UInt64: (rank: Int32, id: Int32)] = [:]
        merges.reserveCapacity(mergePairs.count)
        for (rank, (left, right)) in mergePairs.enumerated() {
            guard let leftID = vocabulary[left], let rightID = vocabulary[right], let merged = vocabulary[left + right]
            else {
                throw CLIPError(.invalidTokenizer, "merge \"\(left) \(right)\" refers to a token missing from model.vocab")
            }
            let key = UInt64(UInt32(leftID)) << 32 | UInt64(UInt32(rightID))
            if merges[key] == nil { merges[key] = (Int32(rank), merged) }
        }
        if byteFallback {
            byteIDs = try (0..<256).map { value in
                let name = "<0x" + String(value, radix: 16, uppercase: true).leftPadded(to: 2) + ">"
                guard let id = vocabulary[name] else {
                    throw CLIPError(.invalidTokenizer, "byte_fallback is on but model.vocab lacks \(name)")
                }
                return id
            }
        } else {
            byteIDs = nil
        }
        unknownID = unknownToken.flatMap { vocabulary[$0] }
        for token in added where vocabulary[String(decoding: token.content, as: UTF8.self)] == nil {
            vocabulary[String(decoding: token.content, as: UTF8.self)] = token.id
        }
        var prefix: [Int32] = []
        var suffix: [Int32] = []
        var seenSequence = false
        for entry in template {
            if entry == "$" {
                seenSequence = true
                continue
            }
            guard let ids = specialIDs[entry] else {
                throw CLIPError(.invalidTokenizer, "post_processor names \"\(entry)\" but lists no ids for it")
            }
            if seenSequence { suffix += ids } else { prefix += ids }
        }
        guard let pad = vocabulary["<pad>"] else { throw CLIPError(.invalidTokenizer, "the vocabulary has no <pad>") }
        self.vocabulary = vocabulary
        self.merges = merges
        self.addedTokens = Dictionary(grouping: added, by: { $0.content[0] })
            .mapValues { $0.sorted { $0.content.count > $1.content.count } }
        prefixIDs = prefix
        suffixIDs = suffix
        paddingID = pad
        vocabularySize = vocabulary.count
        self.padsOnLeft = padsOnLeft
    }

    /// The ids of `text` without special tokens, truncation or padding.
    public func encodeWithoutSpecialTokens(_ text: String) -> [Int32] {
        let bytes = Array(text.utf8)
        var ids: [Int32] = []
        var segmentStart = 0
        var index = 0
        var stripNextLeading = false
        var pending: [(ArraySlice<UInt8>, Bool)] = []  // (segment, strip leading whitespace)
        var specialAfter: [Int32?] = []
        while index < bytes.count {
            var matched: (length: Int, id: Int32, lstrip: Bool, rstrip: Bool)?
            for token in addedTokens[bytes[index]] ?? [] where bytes[index...].starts(with: token.content) {
                matched = (token.content.count, token.id, token.lstrip, token.rstrip)
                break
            }
            guard let matched else {
                index += 1
                continue
            }
            var segment = bytes[segmentStart..<index]
            if matched.lstrip { segment = Self.trimTrailingWhitespace(segment) }
            pending.append((segment, stripNextLeading))
            specialAfter.append(matched.id)
            stripNextLeading = matched.rstrip
            index += matched.length
            segmentStart = index
        }
        pending.append((bytes[segmentStart...], stripNextLeading))
        specialAfter.append(nil)
        for ((segment, stripLeading), special) in zip(pending, specialAfter) {
            let part = stripLeading ? Self.trimLeadingWhitespace(segment) : segment
            if !part.isEmpty { encodeWord(String(decoding: part, as: UTF8.self), into: &ids) }
            if let special { ids.append(special) }
        }
        return ids
    }

    /// `length` ids as SigLIP 2 is fed: truncated so the template's special tokens fit, the
    /// template applied, padded with `<pad>`.
    public func encode(_ text: String, length: Int = Self.defaultLength) -> [Int32] {
        var ids = encodeWithoutSpecialTokens(text)
        let room = max(length - prefixIDs.count - suffixIDs.count, 0)
        if ids.count > room { ids.removeLast(ids.count - room) }
        ids = prefixIDs + ids + suffixIDs
        guard ids.count < length else { return ids }
        let padding = [Int32](repeating: paddingID, count: length - ids.count)
        return padsOnLeft ? padding + ids : ids + padding
    }

    /// BPE over one normalised stretch of text (spaces → `▁`).
    private func encodeWord(_ text: String, into ids: inout [Int32]) {
        var symbols: [Int32] = []
        var lastWasUnknown = false
        for character in text.replacingOccurrences(of: " ", with: "\u{2581}").unicodeScalars {
            if let id = vocabulary[String(character)] {
                symbols.append(id)
                lastWasUnknown = false
            } else if let byteIDs {
                for byte in String(character).utf8 { symbols.append(byteIDs[Int(byte)]) }
                lastWasUnknown = false
            } else if let unknownID {
                // fuse_unk: a run of unknown characters is one <unk>.
                if !lastWasUnknown { symbols.append(unknownID) }
                lastWasUnknown = true
            }
        }
        while symbols.count > 1 {
            var best: (rank: Int32, position: Int, id: Int32)?
            for position in 0..<(symbols.count - 1) {
                let key = UInt64(UInt32(symbols[position])) << 32 | UInt64(UInt32(symbols[position + 1]))
                if let merge = merges[key], best.map({ merge.rank < $0.rank }) ?? true {
                    best = (merge.rank, position, merge.id)
                }
            }
            guard let best else { break }
            symbols[best.position] = best.id
            symbols.remove(at: best.position + 1)
        }
        ids += symbols
    }

    private static func isSpace(_ byte: UInt8) -> Bool {
        byte == 0x20 || (0x09...0x0D).contains(byte)
    }

    private static func trimLeadingWhitespace(_ bytes: ArraySlice<UInt8>) -> ArraySlice<UInt8> {
        bytes.drop(while: isSpace)
    }

    private static func trimTrailingWhitespace(_ bytes: ArraySlice<UInt8>) -> ArraySlice<UInt8> {
        guard let last = bytes.lastIndex(where: { !isSpace($0) }) else { return bytes[bytes.startIndex..<bytes.startIndex] }
        return bytes[...last]
    }
}

extension String {
    fileprivate func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}
