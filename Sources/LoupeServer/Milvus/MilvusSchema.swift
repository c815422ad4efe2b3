import LoupeStore

/// Translates between Milvus's REST schema vocabulary and LoupeStore's `CollectionSchema`.
///
/// Milvus type names map onto LoupeStore's smaller set: every integer width is stored as int64, Float
/// and Double as double, VarChar as string. Types LoupeStore cannot hold (binary and half-precision
/// vectors, sparse vectors other than a BM25 function's output) are refused with code 1100 rather than
/// silently approximated.
enum MilvusSchema {
    /// The schema a `collections/create` request asks for: the quick setup (`dimension`) or a full
    /// `schema` with optional `indexParams`.
    static func collectionSchema(from body: MilvusRequestBody) throws(MilvusError) -> CollectionSchema {
        if let schema = try body.object("schema"), let fields = try schema.array("fields"), !fields.isEmpty {
            return try customSchema(schema, fields: fields, indexParams: try body.array("indexParams") ?? [])
        }
        return try quickSchema(body)
    }

    // MARK: Quick setup

    private static func quickSchema(_ body: MilvusRequestBody) throws(MilvusError) -> CollectionSchema {
        guard let dimension = try body.int("dimension"), dimension > 0 else {
            throw .invalidParameter("dimension is required for quickly create collection(default metric type: COSINE)")
        }
        let params = try body.object("params") ?? MilvusRequestBody(members: [:])
        let primaryName = try body.string("primaryFieldName").flatMap { $0.isEmpty ? nil : $0 } ?? "id"
        let vectorName = try body.string("vectorFieldName").flatMap { $0.isEmpty ? nil : $0 } ?? "vector"
        let primary: FieldSchema
        switch try body.string("idType") ?? "" {
        case "", "Int64", "int64":
            primary = .int64Primary(primaryName, autoID: try body.bool("autoID") ?? false)
        case "VarChar", "Varchar":
            var field = FieldSchema.stringPrimary(primaryName, maxLength: try params.integerParameter("max_length") ?? 65535)
            field.autoID = try body.bool("autoID") ?? false
            primary = field
        case let other:
            throw .invalidParameter("idType can only be [Int64, VarChar], default: Int64, got '\(other)'")
        }
        let vector = FieldSchema.vector(vectorName, dimension: dimension,
                                        metric: try metric(try body.string("metricType")), index: .hnsw)
        return CollectionSchema(fields: [primary, vector],
                                enableDynamicField: try params.bool("enableDynamicField") ?? true)
    }

    // MARK: Full schema

    private static func customSchema(_ schema: MilvusRequestBody, fields: [MilvusJSON],
                                     indexParams: [MilvusJSON]) throws(MilvusError) -> CollectionSchema
    {
        let autoID = try schema.bool("autoID") ?? false
        let functions = try schema.array("functions") ?? []
        let outputs = functionOutputs(functions)
        var out: [FieldSchema] = []
        // A BM25 function's sparse output is the input field's keyword index: it is not a stored field.
        var sparse = Set<String>()
        for item in fields {
            guard case .object(let members) = item else {
                throw .incorrectFormat("schema.fields must hold objects, not \(item.typeName)")
            }
            let body = MilvusRequestBody(members: members)
            if try body.string("dataType") == "SparseFloatVector" {
                sparse.insert(try body.requiredString("fieldName"))
                continue
            }
            out.append(try field(body, autoID: autoID, functionOutputs: outputs))
        }
        try applyFunctions(functions, to: &out, sparseFields: sparse)
        for name in sparse where !out.contains(where: { $0.keywordOutput?.field == name }) {
            throw .invalidParameter("data type SparseFloatVector of field '\(name)' is supported by Loupe only as the output of a BM25 function")
        }
        for item in indexParams {
            guard case .object(let members) = item else {
                throw .incorrectFormat("indexParams must hold objects, not \(item.typeName)")
            }
            try applyIndex(MilvusRequestBody(members: members), to: &out)
        }
        return CollectionSchema(fields: out, enableDynamicField: try schema.bool("enableDynamicField") ?? false)
    }

    private static func field(_ body: MilvusRequestBody, autoID: Bool, functionOutputs: Set<String>) throws(MilvusError)
        -> FieldSchema
    {
        let name = try body.requiredString("fieldName")
        let typeName = try body.requiredString("dataType")
        let params = try body.object("elementTypeParams") ?? MilvusRequestBody(members: [:])
        var f = FieldSchema(name: name, dataType: try dataType(typeName, field: name),
                            isPrimary: try body.bool("isPrimary") ?? false)
        f.autoID = f.isPrimary && autoID
        f.nullable = try body.bool("nullable") ?? false
        f.maxLength = try params.integerParameter("max_length")
        // Milvus analyses a VARCHAR for full-text search; Loupe keeps a keyword index (a BM25 function's input).
        if f.dataType == .string, try params.bool("enable_analyzer") == true { f.enableKeywordSearch = true }
        switch f.dataType {
        case .floatVector:
            // A function's output may leave its dimension to the embedder.
            let dim = try params.integerParameter("dim")
            guard dim != nil || functionOutputs.contains(name) else {
                throw .invalidParameter("dimension is not defined in field type params of '\(name)'")
            }
            f.dimension = dim
            f.metric = .cosine
            f.index = .hnsw
        case .array:
            let element = try body.requiredString("elementDataType")
            f.elementType = try dataType(element, field: name)
            guard f.elementType != .array, f.elementType != .json, f.elementType != .floatVector else {
                throw .invalidParameter("element data type \(element) of '\(name)' is not supported")
            }
            f.maxCapacity = try params.integerParameter("max_capacity") ?? 4096
        default:
            break
        }
        if let value = body["defaultValue"] {
            f.defaultValue = value.fieldValue
        }
        return f
    }

