/// Cleans text the way CLIP's reference tokenizer (`open_clip.SimpleTokenizer` with its
/// default `clean="lower"`) does before splitting it into words:
///
/// ```python
/// text = ftfy.fix_text(text)
/// text = html.unescape(html.unescape(text)).strip()
/// text = " ".join(text.split()).strip().lower()
/// ```
///
/// Whitespace and lower-casing follow Python's `str` semantics rather than Swift's:
/// `str.split()` splits on U+001C...U+001F too, and `str.lower()` applies the full
/// lower-case mapping (`İ` → `i̇`) with the final-sigma rule (`ΟΔΟΣ` → `οδος`).
/// See ``TextFixer`` for the parts of ftfy that are not reproduced.
enum TextNormalizer {
    /// Returns the cleaned, lower-cased scalars of `text`.
    static func normalize(_ text: String) -> [Unicode.Scalar] {
        var scalars = TextFixer.fixText(Array(text.unicodeScalars))
        scalars = HTMLUnescaper.unescape(HTMLUnescaper.unescape(scalars))
        scalars = collapsingWhitespace(scalars)
        return lowercased(scalars)
    }

    /// `" ".join(text.split())`: trims Python whitespace and turns each run into one space.
    static func collapsingWhitespace(_ text: [Unicode.Scalar]) -> [Unicode.Scalar] {
        var output: [Unicode.Scalar] = []
        output.reserveCapacity(text.count)
        var pendingSpace = false
        for scalar in text {
            if isPythonWhitespace(scalar) {
                pendingSpace = !output.isEmpty
            } else {
                if pendingSpace { output.append(" ") }
                pendingSpace = false
                output.append(scalar)
            }
        }
        return output
    }

    /// Python's `str.isspace()`: the Unicode White_Space characters plus the four ASCII
    /// information separators U+001C...U+001F.
    static func isPythonWhitespace(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x09...0x0D, 0x1C...0x20, 0x85, 0xA0, 0x1680, 0x2000...0x200A, 0x2028, 0x2029,
            0x202F, 0x205F, 0x3000:
            return true
        default:
            return false
        }
    }

    /// Python's `str.lower()`: the full (possibly multi-scalar) lower-case mapping, with
    /// U+03A3 GREEK CAPITAL LETTER SIGMA becoming final `ς` at the end of a word.
    static func lowercased(_ text: [Unicode.Scalar]) -> [Unicode.Scalar] {
        var output: [Unicode.Scalar] = []
        output.reserveCapacity(text.count)
        for (index, scalar) in text.enumerated() {
            if scalar.isASCII {
                let value = scalar.value
                output.append((0x41...0x5A).contains(value) ? Unicode.Scalar(value + 0x20)! : scalar)
            } else if scalar == "\u{03A3}" {
                output.append(isFinalSigma(text, at: index) ? "\u{03C2}" : "\u{03C3}")
            } else if scalar.properties.changesWhenLowercased {
                output.append(contentsOf: scalar.properties.lowercaseMapping.unicodeScalars)
            } else {
                output.append(scalar)
            }
        }
        return output
    }

    /// The Final_Sigma condition as CPython checks it: a cased letter before the sigma and
    /// none after it, skipping case-ignorable scalars in both directions.
    private static func isFinalSigma(_ text: [Unicode.Scalar], at index: Int) -> Bool {
        let before = text[..<index].last { !$0.properties.isCaseIgnorable }
        guard let before, before.properties.isCased else { return false }
        let after = text[(index + 1)...].first { !$0.properties.isCaseIgnorable }
        return !(after?.properties.isCased ?? false)
    }
}
