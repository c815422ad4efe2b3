import Foundation
import LoupeStore

/// A JSON value as a Milvus request carries it, decoded strictly: `true` is never a number, `1` never a
/// bool, and integers stay exact 64-bit values (primary keys may exceed 2^53).
enum MilvusJSON: Decodable, Sendable, Equatable {
    case null
    case bool(Bool)
    case int(Int64)
    case double(Double)
    case string(String)
    case array([MilvusJSON])
    case object([String: MilvusJSON])

    init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() {
            self = .null
        } else if let b = try? c.decode(Bool.self) {
            self = .bool(b)
        } else if let i = try? c.decode(Int64.self) {
            self = .int(i)
        } else if let d = try? c.decode(Double.self) {
            self = .double(d)
        } else if let s = try? c.decode(String.self) {
            self = .string(s)
        } else if let ints = try? c.decode([Int64].self) {
            // Vectors and id lists are the bulk of a request: decode them as whole arrays.
            self = .array(ints.map { .int($0) })
        } else if let numbers = try? c.decode([Double].self) {
            self = .array(numbers.map { .double($0) })
        } else if let items = try? c.decode([MilvusJSON].self) {
            self = .array(items)
        } else {
            self = .object(try c.decode([String: MilvusJSON].self))
        }
    }

    /// The JSON type's name, for error messages.
    var typeName: String {
        switch self {
        case .null: "null"
        case .bool: "bool"
        case .int, .double: "number"
        case .string: "string"
        case .array: "array"
        case .object: "object"
        }
    }

    var doubleValue: Double? {
        switch self {
        case .int(let i): Double(i)
        case .double(let d): d
        default: nil
        }
    }

    /// The value with no schema to guide it (dynamic fields, JSON fields, filter parameters).
    var fieldValue: FieldValue {
        switch self {
        case .null: .null
        case .bool(let b): .bool(b)
        case .int(let i): .int(i)
        case .double(let d): .double(d)
        case .string(let s): .string(s)
        case .array(let items): .array(items.map(\.fieldValue))
        case .object(let members): .object(members.mapValues(\.fieldValue))
        }
    }

    /// A float vector from an array of numbers.
    var floatVector: [Float]? {
        guard case .array(let items) = self else { return nil }
        var out: [Float] = []
        out.reserveCapacity(items.count)
        for item in items {
            guard let d = item.doubleValue else { return nil }
            out.append(Float(d))
        }
        return out
    }
}
