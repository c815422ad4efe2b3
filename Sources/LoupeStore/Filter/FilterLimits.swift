/// Bounds on a filter expression, checked while it is parsed so a hostile filter costs little.
///
/// Parsing and evaluation recurse once per nesting level and per operator of a chain, so without
/// bounds a few kilobytes of `((((...` or `a and a and ...` exhaust the stack or the CPU.
///
/// ```swift
/// var limits = FilterLimits()
/// limits.maxDepth = 16
/// let f = try FilterExpression.parse(text, limits: limits)
/// ```
public struct FilterLimits: Sendable, Hashable {
    /// Longest expression, in UTF-8 bytes (a list of 10,000 ids fits easily).
    public var maxLength = 1 << 20
    /// Deepest nesting: parentheses, lists, function calls, `not` and unary `-` chains.
    public var maxDepth = 64
    /// Most operators (`and`, `or`, comparisons, arithmetic, `not`, `in`, `like`, `is null`, calls).
    public var maxOperators = 1_000
    /// Longest `like` pattern, in characters.
    public var maxPatternLength = 1_024
    /// Most items in one `[...]` list.
    public var maxListItems = 100_000

    /// The defaults above.
    public init() {}
}
