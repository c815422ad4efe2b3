/// A parsed filter expression in Milvus's boolean expression syntax.
///
/// ```swift
/// let f = try FilterExpression.parse(#"10 < age <= 20 and city in ["Paris", "Oslo"] and meta["tags"][0] like "cat%""#)
/// ```
/// Template parameters are bound at parse time: `parse("id in {ids}", parameters: ["ids": [1, 2, 3]])`.
public indirect enum FilterExpression: Sendable, Hashable {
    /// A constant.
    case literal(FieldValue)
    /// A field or dynamic key, optionally followed by a JSON/array path (`meta["a"][0]`).
    case field(String, path: [PathComponent])
    /// A list `[a, b, c]` of expressions.
    case list([FilterExpression])
    /// `-x`.
    case negate(FilterExpression)
    /// `a + b`, `a - b`, `a * b`, `a / b`, `a % b`, `a ** b`.
    case arithmetic(ArithmeticOperator, FilterExpression, FilterExpression)
    /// `a == b`, `a != b`, `a < b`, `a <= b`, `a > b`, `a >= b`.
    case compare(ComparisonOperator, FilterExpression, FilterExpression)
    /// `a and b`.
    case and(FilterExpression, FilterExpression)
    /// `a or b`.
    case or(FilterExpression, FilterExpression)
    /// `not a`.
    case not(FilterExpression)
    /// `a in [..]`, or `a not in [..]` when `negated`.
    case inList(FilterExpression, FilterExpression, negated: Bool)
    /// `a like "pat%"`: `%` matches any run of characters, `_` one character.
    case like(FilterExpression, String)
    /// `a is null`, or `a is not null` when `negated`.
    case isNull(FilterExpression, negated: Bool)
    /// A function: `array_contains`, `array_contains_all`, `array_contains_any`, `array_length`,
    /// `json_contains`, `json_contains_all`, `json_contains_any`.
    case call(String, [FilterExpression])

    /// One step of a path into a JSON or array value.
    public enum PathComponent: Sendable, Hashable {
        case key(String)
        case index(Int)
    }

    public enum ArithmeticOperator: String, Sendable, Hashable {
        case add = "+", subtract = "-", multiply = "*", divide = "/", modulo = "%", power = "**"
    }

    public enum ComparisonOperator: String, Sendable, Hashable {
        case equal = "==", notEqual = "!=", less = "<", lessOrEqual = "<=", greater = ">", greaterOrEqual = ">="
    }

    /// Functions the parser accepts, with their argument counts.
    static let functions: [String: Int] = [
        "array_contains": 2, "array_contains_all": 2, "array_contains_any": 2, "array_length": 1,
        "json_contains": 2, "json_contains_all": 2, "json_contains_any": 2,
    ]

    /// Parses `text`; binds `{name}` parameters from `parameters`.
    /// - Throws: `StoreError` with code `.invalidFilter`, the expression, and the offset of the problem.
    ///   Expressions beyond `limits` (length, nesting, operators, pattern length, list size) are refused.
    public static func parse(_ text: String, parameters: [String: FieldValue] = [:], limits: FilterLimits = FilterLimits())
        throws -> FilterExpression
    {
        var parser = try FilterParser(text: text, parameters: parameters, limits: limits)
        return try parser.parseAll()
    }

    /// The field names the expression reads (first path element).
    var fieldNames: Set<String> {
        switch self {
        case .literal: return []
        case .field(let name, _): return [name]
        case .list(let items): return items.reduce(into: Set()) { $0.formUnion($1.fieldNames) }
        case .negate(let e), .not(let e), .like(let e, _), .isNull(let e, _): return e.fieldNames
        case .arithmetic(_, let a, let b), .compare(_, let a, let b), .and(let a, let b), .or(let a, let b),
            .inList(let a, let b, _):
            return a.fieldNames.union(b.fieldNames)
        case .call(_, let args): return args.reduce(into: Set()) { $0.formUnion($1.fieldNames) }
        }
    }
}
