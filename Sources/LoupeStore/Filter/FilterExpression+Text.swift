/// Building filters in code, and writing them back as Milvus expression text.
///
/// ```swift
/// let f: FilterExpression = .all([.equals("kind", "video"), .field("mtime") >= 1_700_000_000])
/// f.description   // (kind == "video") and (mtime >= 1700000000)
/// ```
/// The text parses back to an equal tree (`FilterExpression.parse(f.description) == f` up to how
/// literal lists are grouped), so the same filter can run on LoupeStore or be sent to a Milvus server.
extension FilterExpression: CustomStringConvertible {
    /// A field of the row (or a dynamic key).
    public static func field(_ name: String) -> FilterExpression { .field(name, path: []) }

    /// `field == value`.
    public static func equals(_ field: String, _ value: FieldValue) -> FilterExpression {
        .compare(.equal, .field(field), .literal(value))
    }

    /// `field in [values]`.
    public static func oneOf(_ field: String, _ values: [FieldValue]) -> FilterExpression {
        .inList(.field(field), .literal(.array(values)), negated: false)
    }

    /// Every clause holds (`true` when there are none).
    public static func all(_ clauses: [FilterExpression]) -> FilterExpression {
        guard var result = clauses.first else { return .literal(.bool(true)) }
        for clause in clauses.dropFirst() { result = .and(result, clause) }
        return result
    }

    /// `field like pattern` where the pattern is `prefix` taken literally (`%` and `_` in it are characters)
    /// followed by `%`: every value that starts with `prefix`.
    public static func hasPrefix(_ field: String, _ prefix: String) -> FilterExpression {
        var pattern = ""
        for character in prefix {
            if character == "%" || character == "_" || character == "\\" { pattern.append("\\") }
            pattern.append(character)
        }
        return .like(.field(field), pattern + "%")
    }

    public static func >= (lhs: FilterExpression, rhs: FieldValue) -> FilterExpression { .compare(.greaterOrEqual, lhs, .literal(rhs)) }
    public static func < (lhs: FilterExpression, rhs: FieldValue) -> FilterExpression { .compare(.less, lhs, .literal(rhs)) }

    /// The expression in Milvus's syntax; every operation is parenthesised, so precedence never matters.
    public var description: String {
        switch self {
        case .literal(let value): return Self.text(value)
        case .field(let name, let path):
            return name + path.map { component in
                switch component {
                case .key(let key): return "[\(Self.quoted(key))]"
                case .index(let index): return "[\(index)]"
                }
            }.joined()
        case .list(let items): return "[" + items.map(\.description).joined(separator: ", ") + "]"
        case .negate(let e): return "-(\(e))"
        case .arithmetic(let op, let a, let b): return "(\(a) \(op.rawValue) \(b))"
        case .compare(let op, let a, let b): return "(\(a) \(op.rawValue) \(b))"
        case .and(let a, let b): return "(\(a) and \(b))"
        case .or(let a, let b): return "(\(a) or \(b))"
        case .not(let e): return "(not \(e))"
        case .inList(let a, let b, let negated): return "(\(a) \(negated ? "not in" : "in") \(b))"
        case .like(let e, let pattern): return "(\(e) like \(Self.quoted(pattern)))"
        case .isNull(let e, let negated): return "(\(e) is \(negated ? "not " : "")null)"
        case .call(let name, let args): return name + "(" + args.map(\.description).joined(separator: ", ") + ")"
        }
    }

    static func text(_ value: FieldValue) -> String {
        switch value {
        case .null: return "null"
        case .bool(let b): return b ? "true" : "false"
        case .int(let i): return String(i)
        case .double(let d): return d.rounded() == d && abs(d) < 1e15 ? String(format: "%.1f", d) : "\(d)"
        case .string(let s): return quoted(s)
        case .array(let items): return "[" + items.map(text).joined(separator: ", ") + "]"
        case .vector(let v): return "[" + v.map { "\($0)" }.joined(separator: ", ") + "]"
        case .object: return quoted(JSONText.encode(value))
        }
    }

    /// `text` as a double-quoted string literal, with `\` and `"` escaped.
    static func quoted(_ text: String) -> String {
        "\"" + text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
    }
}
