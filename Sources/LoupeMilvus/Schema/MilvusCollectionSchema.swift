import LoupeStore

/// One field as the server declares it: Milvus's own type, ids and flags, read by name.
struct MilvusField: Sendable {
    var name: String
    var id: Int64
    var type: Milvus_Proto_Schema_DataType
    var elementType: Milvus_Proto_Schema_DataType
    var isPrimary: Bool
    var autoID: Bool
    var isDynamic: Bool
    var dimension: Int?
    var maxLength: Int?
    var maxCapacity: Int?

    init(_ proto: Milvus_Proto_Schema_FieldSchema) {
        name = proto.name
        id = proto.fieldID
        type = proto.dataType
        elementType = proto.elementType
        isPrimary = proto.isPrimaryKey
        autoID = proto.autoID
        isDynamic = proto.isDynamic
        let params = Dictionary(proto.typeParams.map { ($0.key, $0.value) }, uniquingKeysWith: { _, last in last })
        dimension = params["dim"].flatMap { Int($0) }
        maxLength = params["max_length"].flatMap { Int($0) }
        maxCapacity = params["max_capacity"].flatMap { Int($0) }
    }

    var isVector: Bool {
        switch type {
        case .floatVector, .binaryVector, .float16Vector, .bfloat16Vector, .sparseFloatVector: return true
        default: return false
        }
    }
}

/// A collection's schema as the server describes it, with what the client needs to write rows
/// (the declared fields in the server's order, the dynamic field) and LoupeStore's view of it.
struct MilvusCollectionSchema: Sendable {
    var fields: [MilvusField]
    var enableDynamicField: Bool
    var description: String

    init(_ proto: Milvus_Proto_Schema_CollectionSchema) {
        fields = proto.fields.map(MilvusField.init)
        // Servers before the dynamic field flag was sent back mark the `$meta` field instead.
        enableDynamicField = proto.enableDynamicField || fields.contains { $0.isDynamic }
        description = proto.description_p
    }

    /// The declared (not dynamic) fields.
    var declared: [MilvusField] { fields.filter { !$0.isDynamic } }
    var primary: MilvusField? { fields.first(where: \.isPrimary) }
    var vectorFields: [MilvusField] { declared.filter(\.isVector) }
    func field(_ name: String) -> MilvusField? { fields.first { $0.name == name } }

    /// LoupeStore's view: Milvus's narrower integers read as int64, floats as double. Vector kinds
    /// LoupeStore has no type for (binary, float16, sparse) are left out.
    var loupeSchema: CollectionSchema {
        var out: [FieldSchema] = []
        for f in declared {
            guard let type = Self.loupeType(f.type) else { continue }
            var field = FieldSchema(name: f.name, dataType: type, isPrimary: f.isPrimary, autoID: f.autoID,
                                    maxLength: f.maxLength, maxCapacity: f.maxCapacity, dimension: f.dimension)
            if type == .array { field.elementType = Self.loupeType(f.elementType) }
            if type == .floatVector { field.index = nil }
            out.append(field)
        }
        return CollectionSchema(fields: out, enableDynamicField: enableDynamicField, description: description)
    }

    static func loupeType(_ t: Milvus_Proto_Schema_DataType) -> DataType? {
        switch t {
        case .bool: return .bool
        case .int8, .int16, .int32, .int64: return .int64
        case .float, .double: return .double
        case .string, .varChar: return .string
        case .json: return .json
        case .array: return .array
        case .floatVector: return .floatVector
        default: return nil
        }
    }

    /// The Milvus schema for a LoupeStore one; throws naming a field Milvus cannot hold.
    static func proto(for schema: CollectionSchema, name: String) throws -> Milvus_Proto_Schema_CollectionSchema {
        func fail(_ field: String, _ message: String) -> MilvusError {
            MilvusError(.invalidArgument, message, operation: "CreateCollection", collection: name, field: field)
        }
        var out = Milvus_Proto_Schema_CollectionSchema()
        out.name = name
        out.description_p = schema.description
        out.enableDynamicField = schema.enableDynamicField
        guard schema.fields.filter(\.isPrimary).count == 1 else {
            throw MilvusError(.invalidArgument, "a schema needs exactly one primary key", operation: "CreateCollection",
                              collection: name)
        }
        for f in schema.fields {
            var p = Milvus_Proto_Schema_FieldSchema()
            p.name = f.name
            p.isPrimaryKey = f.isPrimary
            p.autoID = f.autoID
            if f.nullable {
                throw fail(f.name, "nullable fields are not in Milvus before 2.5; leave the field out of the schema "
                    + "and keep its values in the dynamic field")
            }
            func param(_ key: String, _ value: Int) {
                var kv = Milvus_Proto_Common_KeyValuePair()
                kv.key = key
                kv.value = String(value)
                p.typeParams.append(kv)
            }
            switch f.dataType {
            case .bool: p.dataType = .bool
            case .int64: p.dataType = .int64
            case .double: p.dataType = .double
            case .string:
                p.dataType = .varChar
                param("max_length", f.maxLength ?? 65_535)
            case .json: p.dataType = .json
            case .array:
                p.dataType = .array
                switch f.elementType {
                case .bool: p.elementType = .bool
                case .int64: p.elementType = .int64
                case .double: p.elementType = .double
                case .string:
                    p.elementType = .varChar
                    param("max_length", f.maxLength ?? 65_535)
                default: throw fail(f.name, "an array needs an element type of bool, int64, double or string")
                }
                param("max_capacity", f.maxCapacity ?? 4096)
            case .floatVector:
                p.dataType = .floatVector
                guard let dim = f.dimension, dim > 0 else { throw fail(f.name, "a vector needs a dimension") }
                param("dim", dim)
            }
            if let d = f.defaultValue, !d.isNull { p.defaultValue = try defaultValue(d, field: f, collection: name) }
            out.fields.append(p)
        }
        return out
    }

    private static func defaultValue(_ value: FieldValue, field: FieldSchema, collection: String) throws
        -> Milvus_Proto_Schema_ValueField
    {
        var v = Milvus_Proto_Schema_ValueField()
        switch (field.dataType, value) {
        case (.bool, .bool(let b)): v.boolData = b
        case (.int64, .int(let i)): v.longData = i
        case (.double, _) where value.doubleValue != nil: v.doubleData = value.doubleValue!
        case (.string, .string(let s)): v.stringData = s
        default:
            throw MilvusError(.invalidArgument, "default value \(value) does not fit \(field.dataType.rawValue) "
                + "(Milvus has defaults only for bool, int64, double and string)",
                operation: "CreateCollection", collection: collection, field: field.name)
        }
        return v
    }
}
