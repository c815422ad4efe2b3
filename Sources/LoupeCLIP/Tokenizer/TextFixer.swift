import Foundation

/// A port of the deterministic parts of ftfy 6's `fix_text` with its default settings,
/// which CLIP's reference tokenizer runs on every caption.
///
/// Ported, in ftfy's order and repeated until the text stops changing:
/// `unescape_html` (skipped from the first line containing `<` onwards, as ftfy's
/// "auto" mode does), `fix_c1_controls`, `fix_latin_ligatures`, `fix_character_width`,
/// `uncurl_quotes`, `fix_line_breaks`, `remove_terminal_escapes`, `remove_control_chars`
/// and NFC normalisation. Like ftfy, text is fixed one line at a time.
///
/// Known limitation: ftfy's mojibake repair (`fix_encoding`: re-decoding text such as
/// `"Ã©"` that was decoded with the wrong codec, `restore_byte_a0`,
/// `replace_lossy_sequences`, `decode_inconsistent_utf8`) is heuristic and not ported, so
/// mojibake is tokenised as written. `fix_surrogates` has no equivalent because a Swift
/// `String` cannot hold lone surrogates.
enum TextFixer {
    /// ftfy's `max_decode_length`: lines longer than this are fixed in pieces.
    private static let maximumSegmentLength = 1_000_000

    /// Fixes `text` as `ftfy.fix_text(text)` does, minus mojibake repair.
    static func fixText(_ text: [Unicode.Scalar]) -> [Unicode.Scalar] {
        var output: [Unicode.Scalar] = []
        output.reserveCapacity(text.count)
        var unescapesHTML = true
        var start = 0
        while start < text.count {
            var end = text[start...].firstIndex(of: "\n").map { $0 + 1 } ?? text.count
            end = min(end, start + maximumSegmentLength)
            let segment = Array(text[start..<end])
            // In "auto" mode a literal "<" means the text is HTML, whose entities are
            // meant literally; ftfy keeps that decision for the rest of the text.
            if unescapesHTML && segment.contains("<") { unescapesHTML = false }
            output.append(contentsOf: fixSegment(segment, unescapesHTML: unescapesHTML))
            start = end
        }
        return output
    }

    /// `ftfy.fix_and_explain` on one segment: apply every fixer until nothing changes.
    private static func fixSegment(_ segment: [Unicode.Scalar], unescapesHTML: Bool) -> [Unicode.Scalar] {
        var text = segment
        while true {
            let original = text
            if unescapesHTML { text = HTMLUnescaper.unescapeStrict(text) }
            text = text.map(fixC1Control)
            text = replacingScalars(text, using: replacementForLigatureOrWidth)
            text = text.map(uncurlQuote)
            text = fixLineBreaks(text)
            text = removeTerminalEscapes(text)
            text.removeAll(where: isUnwantedControl)
            text = normalizeNFC(text)
            if text == original { return text }
        }
    }

    // MARK: - Individual fixes

    /// `fix_c1_controls`: C1 controls are read as Windows-1252, as browsers do. ftfy's
    /// "sloppy" Windows-1252 agrees with HTML5's table for invalid numeric references.
    private static func fixC1Control(_ scalar: Unicode.Scalar) -> Unicode.Scalar {
        guard (0x80...0x9F).contains(scalar.value),
            let replacement = HTMLEntities.invalidCharacterReferences[scalar.value]
        else { return scalar }
        return Unicode.Scalar(replacement)!
    }

    /// `fix_latin_ligatures` then `fix_character_width`. Neither table's output feeds the
    /// other, so one pass applies both.
    private static func replacementForLigatureOrWidth(_ scalar: Unicode.Scalar) -> [Unicode.Scalar]? {
        switch scalar.value {
        case 0x0132, 0x0133, 0x0149, 0x01C4...0x01CC, 0x01F1...0x01F3, 0xFB00...0xFB06:
            return latinLigatures[scalar.value]
        case 0x3000, 0xFF01...0xFFEF:
            return CharacterWidth.standardForm(of: scalar.value)
        default:
            return nil
        }
    }

