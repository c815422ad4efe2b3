import Foundation
import LoupeMilvus
import LoupeStore

/// Milvus's column-wise `FieldData` to LoupeStore rows and back, on the server side: what clients send
/// in inserts, and what queries and searches answer.
///
/// Columns are read by name; `$meta` (the dynamic field, JSON) is spread into its keys. A column with
/// `valid_data` holds only the valid rows' values (as pymilvus sends nullable fields); replies hold a
/// value for every row and mark nulls in `valid_data`, as Milvus answers.
struct MilvusGRPCColumns {
    let schema: CollectionSchema

    // MARK: Requests

    /// The rows of an insert or upsert.
    func rows(_ columns: [Milvus_Proto_Schema_FieldData], count: Int) throws(MilvusError) -> [Row] {
        guard count > 0 else { throw .invalidParameter("num_rows should be greater than 0") }
        var rows = [Row](repeating: [:], count: count)
        for column in columns {
            let values: [FieldValue]
            do {
                values = try FieldDataCodec.values(of: column)
            } catch {
                throw .invalidInsertData("field '\(column.fieldName)': \(error)")
            }
            let valid = MilvusGRPCWire.bools(field: MilvusGRPCWire.validDataField, in: column.unknownFields.data)
            let full = try expand(values, valid: valid, count: count, field: column.fieldName)
            if column.isDynamic || column.fieldName == MilvusGRPCSchema.dynamicFieldName {
                guard schema.enableDynamicField else {
                    throw .invalidInsertData("the collection has no dynamic field; '$meta' cannot be written")
                }
                for (i, value) in full.enumerated() {
                    guard case .object(let keys) = value else { continue }
                    for (key, v) in keys where schema.field(key) == nil { rows[i][key] = v }
                }
            } else if let field = schema.field(column.fieldName) {
                for (i, value) in full.enumerated() { rows[i][field.name] = value }
            } else {
                throw .invalidInsertData("field '\(column.fieldName)' is not in the collection's schema")
            }
        }
        return rows
    }

    private func expand(_ values: [FieldValue], valid: [Bool], count: Int, field: String) throws(MilvusError) -> [FieldValue] {
        if valid.isEmpty {
            guard values.count == count else {
                throw .invalidInsertData("the num_rows (\(count)) of field data(\(field)) is not equal to passed num_rows (\(values.count))")
            }
            return values
        }
        guard valid.count == count else {
            throw .invalidInsertData("field '\(field)' has \(valid.count) valid_data flags for \(count) rows")
        }
        // Either only the valid rows' values, or one for every row.
        let compact = values.count != count
        guard !compact || values.count == valid.filter({ $0 }).count else {
            throw .invalidInsertData("field '\(field)' has \(values.count) values for \(valid.filter { $0 }.count) valid rows")
        }
        var out: [FieldValue] = []
        out.reserveCapacity(count)
        var next = 0
        for (i, isValid) in valid.enumerated() {
            if compact {
                out.append(isValid ? values[next] : .null)
                if isValid { next += 1 }
            } else {
                out.append(isValid ? values[i] : .null)
            }
        }
        return out
    }

    // MARK: Replies

    /// Output field names as Milvus resolves them: `*` is every declared field, vectors too; names the
    /// schema does not declare are dynamic keys (returned inside `$meta`). The primary key is always
    /// included for queries (`withPrimary`).
    func outputFields(_ requested: [String], withPrimary: Bool) throws(MilvusError) -> (declared: [String], dynamic: [String], all: Bool) {
        var declared: [String] = []
        var dynamic: [String] = []
        var allDynamic = false
        for name in requested {
            let trimmed = name.trimmingCharacters(in: .whitespaces)
            if trimmed == "*" {
                for f in schema.fields where !declared.contains(f.name) { declared.append(f.name) }
                allDynamic = schema.enableDynamicField
            } else if schema.field(trimmed) != nil {
                if !declared.contains(trimmed) { declared.append(trimmed) }
            } else if trimmed == MilvusGRPCSchema.dynamicFieldName, schema.enableDynamicField {
                allDynamic = true
            } else if schema.enableDynamicField {
                if !dynamic.contains(trimmed) { dynamic.append(trimmed) }
            } else {
                throw .invalidParameter("field \(trimmed) not exist")
            }
        }
        if withPrimary, !declared.contains(schema.primaryField.name) {
            declared.insert(schema.primaryField.name, at: 0)
        }
        return (declared, dynamic, allDynamic)
    }

    /// What LoupeStore should return for these output fields.
    func storeOutputFields(_ fields: (declared: [String], dynamic: [String], all: Bool)) -> [String] {
        fields.all ? ["*"] + fields.declared.filter { schema.field($0)?.dataType == .floatVector } : fields.declared + fields.dynamic
    }