    /// Applies one `indexParams` entry: vector fields take its metric and index; scalar indexes are
    /// accepted and have no effect (LoupeStore filters scan its in-memory rows).
    private static func applyIndex(_ body: MilvusRequestBody, to fields: inout [FieldSchema]) throws(MilvusError) {
        let name = try body.requiredString("fieldName")
        if fields.contains(where: { $0.keywordOutput?.field == name }) {
            // The keyword index serves a BM25 output whatever index type is named; its metric is BM25.
            var metric = try body.string("metricType")
            if metric == nil, let params = try body.object("params") { metric = try params.string("metric_type") }
            guard metric == nil || metric!.uppercased() == "BM25" else {
                throw .invalidParameter("the BM25 output '\(name)' takes the metric BM25, not \(metric!)")
            }
            return
        }
        guard let i = fields.firstIndex(where: { $0.name == name }) else {
            throw MilvusError(code: 1802, "missing required parameters, error: `\(name)` hasn't defined in schema")
        }
        guard fields[i].dataType == .floatVector else { return }
        let params = try body.object("params") ?? MilvusRequestBody(members: [:])
        let metricName = try body.string("metricType")
        let paramsMetricName = try params.string("metric_type")
        fields[i].metric = try metric(metricName ?? paramsMetricName)
        let indexType = try params.string("index_type")
        let topLevelIndexType = try body.string("indexType")
        let kind = indexType ?? topLevelIndexType ?? "AUTOINDEX"
        fields[i].index = try index(kind, params: params)
    }

    /// LoupeStore's index for a Milvus index type. FLAT is exact; HNSW keeps its M and efConstruction;
    /// the other approximate float-vector indexes become HNSW with default settings (int8-quantised for
    /// the SQ and PQ families), which answers the same searches with comparable recall.
    static func index(_ kind: String, params: MilvusRequestBody) throws(MilvusError) -> IndexParams {
        switch kind.uppercased() {
        case "FLAT", "GPU_BRUTE_FORCE":
            return .flat
        case "HNSW":
            var index = IndexParams.hnsw
            index.m = try params.integerParameter("M") ?? index.m
            index.efConstruction = try params.integerParameter("efConstruction") ?? index.efConstruction
            return index
        case "", "AUTOINDEX", "IVF_FLAT", "GPU_IVF_FLAT", "GPU_CAGRA", "DISKANN", "SCANN":
            return .hnsw
        case "IVF_SQ8", "IVF_PQ", "GPU_IVF_PQ", "HNSW_SQ", "HNSW_PQ", "HNSW_PRQ", "IVF_RABITQ":
            return IndexParams(kind: .hnsw, storage: .int8)
        default:
            throw .invalidParameter("index type \(kind) is not supported for float vectors")
        }
    }

    static func metric(_ name: String?) throws(MilvusError) -> MetricType {
        guard let name, !name.isEmpty else { return .cosine }
        guard let metric = MetricType(rawValue: name.uppercased()) else {
            throw .invalidParameter("float vector index does not support metric type: \(name)")
        }
        return metric
    }

    /// LoupeStore's type for a Milvus `dataType` name (case-sensitive, as in Milvus).
    static func dataType(_ name: String, field: String) throws(MilvusError) -> DataType {
        switch name {
        case "Bool": return .bool
        case "Int8", "Int16", "Int32", "Int64": return .int64
        case "Float", "Double": return .double
        case "VarChar", "String": return .string
        case "JSON": return .json
        case "Array": return .array
        case "FloatVector": return .floatVector
        case "BinaryVector", "Float16Vector", "BFloat16Vector", "SparseFloatVector", "Int8Vector":
            throw .invalidParameter("data type \(name) of field '\(field)' is not supported by Loupe (float vectors only)")
        default:
            throw .invalidParameter("data type \(name) is invalid(case sensitive).")
        }
    }

    /// Milvus's name for a LoupeStore type.
    static func typeName(_ type: DataType) -> String {
        switch type {
        case .bool: "Bool"
        case .int64: "Int64"
        case .double: "Double"
        case .string: "VarChar"
        case .json: "JSON"
        case .array: "Array"
        case .floatVector: "FloatVector"
        }
    }
}
