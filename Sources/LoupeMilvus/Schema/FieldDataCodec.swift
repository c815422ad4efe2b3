import Foundation
import LoupeStore

/// Rows to Milvus's column-wise `FieldData` and back.
///
/// Columns are matched to fields by name, never by position: servers order fields differently
/// (milvus-lite returns them in another order than Milvus, and the `$meta` column anywhere).
package enum FieldDataCodec {
    static let dynamicFieldName = "$meta"

    // MARK: rows to columns

    /// One column per declared field (the auto-id primary key left out) plus the `$meta` JSON column
    /// for keys no field declares, when the collection has a dynamic field.
    static func columns(for rows: [Row], schema: MilvusCollectionSchema, operation: String, collection: String,
                        upsert: Bool) throws -> [Milvus_Proto_Schema_FieldData] {
        func fail(_ field: String?, _ message: String) -> MilvusError {
            MilvusError(.invalidArgument, message, operation: operation, collection: collection, field: field)
        }
        let writable = schema.declared.filter { !($0.isPrimary && $0.autoID && !upsert) }
        let declaredNames = Set(schema.declared.map(\.name))
        var columns: [Milvus_Proto_Schema_FieldData] = []
        for field in writable {
            var values: [FieldValue] = []
            values.reserveCapacity(rows.count)
            for (i, row) in rows.enumerated() {
                guard let v = row[field.name], !v.isNull else {
                    throw fail(field.name, "row \(i) has no value for field '\(field.name)'")
                }
                values.append(v)
            }
            columns.append(try column(field, values, fail: { fail(field.name, $0) }))
        }
        if let primary = schema.primary, primary.autoID, !upsert {
            if let i = rows.firstIndex(where: { $0[primary.name] != nil }) {
                throw fail(primary.name, "row \(i) sets the primary key '\(primary.name)', which the server assigns (auto id)")
            }
        }
        var dynamic: [String] = []
        for (i, row) in rows.enumerated() {
            var extra: [String: FieldValue] = [:]
            for (key, value) in row where !declaredNames.contains(key) {
                guard schema.enableDynamicField else {
                    throw fail(key, "row \(i) has '\(key)', which the collection does not declare (and its dynamic field is off)")
                }
                guard key != dynamicFieldName else { throw fail(key, "'$meta' is the dynamic field's own name") }
                extra[key] = jsonSafe(value)
            }
            dynamic.append(JSONText.encode(.object(extra)))
        }
        if schema.enableDynamicField {
            var c = Milvus_Proto_Schema_FieldData()
            c.type = .json
            c.fieldName = dynamicFieldName
            c.isDynamic = true
            if let meta = schema.fields.first(where: \.isDynamic) { c.fieldID = meta.id }
            var json = Milvus_Proto_Schema_JSONArray()
            json.data = dynamic.map { Data($0.utf8) }
            c.scalars.jsonData = json
            columns.append(c)
        }
        return columns
    }

    /// Vectors in JSON become arrays of numbers.
    private static func jsonSafe(_ v: FieldValue) -> FieldValue {
        if case .vector(let f) = v { return .array(f.map { .double(Double($0)) }) }
        return v
    }

    private static func column(_ field: MilvusField, _ values: [FieldValue],
                               fail: (String) -> MilvusError) throws -> Milvus_Proto_Schema_FieldData {
        var c = Milvus_Proto_Schema_FieldData()
        c.type = field.type
        c.fieldName = field.name
        c.fieldID = field.id
        if field.type == .floatVector {
            guard let dim = field.dimension else { throw fail("the server declares no dimension for '\(field.name)'") }
            var flat: [Float] = []
            flat.reserveCapacity(values.count * dim)
            for (i, v) in values.enumerated() {
                guard let vec = v.vectorValue else { throw fail("row \(i): expected a float vector, got \(v)") }
                guard vec.count == dim else { throw fail("row \(i): expected \(dim) dimensions, got \(vec.count)") }
                guard vec.allSatisfy(\.isFinite) else { throw fail("row \(i): the vector has a non-finite component") }
                flat += vec
            }
            var vf = Milvus_Proto_Schema_VectorField()
            vf.dim = Int64(dim)
            vf.floatVector.data = flat
            c.vectors = vf
            return c
        }
        guard !field.isVector else {
            throw fail("writing \(field.type) vectors is not supported by this client (float vectors only)")
        }
        c.scalars = try scalars(field.type, element: field.elementType, values, maxLength: field.maxLength,
                                fail: fail)
        return c
    }

    private static func scalars(_ type: Milvus_Proto_Schema_DataType, element: Milvus_Proto_Schema_DataType,
                                _ values: [FieldValue], maxLength: Int?,
                                fail: (String) -> MilvusError) throws -> Milvus_Proto_Schema_ScalarField {
        var s = Milvus_Proto_Schema_ScalarField()
        func bad(_ i: Int, _ what: String, _ v: FieldValue) -> MilvusError { fail("row \(i): expected \(what), got \(v)") }
        switch type {
        case .bool:
            var a = Milvus_Proto_Schema_BoolArray()
            a.data = try values.enumerated().map { i, v in
                guard let b = v.boolValue else { throw bad(i, "a bool", v) }
                return b
            }
            s.boolData = a
        case .int8, .int16, .int32:
            let range: ClosedRange<Int64> = type == .int8 ? -128...127 : type == .int16 ? -32768...32767
                : Int64(Int32.min)...Int64(Int32.max)
            var a = Milvus_Proto_Schema_IntArray()
            a.data = try values.enumerated().map { i, v in
                guard case .int(let n) = v, range.contains(n) else { throw bad(i, "an integer in \(range)", v) }
                return Int32(n)
            }
            s.intData = a
        case .int64:
            var a = Milvus_Proto_Schema_LongArray()
            a.data = try values.enumerated().map { i, v in
                guard case .int(let n) = v else { throw bad(i, "an int64", v) }
                return n
            }
            s.longData = a
        case .float:
            var a = Milvus_Proto_Schema_FloatArray()
            a.data = try values.enumerated().map { i, v in
                guard let d = v.doubleValue else { throw bad(i, "a number", v) }
                return Float(d)
            }
            s.floatData = a
        case .double:
            var a = Milvus_Proto_Schema_DoubleArray()
            a.data = try values.enumerated().map { i, v in
                guard let d = v.doubleValue else { throw bad(i, "a number", v) }
                return d
            }
            s.doubleData = a
        case .string, .varChar:
            var a = Milvus_Proto_Schema_StringArray()
            a.data = try values.enumerated().map { i, v in
                guard let text = v.stringValue else { throw bad(i, "a string", v) }
                if let maxLength, text.utf8.count > maxLength {
                    throw fail("row \(i): a string of \(text.utf8.count) bytes exceeds the max length \(maxLength)")
                }
                return text
            }
            s.stringData = a
        case .json:
            var a = Milvus_Proto_Schema_JSONArray()
            a.data = values.map { Data(JSONText.encode(jsonSafe($0)).utf8) }
            s.jsonData = a
        case .array:
            var a = Milvus_Proto_Schema_ArrayArray()
            a.elementType = element
            a.data = try values.enumerated().map { i, v in
                guard case .array(let items) = v else { throw bad(i, "an array", v) }
                return try scalars(element, element: .none, items, maxLength: maxLength,
                                   fail: { fail("row \(i): \($0)") })
            }
            s.arrayData = a
        default:
            throw fail("writing \(type) fields is not supported by this client")
        }
        return s
    }

    // MARK: columns to rows

    /// Rows from columns, keyed by field name. `$meta` is spread into its keys; `wanted` (the output
    /// fields asked for, empty or containing `*` or `$meta` for all) picks which dynamic keys are kept.
    static func rows(from columns: [Milvus_Proto_Schema_FieldData], count: Int? = nil, wanted: [String] = [])
        throws -> [Row]
    {
        let n = try count ?? columns.map { try values(of: $0).count }.max() ?? 0
        var rows = [Row](repeating: [:], count: n)
        let all = wanted.isEmpty || wanted.contains("*") || wanted.contains(dynamicFieldName)
        let wantedSet = Set(wanted)
        for c in columns {
            let vals = try values(of: c)
            guard vals.count == n else {
                throw MilvusError(.protocolError, "column '\(c.fieldName)' has \(vals.count) values for \(n) rows")
            }
            if c.isDynamic || c.fieldName == dynamicFieldName {
                for (i, v) in vals.enumerated() {
                    guard case .object(let keys) = v else { continue }
                    for (k, value) in keys where (all || wantedSet.contains(k)) && rows[i][k] == nil {
                        rows[i][k] = value
                    }
                }
            } else {
                for (i, v) in vals.enumerated() { rows[i][c.fieldName] = v }
            }
        }
        return rows
    }

    /// The values of one column, in row order.
    package static func values(of c: Milvus_Proto_Schema_FieldData) throws -> [FieldValue] {
        switch c.field {
        case .vectors(let v):
            switch v.data {
            case .floatVector(let f):
                let dim = Int(v.dim)
                guard dim > 0 else { return [] }
                guard f.data.count % dim == 0 else {
                    throw MilvusError(.protocolError, "vector column '\(c.fieldName)' is not a whole number of \(dim)-d vectors")
                }
                return stride(from: 0, to: f.data.count, by: dim).map { .vector(Array(f.data[$0..<$0 + dim])) }
            default:
                throw MilvusError(.protocolError, "vector column '\(c.fieldName)' is of a kind this client does not read (float vectors only)")
            }
        case .scalars(let s):
            return try scalarValues(s, name: c.fieldName)
        case nil:
            return []
        }
    }

    private static func scalarValues(_ s: Milvus_Proto_Schema_ScalarField, name: String) throws -> [FieldValue] {
        switch s.data {
        case .boolData(let a): return a.data.map { .bool($0) }
        case .intData(let a): return a.data.map { .int(Int64($0)) }
        case .longData(let a): return a.data.map { .int($0) }
        case .floatData(let a): return a.data.map { .double(Double($0)) }
        case .doubleData(let a): return a.data.map { .double($0) }
        case .stringData(let a): return a.data.map { .string($0) }
        case .bytesData(let a): return a.data.map { .string(String(decoding: $0, as: UTF8.self)) }
        case .jsonData(let a):
            return try a.data.map { bytes in
                if bytes.isEmpty { return .null }
                do { return try JSONText.decode(String(decoding: bytes, as: UTF8.self)) } catch {
                    throw MilvusError(.protocolError, "column '\(name)' holds JSON this client cannot read: \(error)")
                }
            }
        case .arrayData(let a):
            return try a.data.map { .array(try scalarValues($0, name: name)) }
        case nil:
            return []
        }
    }

    /// Primary keys from `IDs`.
    package static func ids(_ ids: Milvus_Proto_Schema_IDs) -> [FieldValue] {
        switch ids.idField {
        case .intID(let a): return a.data.map { .int($0) }
        case .strID(let a): return a.data.map { .string($0) }
        case nil: return []
        }
    }
}
