/// Decodes HTML character references exactly as the two Python functions CLIP's text
/// cleanup relies on: the standard library's `html.unescape` and ftfy's more cautious
/// `unescape_html`.
///
/// Both work on Unicode scalars, because Python's string indices (and the `{1,32}` and
/// `{1,24}` bounds in their regular expressions) count code points.
enum HTMLUnescaper {
    /// `html.entities.html5`, keyed by name without the leading `&` (`"amp;"`, `"amp"`).
    static let html5: [String: [Unicode.Scalar]] = parseRecords(HTMLEntities.html5Records)

    /// ftfy's extra all-caps names (`"EACUTE;"`), keyed without the leading `&`.
    static let ftfyUppercase: [String: [Unicode.Scalar]] =
        parseRecords(HTMLEntities.ftfyUppercaseRecords)

    /// Longest name `html.unescape` looks at, in scalars (`{1,32}` in its pattern).
    private static let maximumNamedLength = 32
    /// Longest name ftfy looks at (`{1,24}` in its pattern).
    private static let maximumFTFYLength = 24

    // MARK: - Python's html.unescape

    /// Python's `html.unescape`: replaces every named or numeric character reference,
    /// including legacy names without a semicolon (`&ampx` → `&x`) and the HTML5 rules
    /// for invalid numeric references (`&#128;` → `€`, `&#0;` → U+FFFD).
    static func unescape(_ text: [Unicode.Scalar]) -> [Unicode.Scalar] {
        guard text.contains("&") else { return text }
        var output: [Unicode.Scalar] = []
        output.reserveCapacity(text.count)
        var index = 0
        while index < text.count {
            if text[index] == "&", let (replacement, end) = matchReference(text, at: index) {
                output.append(contentsOf: replacement)
                index = end
            } else {
                output.append(text[index])
                index += 1
            }
        }
        return output
    }

    /// Matches `&(#[0-9]+;?|#[xX][0-9a-fA-F]+;?|[^\t\n\f <&#;]{1,32};?)` at `start`
    /// (which holds `&`) and returns the replacement and the index after the match.
    private static func matchReference(
        _ text: [Unicode.Scalar], at start: Int
    ) -> ([Unicode.Scalar], Int)? {
        let bodyStart = start + 1
        guard bodyStart < text.count else { return nil }
        if text[bodyStart] == "#" {
            return matchNumericReference(text, hashAt: bodyStart)
        }
        var end = bodyStart
        while end < text.count, end - bodyStart < maximumNamedLength,
            !isNameTerminator(text[end])
        {
            end += 1
        }
        guard end > bodyStart else { return nil }
        if end < text.count, text[end] == ";" { end += 1 }
        return (replaceNamedReference(text[bodyStart..<end]), end)
    }

    private static func isNameTerminator(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar {
        case "\t", "\n", "\u{0C}", " ", "<", "&", "#", ";": return true
        default: return false
        }
    }

    /// The named branch of `html._replace_charref`: an exact match, else the longest
    /// prefix of at least two scalars that is a (semicolon-less) legacy name.
    ///
    /// All names are ASCII, so only ASCII candidates are looked up: Swift's `String`
    /// equality is canonical equivalence, which would let U+212A KELVIN SIGN stand for `K`
    /// or U+037E GREEK QUESTION MARK for `;`, where Python compares code points.
    private static func replaceNamedReference(_ name: ArraySlice<Unicode.Scalar>) -> [Unicode.Scalar] {
        let asciiLength = name.prefix(while: \.isASCII).count
        if asciiLength == name.count, let value = html5[string(name)] { return value }
        var length = min(name.count - 1, asciiLength)
        while length >= 2 {
            if let value = html5[string(name.prefix(length))] {
                return value + name.dropFirst(length)
            }
            length -= 1
        }
        return ["&"] + name
    }

    private static func string(_ scalars: ArraySlice<Unicode.Scalar>) -> String {
        String(String.UnicodeScalarView(scalars))
    }

