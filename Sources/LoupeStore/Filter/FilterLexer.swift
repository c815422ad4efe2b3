/// One token of a filter expression, with the character offset where it starts.
struct FilterToken: Equatable {
    enum Kind: Equatable {
        case identifier(String)
        case integer(Int64)
        case double(Double)
        case string(String)
        /// Punctuation and operators: `(`, `)`, `[`, `]`, `,`, `+`, `-`, `*`, `/`, `%`, `**`, `==`, `!=`,
        /// `<`, `<=`, `>`, `>=`, `&&`, `||`, `!`.
        case symbol(String)
        /// A template parameter `{name}`.
        case parameter(String)
        case end
    }

    let kind: Kind
    let position: Int

    var description: String {
        switch kind {
        case .identifier(let s): return "'\(s)'"
        case .integer(let i): return "\(i)"
        case .double(let d): return "\(d)"
        case .string(let s): return "string \"\(s)\""
        case .symbol(let s): return "'\(s)'"
        case .parameter(let p): return "{\(p)}"
        case .end: return "end of expression"
        }
    }

    /// Whether this is the keyword `word` in any letter case (`and`, `AND`, `And`).
    func isKeyword(_ word: String) -> Bool {
        if case .identifier(let s) = kind { return s.lowercased() == word }
        return false
    }

    func isSymbol(_ s: String) -> Bool { kind == .symbol(s) }
}

/// Splits a filter expression into tokens. Offsets count Unicode characters from 0.
struct FilterLexer {
    let text: String

    func tokens() throws -> [FilterToken] {
        let chars = Array(text)
        var out: [FilterToken] = []
        var i = 0
        func fail(_ message: String, _ at: Int) -> StoreError {
            StoreError(.invalidFilter, message, expression: text, position: at)
        }
        while i < chars.count {
            let c = chars[i]
            if c.isWhitespace { i += 1; continue }
            let start = i
            if c.isLetter || c == "_" || c == "$" {
                while i < chars.count, chars[i].isLetter || chars[i].isNumber || chars[i] == "_" || chars[i] == "$" { i += 1 }
                out.append(FilterToken(kind: .identifier(String(chars[start..<i])), position: start))
                continue
            }
            if c.isASCII && c.isNumber || (c == "." && i + 1 < chars.count && chars[i + 1].isASCII && chars[i + 1].isNumber) {
                var isDouble = false
                while i < chars.count, chars[i].isASCII, chars[i].isNumber || chars[i] == "." || chars[i] == "e" || chars[i] == "E"
                    || ((chars[i] == "-" || chars[i] == "+") && (chars[i - 1] == "e" || chars[i - 1] == "E")) {
                    if !chars[i].isNumber { isDouble = true }
                    i += 1
                }
                let literal = String(chars[start..<i])
                if !isDouble, let v = Int64(literal) {
                    out.append(FilterToken(kind: .integer(v), position: start))
                } else if isDouble, let d = Double(literal) {
                    out.append(FilterToken(kind: .double(d), position: start))
                } else {
                    throw fail(isDouble ? "malformed number '\(literal)'" : "integer '\(literal)' does not fit in int64", start)
                }
                continue
            }
            if c == "\"" || c == "'" {
                i += 1
                var value = ""
                var closed = false
                while i < chars.count {
                    let d = chars[i]
                    if d == "\\" && i + 1 < chars.count {
                        let e = chars[i + 1]
                        switch e {
                        case "n": value.append("\n")
                        case "t": value.append("\t")
                        default: value.append(e)
                        }
                        i += 2
                        continue
                    }
                    if d == c { closed = true; i += 1; break }
                    value.append(d)
                    i += 1
                }
                guard closed else { throw fail("unterminated string, expected a closing \(c)", start) }
                out.append(FilterToken(kind: .string(value), position: start))
                continue
            }
            if c == "{" {
                i += 1
                let nameStart = i
                while i < chars.count, chars[i].isLetter || chars[i].isNumber || chars[i] == "_" { i += 1 }
                guard i < chars.count, chars[i] == "}", i > nameStart else {
                    throw fail("expected a template parameter like {name}", start)
                }
                out.append(FilterToken(kind: .parameter(String(chars[nameStart..<i])), position: start))
                i += 1
                continue
            }
            let two = i + 1 < chars.count ? String(chars[i...i + 1]) : ""
            if ["**", "==", "!=", "<=", ">=", "&&", "||", "<>"].contains(two) {
                out.append(FilterToken(kind: .symbol(two == "<>" ? "!=" : two), position: start))
                i += 2
                continue
            }
            if "()[],+-*/%<>!=".contains(c) {
                if c == "=" {
                    // A lone '=' is a common slip for '=='.
                    throw fail("unexpected '=', expected '==' for equality", start)
                }
                out.append(FilterToken(kind: .symbol(String(c)), position: start))
                i += 1
                continue
            }
            throw fail("unexpected character '\(c)'", start)
        }
        out.append(FilterToken(kind: .end, position: chars.count))
        return out
    }
}
