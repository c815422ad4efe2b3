import Foundation

extension CLIPTokenizer {
    /// Loads the tokenizer of a Hugging Face CLIP model directory.
    ///
    /// Reads `vocab.json` and `merges.txt` when both are present, otherwise the `model.vocab`
    /// and `model.merges` of `tokenizer.json` (merges written either as `"a b"` strings or
    /// as `["a", "b"]` pairs, depending on the `tokenizers` version that saved it).
    ///
    /// - Parameter directory: The model directory.
    /// - Throws: ``CLIPError`` with code ``CLIPError/Code/missingFile`` if the directory has
    ///   neither set of files, or ``CLIPError/Code/invalidTokenizer`` naming the file that
    ///   cannot be parsed or is inconsistent.
    public init(directory: URL) throws {
        let fileManager = FileManager.default
        var isDirectory: ObjCBool = false
        guard fileManager.fileExists(atPath: directory.path, isDirectory: &isDirectory),
            isDirectory.boolValue
        else {
            throw CLIPError(
                .missingFile, "no such directory; expected one holding vocab.json and merges.txt, or tokenizer.json",
                path: directory.path)
        }
        let vocabularyFile = directory.appendingPathComponent("vocab.json")
        let mergesFile = directory.appendingPathComponent("merges.txt")
        let tokenizerFile = directory.appendingPathComponent("tokenizer.json")
        if fileManager.fileExists(atPath: vocabularyFile.path),
            fileManager.fileExists(atPath: mergesFile.path)
        {
            let vocabulary = try Self.readVocabulary(vocabularyFile)
            let merges: [MergeRules.Resolved]
            do {
                merges = try Self.readMerges(mergesFile).resolved(in: vocabulary)
            } catch {
                throw error.attributed(to: mergesFile)
            }
            do {
                try self.init(vocabulary: vocabulary, merges: merges)
            } catch {
                throw error.attributed(to: vocabularyFile)
            }
        } else if fileManager.fileExists(atPath: tokenizerFile.path) {
            let (vocabulary, merges) = try Self.readTokenizerJSON(tokenizerFile)
            do {
                try self.init(vocabulary: vocabulary, merges: merges.resolved(in: vocabulary))
            } catch {
                throw error.attributed(to: tokenizerFile)
            }
        } else {
            throw CLIPError(
                .missingFile, "expected vocab.json and merges.txt, or tokenizer.json",
                path: directory.path)
        }
    }

    // MARK: - vocab.json and merges.txt

    /// Parses `vocab.json`: one JSON object mapping token spellings to ids.
    private static func readVocabulary(_ file: URL) throws(CLIPError) -> Vocabulary {
        var reader = JSONPullReader(try readBytes(file))
        do {
            let vocabulary = try readVocabularyObject(&reader, field: "the vocabulary")
            try reader.expectEnd()
            return vocabulary
        } catch {
            throw invalid(error, in: file)
        }
    }

    /// Parses `merges.txt`: an optional `#version` line, then one `left right` rule per line.
    private static func readMerges(_ file: URL) throws(CLIPError) -> MergeRules {
        let bytes = try readBytes(file)
        var merges = MergeRules(minimumCapacity: 50_000)
        var lineNumber = 0
        var lineStart = 0
        // Index scanning rather than split(separator:), which allocates per line.
        while lineStart < bytes.count {
            lineNumber += 1
            let newline = bytes[lineStart...].firstIndex(of: UInt8(ascii: "\n")) ?? bytes.count
            var lineEnd = newline
            if lineEnd > lineStart, bytes[lineEnd - 1] == UInt8(ascii: "\r") { lineEnd -= 1 }
            let line = bytes[lineStart..<lineEnd]
            lineStart = newline + 1
            if line.isEmpty || (lineNumber == 1 && line.starts(with: "#version".utf8)) { continue }
            guard let space = line.firstIndex(of: UInt8(ascii: " ")), space > line.startIndex,
                space + 1 < lineEnd, !line[(space + 1)...].contains(UInt8(ascii: " "))
            else {
                let text = String(decoding: line, as: UTF8.self)
                throw CLIPError(
                    .invalidTokenizer, "line \(lineNumber) is not a merge of two symbols: \"\(text)\"",
                    path: file.path)
            }
            merges.append(left: bytes[line.startIndex..<space], right: bytes[(space + 1)..<lineEnd])
        }
        return merges
    }

    // MARK: - tokenizer.json

    /// Reads `model.vocab` and `model.merges` from `tokenizer.json`, plus any
    /// `added_tokens` missing from `model.vocab`.
    private static func readTokenizerJSON(_ file: URL) throws(CLIPError) -> (Vocabulary, MergeRules) {
        var reader = JSONPullReader(try readBytes(file))
        var vocabulary: Vocabulary?
        var merges: MergeRules?
        var addedTokens: [(content: String, id: Int)] = []
        do {
            guard try reader.peekKind() == .object else { throw problem("expected a JSON object") }
            try reader.readObject { reader, key in
                switch String(decoding: key, as: UTF8.self) {
                case "model":
                    try readModel(&reader, vocabulary: &vocabulary, merges: &merges)
                case "added_tokens" where try reader.peekKind() == .array:
                    addedTokens = try readAddedTokens(&reader)
                default:
                    try reader.skipValue()
                }
            }
            try reader.expectEnd()
            guard var vocabulary else { throw problem("model.vocab is missing") }
            guard let merges else { throw problem("model.merges is missing") }
            for token in addedTokens where vocabulary.id(of: token.content) == nil {
                guard let id = Int32(exactly: token.id), id >= 0 else {
                    throw problem("added token \"\(token.content)\" has an invalid id \(token.id)")
                }
                vocabulary.insert(token.content.utf8, id: id)
            }
            return (vocabulary, merges)
        } catch {
            throw invalid(error, in: file)
        }
    }

