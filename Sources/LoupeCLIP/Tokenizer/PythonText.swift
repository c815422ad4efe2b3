/// Python's `str` semantics where tokenizer pipelines written in Python depend on them.
enum PythonText {
    /// `string.punctuation`.
    static let asciiPunctuation: Set<UInt8> = Set(Array("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~".utf8))

    /// `str.isspace()` for one code point (also what `re`'s `\s` matches in `str` patterns).
    static func isWhitespace(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x09...0x0D, 0x1C...0x20, 0x85, 0xA0, 0x1680, 0x2000...0x200A, 0x2028, 0x2029, 0x202F, 0x205F, 0x3000:
            return true
        default:
            return false
        }
    }

    static func lstrip(_ text: String) -> String {
        String(String.UnicodeScalarView(text.unicodeScalars.drop(while: isWhitespace)))
    }

    static func rstrip(_ text: String) -> String {
        let scalars = text.unicodeScalars
        guard let last = scalars.lastIndex(where: { !isWhitespace($0) }) else { return "" }
        return String(String.UnicodeScalarView(scalars[...last]))
    }

    /// `str.lower()`: full lower-case mappings, with Greek capital sigma becoming final sigma at
    /// the end of a word (preceded by a cased letter, not followed by one, case-ignorable
    /// characters skipped), as CPython's `lower` does.
    static func lowercased(_ text: String) -> String {
        let scalars = Array(text.unicodeScalars)
        var result = String.UnicodeScalarView()
        for (index, scalar) in scalars.enumerated() {
            if scalar.value == 0x3A3, isFinalSigma(scalars, index) {
                result.append(Unicode.Scalar(0x3C2)!)
                continue
            }
            result.append(contentsOf: scalar.properties.lowercaseMapping.unicodeScalars)
        }
        return String(result)
    }

    private static func isFinalSigma(_ scalars: [Unicode.Scalar], _ index: Int) -> Bool {
        var before = index - 1
        while before >= 0, scalars[before].properties.isCaseIgnorable { before -= 1 }
        guard before >= 0, scalars[before].properties.isCased else { return false }
        var after = index + 1
        while after < scalars.count, scalars[after].properties.isCaseIgnorable { after += 1 }
        return after == scalars.count || !scalars[after].properties.isCased
    }
}