    /// Columns for rows: one per declared output field, and `$meta` holding the dynamic keys asked for.
    func columns(_ rows: [Row], fields: (declared: [String], dynamic: [String], all: Bool)) throws(MilvusError)
        -> [Milvus_Proto_Schema_FieldData]
    {
        var out: [Milvus_Proto_Schema_FieldData] = []
        for name in fields.declared {
            guard let field = schema.field(name) else { continue }
            out.append(try column(field, rows.map { $0[name] ?? .null }))
        }
        if schema.enableDynamicField, fields.all || !fields.dynamic.isEmpty {
            let wanted = Set(fields.dynamic)
            var c = Milvus_Proto_Schema_FieldData()
            c.type = .json
            c.fieldName = MilvusGRPCSchema.dynamicFieldName
            c.fieldID = MilvusGRPCSchema.fieldID(MilvusGRPCSchema.dynamicFieldName, in: schema)
            c.isDynamic = true
            var json = Milvus_Proto_Schema_JSONArray()
            json.data = rows.map { row in
                var extra: [String: FieldValue] = [:]
                for (key, value) in row where schema.field(key) == nil && (fields.all || wanted.contains(key)) {
                    extra[key] = value
                }
                return Data(JSONText.encode(.object(extra)).utf8)
            }
            c.scalars.jsonData = json
            out.append(c)
        }
        return out
    }

    /// One column of a declared field's values (`.null` where a row has none).
    func column(_ field: FieldSchema, _ values: [FieldValue]) throws(MilvusError) -> Milvus_Proto_Schema_FieldData {
        var c = Milvus_Proto_Schema_FieldData()
        c.type = MilvusGRPCSchema.protoType(field.dataType)
        c.fieldName = field.name
        c.fieldID = MilvusGRPCSchema.fieldID(field.name, in: schema)
        if field.dataType == .floatVector {
            let dim = field.dimension ?? 0
            var flat: [Float] = []
            flat.reserveCapacity(values.count * dim)
            for v in values {
                guard case .vector(let vector) = v, vector.count == dim else {
                    throw MilvusError(code: 65535, "unexpected error: row without a \(dim)-d vector in '\(field.name)'")
                }
                flat += vector
            }
            var vf = Milvus_Proto_Schema_VectorField()
            vf.dim = Int64(dim)
            vf.floatVector.data = flat
            c.vectors = vf
            return c
        }
        c.scalars = Self.scalars(field.dataType, element: field.elementType, values)
        guard values.contains(where: \.isNull) else { return c }
        do {
            return try MilvusGRPCWire.appending(c, field: MilvusGRPCWire.validDataField,
                                                bytes: values.map { $0.isNull ? 0 : 1 })
        } catch {
            throw MilvusError(code: 65535, "unexpected error: cannot mark the nulls of '\(field.name)': \(error)")
        }
    }

    /// Scalar values of one type; nulls become the type's zero value (their row is marked in `valid_data`).
    static func scalars(_ type: DataType, element: DataType?, _ values: [FieldValue]) -> Milvus_Proto_Schema_ScalarField {
        var s = Milvus_Proto_Schema_ScalarField()
        switch type {
        case .bool:
            var a = Milvus_Proto_Schema_BoolArray()
            a.data = values.map { $0.boolValue ?? false }
            s.boolData = a
        case .int64:
            var a = Milvus_Proto_Schema_LongArray()
            a.data = values.map { if case .int(let i) = $0 { i } else { 0 } }
            s.longData = a
        case .double:
            var a = Milvus_Proto_Schema_DoubleArray()
            a.data = values.map { $0.doubleValue ?? 0 }
            s.doubleData = a
        case .string:
            var a = Milvus_Proto_Schema_StringArray()
            a.data = values.map { $0.stringValue ?? "" }
            s.stringData = a
        case .json, .floatVector:
            var a = Milvus_Proto_Schema_JSONArray()
            a.data = values.map { $0.isNull ? Data() : Data(JSONText.encode($0).utf8) }
            s.jsonData = a
        case .array:
            var a = Milvus_Proto_Schema_ArrayArray()
            a.elementType = MilvusGRPCSchema.protoType(element ?? .string)
            a.data = values.map { v in
                guard case .array(let items) = v else { return scalars(element ?? .string, element: nil, []) }
                return scalars(element ?? .string, element: nil, items)
            }
            s.arrayData = a
        }
        return s
    }

    /// Primary keys as Milvus's `IDs`.
    func ids(_ keys: [FieldValue]) -> Milvus_Proto_Schema_IDs {
        var ids = Milvus_Proto_Schema_IDs()
        if schema.primaryField.dataType == .string {
            var s = Milvus_Proto_Schema_StringArray()
            s.data = keys.map { $0.stringValue ?? "" }
            ids.strID = s
        } else {
            var l = Milvus_Proto_Schema_LongArray()
            l.data = keys.map { if case .int(let i) = $0 { i } else { 0 } }
            ids.intID = l
        }
        return ids
    }
}