    private static let latinLigatures: [UInt32: [Unicode.Scalar]] = [
        0x0132: ["I", "J"], 0x0133: ["i", "j"], 0x0149: ["\u{02BC}", "n"],
        0x01F1: ["D", "Z"], 0x01F2: ["D", "z"], 0x01F3: ["d", "z"],
        0x01C4: ["D", "\u{017D}"], 0x01C5: ["D", "\u{017E}"], 0x01C6: ["d", "\u{017E}"],
        0x01C7: ["L", "J"], 0x01C8: ["L", "j"], 0x01C9: ["l", "j"],
        0x01CA: ["N", "J"], 0x01CB: ["N", "j"], 0x01CC: ["n", "j"],
        0xFB00: ["f", "f"], 0xFB01: ["f", "i"], 0xFB02: ["f", "l"],
        0xFB03: ["f", "f", "i"], 0xFB04: ["f", "f", "l"],
        0xFB05: ["\u{017F}", "t"], 0xFB06: ["s", "t"],
    ]

    /// `uncurl_quotes`: `[\u02bc\u2018-\u201b]` → `'` and `[\u201c-\u201f]` → `"`.
    private static func uncurlQuote(_ scalar: Unicode.Scalar) -> Unicode.Scalar {
        switch scalar.value {
        case 0x02BC, 0x2018...0x201B: return "'"
        case 0x201C...0x201F: return "\""
        default: return scalar
        }
    }

    /// `fix_line_breaks`: CRLF, CR, U+2028, U+2029 and U+0085 all become `\n`.
    private static func fixLineBreaks(_ text: [Unicode.Scalar]) -> [Unicode.Scalar] {
        guard text.contains(where: { ["\r", "\u{2028}", "\u{2029}", "\u{85}"].contains($0) }) else {
            return text
        }
        var output: [Unicode.Scalar] = []
        output.reserveCapacity(text.count)
        var index = 0
        while index < text.count {
            switch text[index] {
            case "\r":
                output.append("\n")
                if index + 1 < text.count, text[index + 1] == "\n" { index += 1 }
            case "\u{2028}", "\u{2029}", "\u{85}":
                output.append("\n")
            default:
                output.append(text[index])
            }
            index += 1
        }
        return output
    }

    /// `remove_terminal_escapes`: drops ANSI sequences `ESC [ (\d|;)* [a-zA-Z]`, where
    /// `\d` is any Unicode decimal digit, as in Python's `re`.
    private static func removeTerminalEscapes(_ text: [Unicode.Scalar]) -> [Unicode.Scalar] {
        guard text.contains("\u{1B}") else { return text }
        var output: [Unicode.Scalar] = []
        output.reserveCapacity(text.count)
        var index = 0
        while index < text.count {
            if text[index] == "\u{1B}", let end = terminalEscapeEnd(text, at: index) {
                index = end
            } else {
                output.append(text[index])
                index += 1
            }
        }
        return output
    }

    private static func terminalEscapeEnd(_ text: [Unicode.Scalar], at start: Int) -> Int? {
        var index = start + 1
        guard index < text.count, text[index] == "[" else { return nil }
        index += 1
        while index < text.count,
            text[index] == ";" || text[index].properties.generalCategory == .decimalNumber
        {
            index += 1
        }
        guard index < text.count else { return nil }
        switch text[index].value {
        case 0x41...0x5A, 0x61...0x7A: return index + 1
        default: return nil
        }
    }

    /// `remove_control_chars`: C0 controls other than tab, newline, form feed and carriage
    /// return, DEL, deprecated Arabic format controls, interlinear annotation marks, the
    /// object replacement character and the byte order mark.
    private static func isUnwantedControl(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x00...0x08, 0x0B, 0x0E...0x1F, 0x7F, 0x206A...0x206F, 0xFEFF, 0xFFF9...0xFFFC:
            return true
        default:
            return false
        }
    }

    /// Unicode NFC, skipped when no scalar can take part in a composition.
    private static func normalizeNFC(_ text: [Unicode.Scalar]) -> [Unicode.Scalar] {
        // Below U+0300 every scalar is a starter that never composes with what precedes it.
        guard text.contains(where: { $0.value >= 0x300 }) else { return text }
        let string = String(String.UnicodeScalarView(text))
        return Array(string.precomposedStringWithCanonicalMapping.unicodeScalars)
    }

    // MARK: - Helpers

    private static func replacingScalars(
        _ text: [Unicode.Scalar], using replacement: (Unicode.Scalar) -> [Unicode.Scalar]?
    ) -> [Unicode.Scalar] {
        guard text.contains(where: { replacement($0) != nil }) else { return text }
        var output: [Unicode.Scalar] = []
        output.reserveCapacity(text.count)
        for scalar in text {
            if let replaced = replacement(scalar) {
                output.append(contentsOf: replaced)
            } else {
                output.append(scalar)
            }
        }
        return output
    }
}
