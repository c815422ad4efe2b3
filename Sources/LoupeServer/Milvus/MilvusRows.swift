import Foundation
import LoupeStore

/// Converts rows between Milvus's REST JSON and LoupeStore values, guided by the collection's schema.
struct MilvusRows {
    let schema: CollectionSchema
    /// Whether int64 values go out as JSON numbers; Milvus sends them as strings when the client says
    /// `Accept-Type-Allow-Int64: false` (JavaScript clients that would lose precision).
    var int64AsNumber = true

    // MARK: Requests

    /// The rows of an insert or upsert `data` (an array of objects, or one object).
    func rows(_ data: MilvusJSON?) throws(MilvusError) -> [Row] {
        let items: [MilvusJSON]
        switch data {
        case .array(let list): items = list
        case .object: items = [data!]
        case nil: throw .missingParameter("data")
        case let other?: throw .incorrectFormat("data must be an array of objects, not \(other.typeName)")
        }
        guard !items.isEmpty else { throw .missingParameter("data") }
        var out: [Row] = []
        out.reserveCapacity(items.count)
        for (index, item) in items.enumerated() {
            guard case .object(let members) = item else {
                throw .invalidInsertData("row \(index) is a \(item.typeName), not an object")
            }
            out.append(try row(members))
        }
        return out
    }

    /// One row: declared fields are converted to their type; other keys go to the dynamic field, or
    /// are dropped when it is off (Milvus ignores keys the schema does not declare).
    func row(_ members: [String: MilvusJSON]) throws(MilvusError) -> Row {
        var row: Row = [:]
        for (key, value) in members {
            if let field = schema.field(key) {
                row[key] = try fieldValue(value, type: field.dataType, element: field.elementType, field: key)
            } else if schema.enableDynamicField && key != "$meta" {
                row[key] = value.fieldValue
            } else if key == "$meta", schema.enableDynamicField, case .object(let dynamic) = value {
                for (name, v) in dynamic where schema.field(name) == nil { row[name] = v.fieldValue }
            }
        }
        return row
    }

    private func fieldValue(_ value: MilvusJSON, type: DataType, element: DataType?, field: String)
        throws(MilvusError) -> FieldValue
    {
        func fail() -> MilvusError {
            .invalidInsertData("field '\(field)' expects \(MilvusSchema.typeName(type)), got a \(value.typeName)")
        }
        if case .null = value { return .null }
        switch type {
        case .bool:
            guard case .bool(let b) = value else { throw fail() }
            return .bool(b)
        case .int64:
            switch value {
            case .int(let i): return .int(i)
            case .double(let d) where d.rounded() == d && abs(d) < 9.2e18: return .int(Int64(d))
            case .string(let s):
                // Milvus parses int64 text too, which is how clients without 64-bit numbers send keys.
                guard let i = Int64(s) else { throw fail() }
                return .int(i)
            default: throw fail()
            }
        case .double:
            guard let d = value.doubleValue else { throw fail() }
            return .double(d)
        case .string:
            guard case .string(let s) = value else { throw fail() }
            return .string(s)
        case .json:
            return value.fieldValue
        case .array:
            guard case .array(let items) = value else { throw fail() }
            var out: [FieldValue] = []
            for item in items {
                out.append(try fieldValue(item, type: element ?? .string, element: nil, field: field))
            }
            return .array(out)
        case .floatVector:
            guard let vector = value.floatVector else { throw fail() }
            return .vector(vector)
        }
    }

    /// Primary keys from a get or delete `id` (one key or a list), as the key field's type.
    func primaryKeys(_ value: MilvusJSON) throws(MilvusError) -> [FieldValue] {
        let items: [MilvusJSON]
        if case .array(let list) = value { items = list } else { items = [value] }
        let key = schema.primaryField
        var out: [FieldValue] = []
        for item in items {
            switch (key.dataType, item) {
            case (.int64, .int(let i)): out.append(.int(i))
            case (.int64, .string(let s)):
                guard let i = Int64(s) else { throw .invalidPrimaryKey("'\(s)' is not an int64") }
                out.append(.int(i))
            case (.string, .string(let s)): out.append(.string(s))
            default:
                throw .invalidPrimaryKey("a \(item.typeName) is not a \(MilvusSchema.typeName(key.dataType)) key")
            }
        }
        return out
    }

    /// Output fields as Milvus reads them: `*` means every field, vectors included (LoupeStore's `*`
    /// leaves vectors out, so they are named explicitly).
    func outputFields(_ requested: [String]) -> [String] {
        guard requested.contains("*") else { return requested }
        let vectors = schema.vectorFields.map(\.name).filter { !requested.contains($0) }
        return requested + vectors
    }

    // MARK: Responses

    /// A row as a JSON object.
    func json(_ row: Row) -> [String: Any] {
        var out: [String: Any] = [:]
        for (key, value) in row {
            out[key] = json(value, topLevel: schema.field(key)?.dataType == .int64)
        }
        return out
    }

    /// A primary key as JSON (int64 keys follow `int64AsNumber`).
    func json(key: FieldValue) -> Any { json(key, topLevel: true) }

    private func json(_ value: FieldValue, topLevel: Bool) -> Any {
        switch value {
        case .null: return NSNull()
        case .bool(let b): return b
        case .int(let i): return topLevel && !int64AsNumber ? String(i) : i
        case .double(let d): return d
        case .string(let s): return s
        case .array(let items): return items.map { json($0, topLevel: false) }
        case .object(let members): return members.mapValues { json($0, topLevel: false) }
        case .vector(let v): return v.map(Self.shortest)
        }
    }

    /// A float32 as the shortest decimal that reads back as the same float32 (0.1, not
    /// 0.10000000149011612), as Go prints Milvus's float32 values.
    static func shortest(_ f: Float) -> Double { Double(f.description) ?? Double(f) }
}