    private static func readModel(
        _ reader: inout JSONPullReader, vocabulary: inout Vocabulary?, merges: inout MergeRules?
    ) throws {
        guard try reader.peekKind() == .object else { throw problem("model is not an object") }
        try reader.readObject { reader, key in
            switch String(decoding: key, as: UTF8.self) {
            case "type":
                let type = try reader.readString()
                guard type == "BPE" else { throw problem("model.type is \"\(type)\", expected \"BPE\"") }
            case "vocab":
                vocabulary = try readVocabularyObject(&reader, field: "model.vocab")
            case "merges":
                merges = try readMergeArray(&reader)
            default:
                try reader.skipValue()
            }
        }
    }

    /// Reads `model.merges`, whose rules are `"left right"` strings in files written by
    /// tokenizers before 0.20 and `["left", "right"]` arrays after.
    private static func readMergeArray(_ reader: inout JSONPullReader) throws -> MergeRules {
        guard try reader.peekKind() == .array else { throw problem("model.merges is not an array") }
        var merges = MergeRules(minimumCapacity: 50_000)
        var left: [UInt8] = []
        var right: [UInt8] = []
        try reader.readArray { reader in
            left.removeAll(keepingCapacity: true)
            right.removeAll(keepingCapacity: true)
            switch try reader.peekKind() {
            case .string:
                try reader.readString(into: &left)
                guard let space = left.firstIndex(of: UInt8(ascii: " ")),
                    !left[(space + 1)...].contains(UInt8(ascii: " "))
                else {
                    throw problem("model.merges[\(merges.count)] is not two symbols separated by a space")
                }
                merges.append(left: left[..<space], right: left[(space + 1)...])
            case .array:
                var count = 0
                try reader.readArray { reader in
                    guard try reader.peekKind() == .string else {
                        throw problem("model.merges[\(merges.count)] holds a non-string")
                    }
                    count += 1
                    if count == 1 { try reader.readString(into: &left) } else { try reader.readString(into: &right) }
                }
                guard count == 2 else {
                    throw problem("model.merges[\(merges.count)] is not a pair of symbols")
                }
                merges.append(left: left, right: right)
            default:
                throw problem("model.merges[\(merges.count)] is not a string or an array")
            }
        }
        return merges
    }

    private static func readAddedTokens(_ reader: inout JSONPullReader) throws -> [(content: String, id: Int)] {
        var tokens: [(content: String, id: Int)] = []
        try reader.readArray { reader in
            guard try reader.peekKind() == .object else { return try reader.skipValue() }
            var content: String?
            var id: Int?
            try reader.readObject { reader, key in
                switch String(decoding: key, as: UTF8.self) {
                case "content" where try reader.peekKind() == .string: content = try reader.readString()
                case "id" where try reader.peekKind() == .number: id = try reader.readInteger()
                default: try reader.skipValue()
                }
            }
            if let content, let id { tokens.append((content, id)) }
        }
        return tokens
    }

    // MARK: - Helpers

    private static func readVocabularyObject(_ reader: inout JSONPullReader, field: String) throws -> Vocabulary {
        guard try reader.peekKind() == .object else { throw problem("\(field) is not a JSON object") }
        var vocabulary = Vocabulary(minimumCapacity: 50_000)
        try reader.readObject { reader, token in
            let spelling = String(decoding: token, as: UTF8.self)
            guard try reader.peekKind() == .number else {
                throw problem("\(field) maps \"\(spelling)\" to something other than a token id")
            }
            let id = try reader.readInteger()
            guard let id32 = Int32(exactly: id), id32 >= 0 else {
                throw problem("\(field) maps \"\(spelling)\" to an invalid id \(id)")
            }
            vocabulary.insert(token, id: id32)
        }
        return vocabulary
    }

    private static func readBytes(_ file: URL) throws(CLIPError) -> [UInt8] {
        do {
            return [UInt8](try Data(contentsOf: file))
        } catch {
            throw CLIPError(.missingFile, "cannot read the file: \(error.localizedDescription)", path: file.path)
        }
    }

    private static func problem(_ message: String) -> CLIPError {
        CLIPError(.invalidTokenizer, message)
    }

    /// Turns a JSON syntax error or a path-less problem into an error naming `file`.
    private static func invalid(_ error: any Error, in file: URL) -> CLIPError {
        switch error {
        case let error as CLIPError: return error.attributed(to: file)
        case let error as JSONPullReader.SyntaxError:
            return CLIPError(.invalidTokenizer, "not valid JSON: \(error)", path: file.path)
        default:
            return CLIPError(.invalidTokenizer, "\(error)", path: file.path)
        }
    }
}

extension CLIPError {
    /// This error, naming `file` unless it already names an input.
    fileprivate func attributed(to file: URL) -> CLIPError {
        var error = self
        error.path = error.path ?? file.path
        return error
    }
}
