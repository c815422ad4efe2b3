import LoupeStore

/// Filter trees as Milvus 2.3 text.
///
/// `FilterExpression.description` writes Milvus's syntax; three constructs need another form there:
/// - **A prefix `like`** (`MediaFilter`'s folder clause, `path like "/photos/a\_b/%"`): servers disagree
///   on patterns. Milvus 2.3.5 reads `_` as itself and has no escapes (`"/m/a\\_b/%"` matches nothing);
///   milvus-lite reads `_` as any character (`"/m/a_b/%"` also matches `/m/axb/`) and honours escapes.
///   A pattern that is a literal prefix plus `%` on a declared string field becomes the range
///   `path >= "P" and path < "P′"` (P′: P with its last character's code point plus one). Milvus and
///   milvus-lite both order strings by code point (UTF-8 bytes), so the range holds exactly the values
///   starting with P, whatever characters P has.
/// - **`is null` / `is not null`** (Milvus 2.5): a nullable field lives in `$meta` only when set
///   (`MilvusCollectionLayout`), so it is `not exists x` / `exists x`; a declared field is never null.
/// - **Constants** (`true`, an empty `all`, a declared field's `is null`): Milvus 2.3 does not take a bare
///   boolean as a filter, so constants are folded into the expression around them; a filter that is
///   always true is no filter, one that is always false is `pk < 0 and pk > 0`.
struct MilvusFilter {
    let layout: MilvusCollectionLayout

    /// The expression's text, or nil when it matches every row.
    func text(_ expression: FilterExpression?) -> String? {
        guard let expression else { return nil }
        switch fold(rewrite(expression)) {
        case .constant(true): return nil
        case .constant(false): return Self.never(layout)
        case .expression(let e): return render(e)
        }
    }

    /// `a and b` of two optional texts.
    static func and(_ a: String?, _ b: String?) -> String? {
        switch (a, b) {
        case (nil, nil): return nil
        case (let x?, nil), (nil, let x?): return x
        case (let x?, let y?): return "(\(x)) and (\(y))"
        }
    }

    /// A filter no row passes: the primary key below and above the same value.
    static func never(_ layout: MilvusCollectionLayout) -> String {
        let pk = layout.schema.primaryField
        let value = pk.dataType == .string ? "\"\"" : "0"
        return "(\(pk.name) < \(value)) and (\(pk.name) > \(value))"
    }

    // MARK: rewriting

    /// A marker the tree cannot hold otherwise: `exists field` (Milvus's test for a `$meta` key).
    private static let existsCall = "exists"

    private func rewrite(_ e: FilterExpression) -> FilterExpression {
        switch e {
        case .and(let a, let b): return .and(rewrite(a), rewrite(b))
        case .or(let a, let b): return .or(rewrite(a), rewrite(b))
        case .not(let a): return .not(rewrite(a))
        case .like(.field(let name, let path), let pattern) where path.isEmpty:
            guard let f = layout.schema.field(name), f.dataType == .string, !f.nullable,
                  let prefix = Self.literalPrefix(pattern), !prefix.isEmpty, let upper = Self.successor(prefix)
            else { return e }
            return .and(.compare(.greaterOrEqual, .field(name), .literal(.string(prefix))),
                        .compare(.less, .field(name), .literal(.string(upper))))
        case .isNull(.field(let name, let path), let negated) where path.isEmpty:
            if layout.isNullable(name) {
                let exists = FilterExpression.call(Self.existsCall, [.field(name)])
                return negated ? exists : .not(exists)
            }
            if layout.schema.field(name) != nil { return .literal(.bool(negated)) }
            return e
        default:
            return e
        }
    }

    private enum Folded {
        case constant(Bool)
        case expression(FilterExpression)
    }

    /// Folds boolean constants away (`x and true` is `x`, `x or true` is `true`).
    private func fold(_ e: FilterExpression) -> Folded {
        switch e {
        case .literal(.bool(let b)): return .constant(b)
        case .and(let a, let b):
            switch (fold(a), fold(b)) {
            case (.constant(false), _), (_, .constant(false)): return .constant(false)
            case (.constant(true), let x), (let x, .constant(true)): return x
            case (.expression(let x), .expression(let y)): return .expression(.and(x, y))
            }
        case .or(let a, let b):
            switch (fold(a), fold(b)) {
            case (.constant(true), _), (_, .constant(true)): return .constant(true)
            case (.constant(false), let x), (let x, .constant(false)): return x
            case (.expression(let x), .expression(let y)): return .expression(.or(x, y))
            }
        case .not(let a):
            switch fold(a) {
            case .constant(let b): return .constant(!b)
            case .expression(let x): return .expression(.not(x))
            }
        default:
            return .expression(e)
        }
    }

    /// The text, with `exists` written as Milvus's keyword.
    private func render(_ e: FilterExpression) -> String {
        switch e {
        case .call(Self.existsCall, let args) where args.count == 1: return "(exists \(args[0]))"
        case .and(let a, let b): return "(\(render(a)) and \(render(b)))"
        case .or(let a, let b): return "(\(render(a)) or \(render(b)))"
        case .not(let a): return "(not \(render(a)))"
        default: return e.description
        }
    }

    /// The literal text a `like` pattern matches the start of, when it is that text (with `\%`, `\_`
    /// and `\\` read as characters) followed by one final `%`; nil for any other pattern.
    static func literalPrefix(_ pattern: String) -> String? {
        var out = ""
        var chars = Array(pattern)
        guard chars.last == "%" else { return nil }
        chars.removeLast()
        var i = 0
        while i < chars.count {
            let c = chars[i]
            if c == "\\" {
                guard i + 1 < chars.count else { return nil }
                out.append(chars[i + 1])
                i += 2
                continue
            }
            if c == "%" || c == "_" { return nil }
            out.append(c)
            i += 1
        }
        return out
    }

    /// The least string above every string that starts with `prefix`: its last code point plus one
    /// (past the surrogates); nil when that is past U+10FFFF.
    static func successor(_ prefix: String) -> String? {
        var scalars = Array(prefix.unicodeScalars)
        while let last = scalars.popLast() {
            var next = last.value + 1
            if (0xD800...0xDFFF).contains(next) { next = 0xE000 }
            if let scalar = Unicode.Scalar(next) {
                scalars.append(scalar)
                var out = String.UnicodeScalarView()
                out.append(contentsOf: scalars)
                return String(out)
            }
        }
        return nil
    }
}
