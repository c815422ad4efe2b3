/// A value in a row: a scalar, a JSON document, an array, or a vector.
///
/// Literals work directly: `["id": 1, "title": "cat", "tags": ["a", "b"], "vector": .vector([0.1, 0.2])]`.
public enum FieldValue: Sendable, Hashable {
    case null
    case bool(Bool)
    case int(Int64)
    case double(Double)
    case string(String)
    case array([FieldValue])
    case object([String: FieldValue])
    /// A dense float vector (for vector fields).
    case vector([Float])

    /// The value as a Double when it is a number.
    public var doubleValue: Double? {
        switch self {
        case .int(let v): return Double(v)
        case .double(let v): return v
        default: return nil
        }
    }
    /// The value as an Int64 when it is an integer (or a double with no fraction).
    public var intValue: Int64? {
        switch self {
        case .int(let v): return v
        case .double(let v) where v.rounded() == v && abs(v) < 9.2e18: return Int64(v)
        default: return nil
        }
    }
    /// The value as a String when it is a string.
    public var stringValue: String? { if case .string(let s) = self { return s } else { return nil } }
    /// The value as a Bool when it is a bool.
    public var boolValue: Bool? { if case .bool(let b) = self { return b } else { return nil } }
    /// The vector when this is a vector, or an array of numbers.
    public var vectorValue: [Float]? {
        switch self {
        case .vector(let v): return v
        case .array(let a):
            var out: [Float] = []
            out.reserveCapacity(a.count)
            for x in a { guard let d = x.doubleValue else { return nil }; out.append(Float(d)) }
            return out
        default: return nil
        }
    }
    /// Whether this is `.null`.
    public var isNull: Bool { if case .null = self { return true } else { return false } }
}

/// A row: field names to values. Undeclared keys go to the dynamic field when the schema enables it.
public typealias Row = [String: FieldValue]

extension FieldValue: ExpressibleByNilLiteral, ExpressibleByBooleanLiteral, ExpressibleByIntegerLiteral,
    ExpressibleByFloatLiteral, ExpressibleByStringLiteral, ExpressibleByArrayLiteral,
    ExpressibleByDictionaryLiteral
{
    public init(nilLiteral: ()) { self = .null }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(integerLiteral value: Int64) { self = .int(value) }
    public init(floatLiteral value: Double) { self = .double(value) }
    public init(stringLiteral value: String) { self = .string(value) }
    public init(arrayLiteral elements: FieldValue...) { self = .array(elements) }
    public init(dictionaryLiteral elements: (String, FieldValue)...) {
        self = .object(Dictionary(elements, uniquingKeysWith: { _, last in last }))
    }
}

extension FieldValue: CustomStringConvertible {
    public var description: String { JSONText.encode(self) }
}
