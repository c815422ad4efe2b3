import LoupeStore

/// How a LoupeStore schema is laid out in a Milvus collection that has no nullable fields (Milvus
/// before 2.5), and how rows cross that layout both ways so they read back as the embedded store
/// returns them.
///
/// Non-nullable fields are declared Milvus fields. A nullable scalar is kept in the dynamic `$meta` JSON,
/// under its own name, only when the row has a value for it: no sentinel value ever stands for null.
/// Milvus filters reach `$meta` keys by their bare names, so `width > 1000` works unchanged (a row
/// without the key does not match a comparison, as a null does not). The nullable fields' names and types
/// are written after the schema's own description, on a line starting `loupe-nullable:`, so any client
/// that opens the collection reads the same schema back: `source:string:4096 width:int64 start_s:double`.
/// That text is the collection's description and also its `loupe.schema` property: milvus-lite keeps
/// properties but answers every description empty.
struct MilvusCollectionLayout: Sendable, Equatable {
    /// The schema as LoupeStore describes it (what `MediaStore.schema(of:)` returns).
    var schema: CollectionSchema
    /// The fields kept in `$meta`, in schema order.
    var nullable: [FieldSchema]

    static let marker = "\nloupe-nullable:"
    /// The collection property holding the same text as the description.
    static let property = "loupe.schema"

    /// The layout of `schema`; throws for nullable fields that `$meta` cannot hold faithfully.
    init(schema: CollectionSchema, collection: String) throws {
        self.schema = schema
        nullable = schema.fields.filter(\.nullable)
        for f in nullable {
            guard [.bool, .int64, .double, .string].contains(f.dataType), !f.isPrimary else {
                throw StoreError(.invalidArgument, "a nullable \(f.dataType.rawValue) field cannot be kept on Milvus before 2.5 "
                                 + "(only nullable bool, int64, double and string fields are)", collection: collection,
                                 field: f.name)
            }
            guard f.defaultValue == nil || f.defaultValue?.isNull == true else {
                throw StoreError(.invalidArgument, "a nullable field with a default value cannot be kept on Milvus before 2.5",
                                 collection: collection, field: f.name)
            }
        }
    }

    /// The layout read back from a Milvus collection: its declared fields plus the nullable fields its
    /// description lists. `declared` is the server's schema in LoupeStore terms.
    init(milvus declared: CollectionSchema, properties: [String: String] = [:], collection: String) throws {
        var description = properties[Self.property] ?? declared.description
        var nullable: [FieldSchema] = []
        if let range = description.range(of: Self.marker) {
            let list = description[range.upperBound...]
            description = String(description[..<range.lowerBound])
            for item in list.split(separator: " ") {
                let parts = item.split(separator: ":").map(String.init)
                guard parts.count >= 2, let type = DataType(rawValue: parts[1]),
                      [.bool, .int64, .double, .string].contains(type) else {
                    throw StoreError(.invalidArgument, "the collection's description lists a nullable field Loupe cannot "
                                     + "read: '\(item)'", collection: collection)
                }
                nullable.append(.scalar(parts[0], type, nullable: true,
                                        maxLength: parts.count > 2 ? Int(parts[2]) : nil))
            }
        }
        schema = CollectionSchema(fields: declared.fields + nullable, enableDynamicField: declared.enableDynamicField,
                                  description: description)
        self.nullable = nullable
    }

    /// The schema to create on Milvus: the nullable fields left out (they live in `$meta`, so the dynamic
    /// field is on when there are any), and their list appended to the description.
    var milvusSchema: CollectionSchema {
        var out = schema
        out.fields = schema.fields.filter { !$0.nullable }
        if !nullable.isEmpty {
            out.enableDynamicField = true
            out.description += Self.marker + " " + nullable.map { f in
                f.name + ":" + f.dataType.rawValue + (f.maxLength.map { ":\($0)" } ?? "")
            }.joined(separator: " ")
        }
        return out
    }

    /// Names of the declared Milvus fields that are not vectors (what `*` stands for, with `$meta`).
    var scalarFieldNames: [String] {
        schema.fields.filter { !$0.nullable && $0.dataType != .floatVector }.map(\.name)
    }

    func isNullable(_ name: String) -> Bool { nullable.contains { $0.name == name } }

    // MARK: rows to Milvus

    /// A row as Milvus is sent it: nulls of nullable fields left out, their values checked and stored in
    /// their declared type, defaults filled in, and undeclared keys refused when the schema keeps none.
    func milvusRow(_ row: Row, index: Int, collection: String) throws -> Row {
        var out: Row = [:]
        for (key, value) in row {
            if let f = nullable.first(where: { $0.name == key }) {
                guard !value.isNull else { continue }
                out[key] = try Self.checked(value, for: f, row: index, collection: collection)
            } else if let f = schema.field(key) {
                if value.isNull {
                    if let d = f.defaultValue, !d.isNull { out[key] = d; continue }
                    throw StoreError(.invalidArgument, "row \(index): the field is not nullable", collection: collection,
                                     field: key)
                }
                out[key] = f.dataType == .double ? (value.doubleValue.map(FieldValue.double) ?? value) : value
            } else {
                guard schema.enableDynamicField else {
                    throw StoreError(.invalidArgument, "row \(index) has '\(key)', which the collection does not declare",
                                     collection: collection, field: key)
                }
                guard !value.isNull else { continue }
                out[key] = value
            }
        }
        for f in schema.fields where !f.nullable && out[f.name] == nil {
            if let d = f.defaultValue, !d.isNull { out[f.name] = d }
        }
        return out
    }

    private static func checked(_ value: FieldValue, for f: FieldSchema, row: Int, collection: String) throws -> FieldValue {
        func fail(_ what: String) -> StoreError {
            StoreError(.invalidArgument, "row \(row): expected \(what), got \(value)", collection: collection, field: f.name)
        }
        switch f.dataType {
        case .bool:
            guard value.boolValue != nil else { throw fail("a bool") }
            return value
        case .int64:
            guard case .int = value else { throw fail("an int64") }
            return value
        case .double:
            guard let d = value.doubleValue, d.isFinite else { throw fail("a finite number") }
            return .double(d)
        case .string:
            guard let s = value.stringValue else { throw fail("a string") }
            if let m = f.maxLength, s.utf8.count > m {
                throw StoreError(.invalidArgument, "row \(row): a string of \(s.utf8.count) bytes exceeds the max length \(m)",
                                 collection: collection, field: f.name)
            }
            return value
        default:
            throw fail("a scalar")
        }
    }

    // MARK: rows from Milvus

    /// A row read from Milvus as LoupeStore gives it: nullable fields asked for (or all, for `*`) present,
    /// as `.null` when the row has no value, and in their declared type (`$meta` JSON writes `2.0` as a
    /// number Milvus may hand back as `2`).
    func loupeRow(_ row: Row, asked fields: [String]) -> Row {
        var out = row
        let all = fields.contains("*")
        for f in nullable where all || fields.contains(f.name) {
            switch (f.dataType, out[f.name]) {
            case (_, nil): out[f.name] = .null
            case (.double, let value?): out[f.name] = value.doubleValue.map(FieldValue.double) ?? value
            default: break
            }
        }
        for f in schema.fields where !f.nullable && f.dataType == .double {
            if let value = out[f.name], case .int(let i) = value { out[f.name] = .double(Double(i)) }
        }
        return out
    }
}