    /// Matches `#[0-9]+;?` or `#[xX][0-9a-fA-F]+;?` after the `&`.
    private static func matchNumericReference(
        _ text: [Unicode.Scalar], hashAt hash: Int
    ) -> ([Unicode.Scalar], Int)? {
        var index = hash + 1
        var radix: UInt32 = 10
        if index < text.count, text[index] == "x" || text[index] == "X" {
            radix = 16
            index += 1
        }
        let digitsStart = index
        // Saturate instead of overflowing: anything past U+10FFFF decodes to U+FFFD.
        var value: UInt32 = 0
        while index < text.count, let digit = digitValue(text[index], radix: radix) {
            value = value > 0x11_0000 ? value : value * radix + digit
            index += 1
        }
        guard index > digitsStart else { return nil }
        if index < text.count, text[index] == ";" { index += 1 }
        return (decodeCodePoint(value), index)
    }

    private static func digitValue(_ scalar: Unicode.Scalar, radix: UInt32) -> UInt32? {
        switch scalar.value {
        case 0x30...0x39: return scalar.value - 0x30
        case 0x41...0x46 where radix == 16: return scalar.value - 0x41 + 10
        case 0x61...0x66 where radix == 16: return scalar.value - 0x61 + 10
        default: return nil
        }
    }

    /// The numeric branch of `html._replace_charref`.
    private static func decodeCodePoint(_ value: UInt32) -> [Unicode.Scalar] {
        if let replacement = HTMLEntities.invalidCharacterReferences[value] {
            return [Unicode.Scalar(replacement)!]
        }
        if (0xD800...0xDFFF).contains(value) || value > 0x10_FFFF { return ["\u{FFFD}"] }
        if HTMLEntities.invalidCodePoints.contains(value) { return [] }
        return [Unicode.Scalar(value)!]
    }

    // MARK: - ftfy's unescape_html

    /// ftfy's `unescape_html`: decodes only `&#?[0-9A-Za-z]{1,24};` references that are
    /// complete, either standard HTML5 names ending in `;`, ftfy's all-caps variants, or
    /// numeric references that `html.unescape` consumes entirely (semicolon included).
    static func unescapeStrict(_ text: [Unicode.Scalar]) -> [Unicode.Scalar] {
        guard text.contains("&") else { return text }
        var output: [Unicode.Scalar] = []
        output.reserveCapacity(text.count)
        var index = 0
        while index < text.count {
            guard text[index] == "&", let end = matchStrictReference(text, at: index) else {
                output.append(text[index])
                index += 1
                continue
            }
            output.append(contentsOf: replaceStrictReference(text[index..<end]))
            index = end
        }
        return output
    }

    /// Matches `&#?[0-9A-Za-z]{1,24};` at `start`, returning the index after the `;`.
    private static func matchStrictReference(_ text: [Unicode.Scalar], at start: Int) -> Int? {
        var index = start + 1
        if index < text.count, text[index] == "#" { index += 1 }
        let nameStart = index
        while index < text.count, index - nameStart < maximumFTFYLength,
            isASCIIAlphanumeric(text[index])
        {
            index += 1
        }
        guard index > nameStart, index < text.count, text[index] == ";" else { return nil }
        return index + 1
    }

    private static func replaceStrictReference(_ entity: ArraySlice<Unicode.Scalar>) -> [Unicode.Scalar] {
        let name = string(entity.dropFirst())
        if let value = html5[name], name.hasSuffix(";") { return value }
        if let value = ftfyUppercase[name] { return value }
        if entity.dropFirst().first == "#" {
            let decoded = unescape(Array(entity))
            return decoded.contains(";") ? Array(entity) : decoded
        }
        return Array(entity)
    }

    private static func isASCIIAlphanumeric(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x30...0x39, 0x41...0x5A, 0x61...0x7A: return true
        default: return false
        }
    }

    // MARK: - Tables

    /// Parses the generated `name=HEX[.HEX]` records.
    private static func parseRecords(_ records: String) -> [String: [Unicode.Scalar]] {
        var table: [String: [Unicode.Scalar]] = [:]
        for record in records.split(whereSeparator: { $0 == " " || $0 == "\n" }) {
            guard let equals = record.firstIndex(of: "=") else { continue }
            let value = record[record.index(after: equals)...].split(separator: ".").compactMap {
                UInt32($0, radix: 16).flatMap(Unicode.Scalar.init)
            }
            table[String(record[..<equals])] = value
        }
        return table
    }
}
