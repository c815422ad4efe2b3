/// Splits cleaned text into the words that CLIP's regular expression finds:
///
/// ```
/// <start_of_text>|<end_of_text>|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+
/// ```
///
/// compiled by Python's `regex` module with `IGNORECASE`. It is a hand-written scanner over
/// Unicode scalars: at each position the alternatives are tried in order and the first that
/// matches wins, as in a backtracking regex engine; whitespace between matches is skipped.
struct PreTokenizer: Sendable {
    /// A piece of the text: a word to encode with BPE, or a special token written literally.
    enum Piece: Equatable, Sendable {
        /// The scalars in this range of the input form one word.
        case word(Range<Int>)
        /// A special token's literal spelling, which maps straight to this id.
        case special(Int32)
    }

    /// A literal spelling that the pattern matches before anything else.
    struct SpecialToken: Sendable {
        var literal: [Unicode.Scalar]
        var id: Int32
    }

    /// The special tokens tried first at each position, in order.
    var specialTokens: [SpecialToken]

    /// The contractions the pattern lists after the special tokens, in order.
    private static let contractions: [[Unicode.Scalar]] = [
        ["'", "s"], ["'", "t"], ["'", "r", "e"], ["'", "v", "e"], ["'", "m"], ["'", "l", "l"],
        ["'", "d"],
    ]

    /// Calls `body` with each piece of `text`, from left to right.
    func split(_ text: [Unicode.Scalar], _ body: (Piece) -> Void) {
        var index = 0
        while index < text.count {
            let scalar = text[index]
            if scalar == "<", let special = specialToken(in: text, at: index) {
                body(.special(special.id))
                index += special.literal.count
                continue
            }
            if scalar == "'",
                let contraction = Self.contractions.first(where: {
                    Self.matchesIgnoringCase($0, in: text, at: index)
                })
            {
                body(.word(index..<(index + contraction.count)))
                index += contraction.count
                continue
            }
            switch ScalarClass(scalar) {
            case .letter:
                let end = text[index...].firstIndex { ScalarClass($0) != .letter } ?? text.count
                body(.word(index..<end))
                index = end
            case .number:
                body(.word(index..<(index + 1)))
                index += 1
            case .other:
                let end = text[index...].firstIndex { ScalarClass($0) != .other } ?? text.count
                body(.word(index..<end))
                index = end
            case .unmatched:
                index += 1
            }
        }
    }

    private func specialToken(in text: [Unicode.Scalar], at index: Int) -> SpecialToken? {
        specialTokens.first { Self.matchesIgnoringCase($0.literal, in: text, at: index) }
    }

    /// Whether `text` continues with `literal` at `index` under the `regex` module's
    /// simple case folding, which also equates `s` with U+017F LATIN SMALL LETTER LONG S
    /// and `k` with U+212A KELVIN SIGN.
    private static func matchesIgnoringCase(
        _ literal: [Unicode.Scalar], in text: [Unicode.Scalar], at index: Int
    ) -> Bool {
        guard index + literal.count <= text.count else { return false }
        for (offset, expected) in literal.enumerated() {
            let actual = text[index + offset]
            guard actual == expected || foldsTogether(actual, expected) else { return false }
        }
        return true
    }

    private static func foldsTogether(_ actual: Unicode.Scalar, _ expected: Unicode.Scalar) -> Bool {
        switch (actual.value, expected.value) {
        case (0x41...0x5A, _): return actual.value + 0x20 == expected.value
        case (0x17F, 0x73), (0x212A, 0x6B): return true
        default: return false
        }
    }

    /// How the pattern's character classes see one scalar.
    enum ScalarClass: Equatable {
        /// `\p{L}`: any letter category.
        case letter
        /// `\p{N}`: any number category.
        case number
        /// `[^\s\p{L}\p{N}]`: punctuation, symbols, marks, controls and so on.
        case other
        /// Matched by no alternative: whitespace (`\s`, Unicode White_Space) and U+0345
        /// COMBINING GREEK YPOGEGRAMMENI, which `IGNORECASE` folds to a letter `ι` so that it
        /// escapes `[^\s\p{L}\p{N}]` while still not being in `\p{L}`.
        case unmatched

        init(_ scalar: Unicode.Scalar) {
            if scalar.isASCII {
                self = Self.ascii[Int(scalar.value)]
                return
            }
            if scalar.value == 0x345 || scalar.properties.isWhitespace {
                self = .unmatched
                return
            }
            switch scalar.properties.generalCategory {
            case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter:
                self = .letter
            case .decimalNumber, .letterNumber, .otherNumber:
                self = .number
            default:
                self = .other
            }
        }

        private static let ascii: [ScalarClass] = (0..<128).map { value in
            switch value {
            case 0x41...0x5A, 0x61...0x7A: return .letter
            case 0x30...0x39: return .number
            case 0x09...0x0D, 0x20: return .unmatched
            default: return .other
            }
        }
    }
}
