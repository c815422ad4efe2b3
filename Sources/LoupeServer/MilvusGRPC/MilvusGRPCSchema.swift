import Foundation
import LoupeMilvus
import LoupeStore

/// Translates between Milvus's protobuf schema and LoupeStore's `CollectionSchema`, with the REST
/// surface's rules (`MilvusSchema`): the same type names, refusals and index mapping.
enum MilvusGRPCSchema {
    static let dynamicFieldName = "$meta"

    /// The LoupeStore schema for a `CreateCollectionRequest.schema`. Vector fields start as COSINE HNSW
    /// (Milvus's AUTOINDEX default); `CreateIndex` sets the metric and index before rows arrive.
    static func loupeSchema(_ proto: Milvus_Proto_Schema_CollectionSchema) throws(MilvusError) -> CollectionSchema {
        var fields: [FieldSchema] = []
        for p in proto.fields where !p.isDynamic && p.name != dynamicFieldName {
            if p.isPartitionKey {
                throw .invalidParameter("partition key field '\(p.name)' is not supported by Loupe: use partitions by name")
            }
            if p.isClusteringKey {
                throw .invalidParameter("clustering key field '\(p.name)' is not supported by Loupe")
            }
            let params = Dictionary(p.typeParams.map { ($0.key, $0.value) }, uniquingKeysWith: { _, last in last })
            var f = FieldSchema(name: p.name, dataType: try MilvusSchema.dataType(typeName(p.dataType), field: p.name),
                                isPrimary: p.isPrimaryKey)
            f.autoID = p.isPrimaryKey && (p.autoID || proto.autoID)
            f.maxLength = try integer(params["max_length"], key: "max_length", field: p.name)
            switch f.dataType {
            case .floatVector:
                guard let dim = try integer(params["dim"], key: "dim", field: p.name), dim > 0 else {
                    throw .invalidParameter("dimension is not defined in field type params of '\(p.name)'")
                }
                f.dimension = dim
                f.metric = .cosine
                f.index = .hnsw
            case .array:
                let element = try MilvusSchema.dataType(typeName(p.elementType), field: p.name)
                guard element != .array, element != .json, element != .floatVector else {
                    throw .invalidParameter("element data type \(typeName(p.elementType)) of '\(p.name)' is not supported")
                }
                f.elementType = element
                f.maxCapacity = try integer(params["max_capacity"], key: "max_capacity", field: p.name) ?? 4096
            default:
                break
            }
            if p.hasDefaultValue { f.defaultValue = defaultValue(p.defaultValue) }
            fields.append(f)
        }
        guard fields.filter(\.isPrimary).count == 1 else {
            throw .invalidParameter("schema must have exactly one primary key field")
        }
        guard !fields.filter({ $0.dataType == .floatVector }).isEmpty else {
            throw .invalidParameter("schema does not contain vector field")
        }
        return CollectionSchema(fields: fields, enableDynamicField: proto.enableDynamicField, description: proto.description_p)
    }

    /// Milvus's schema for a collection: field ids from 100 in schema order. The dynamic field (`$meta`,
    /// the next id) is not listed, as Milvus's proxy leaves it out: clients treat every listed field as
    /// one to write.
    static func proto(_ description: CollectionDescription) -> Milvus_Proto_Schema_CollectionSchema {
        let schema = description.schema
        var out = Milvus_Proto_Schema_CollectionSchema()
        out.name = description.name
        out.description_p = schema.description
        out.autoID = schema.primaryField.autoID
        out.enableDynamicField = schema.enableDynamicField
        for (offset, f) in schema.fields.enumerated() {
            var p = Milvus_Proto_Schema_FieldSchema()
            p.fieldID = Int64(100 + offset)
            p.name = f.name
            p.isPrimaryKey = f.isPrimary
            p.autoID = f.autoID
            p.dataType = protoType(f.dataType)
            func param(_ key: String, _ value: Int?) {
                guard let value else { return }
                var kv = Milvus_Proto_Common_KeyValuePair()
                kv.key = key
                kv.value = String(value)
                p.typeParams.append(kv)
            }
            param("dim", f.dimension)
            param("max_length", f.dataType == .string || f.elementType == .string ? f.maxLength ?? 65_535 : nil)
            param("max_capacity", f.maxCapacity)
            if let element = f.elementType { p.elementType = protoType(element) }
            if let value = f.defaultValue, let proto = protoDefault(value) { p.defaultValue = proto }
            out.fields.append(p)
        }
        return out
    }

    /// Field ids as `proto(_:)` numbers them.
    static func fieldID(_ name: String, in schema: CollectionSchema) -> Int64 {
        if let i = schema.fields.firstIndex(where: { $0.name == name }) { return Int64(100 + i) }
        return Int64(100 + schema.fields.count)
    }

    /// Milvus's type name for a protobuf type, as the REST surface spells them.
    static func typeName(_ type: Milvus_Proto_Schema_DataType) -> String {
        switch type {
        case .bool: "Bool"
        case .int8: "Int8"
        case .int16: "Int16"
        case .int32: "Int32"
        case .int64: "Int64"
        case .float: "Float"
        case .double: "Double"
        case .string: "String"
        case .varChar: "VarChar"
        case .json: "JSON"
        case .array: "Array"
        case .floatVector: "FloatVector"
        case .binaryVector: "BinaryVector"
        case .float16Vector: "Float16Vector"
        case .bfloat16Vector: "BFloat16Vector"
        case .sparseFloatVector: "SparseFloatVector"
        default: "\(type)"
        }
    }

    static func protoType(_ type: DataType) -> Milvus_Proto_Schema_DataType {
        switch type {
        case .bool: .bool
        case .int64: .int64
        case .double: .double
        case .string: .varChar
        case .json: .json
        case .array: .array
        case .floatVector: .floatVector
        }
    }

    private static func integer(_ text: String?, key: String, field: String) throws(MilvusError) -> Int? {
        guard let text else { return nil }
        guard let value = Int(text.trimmingCharacters(in: .whitespaces)) else {
            throw .invalidParameter("'\(key)' of field '\(field)' must be an integer, got '\(text)'")
        }
        return value
    }

    private static func defaultValue(_ v: Milvus_Proto_Schema_ValueField) -> FieldValue? {
        switch v.data {
        case .boolData(let b): .bool(b)
        case .intData(let i): .int(Int64(i))
        case .longData(let i): .int(i)
        case .floatData(let f): .double(Double(f))
        case .doubleData(let d): .double(d)
        case .stringData(let s): .string(s)
        default: nil
        }
    }

    private static func protoDefault(_ value: FieldValue) -> Milvus_Proto_Schema_ValueField? {
        var v = Milvus_Proto_Schema_ValueField()
        switch value {
        case .bool(let b): v.boolData = b
        case .int(let i): v.longData = i
        case .double(let d): v.doubleData = d
        case .string(let s): v.stringData = s
        default: return nil
        }
        return v
    }
}
