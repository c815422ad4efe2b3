/// The fields of a collection (Milvus `CollectionSchema`): one primary key, scalar fields, one or more
/// vector fields, and optionally a dynamic field that keeps undeclared keys.
public struct CollectionSchema: Sendable, Hashable, Codable {
    public var fields: [FieldSchema]
    /// Keep keys that no field declares (Milvus's `$meta`); filters reach them as plain names.
    public var enableDynamicField: Bool
    public var description: String

    public init(fields: [FieldSchema], enableDynamicField: Bool = false, description: String = "") {
        self.fields = fields
        self.enableDynamicField = enableDynamicField
        self.description = description
    }

    /// Milvus's quick setup: `id` int64 primary key (auto id optional), a `vector` field, dynamic field on.
    public static func quick(dimension: Int, metric: MetricType = .cosine, index: IndexParams = .hnsw,
                             autoID: Bool = false) -> CollectionSchema {
        CollectionSchema(fields: [.int64Primary("id", autoID: autoID),
                                  .vector("vector", dimension: dimension, metric: metric, index: index)],
                         enableDynamicField: true)
    }

    /// The primary key field.
    public var primaryField: FieldSchema { fields.first(where: \.isPrimary)! }
    /// The vector fields, in declaration order.
    public var vectorFields: [FieldSchema] { fields.filter { $0.dataType.isVector } }
    /// The field named `name`, if declared.
    public func field(_ name: String) -> FieldSchema? { fields.first { $0.name == name } }
    /// The keyword-searchable string field whose BM25 output is called `output`.
    public func keywordField(output: String) -> FieldSchema? { fields.first { $0.keywordOutput?.field == output } }

    /// Checks names, types and parameters; throws naming the field at fault.
    func validate(collection: String) throws {
        func fail(_ field: String?, _ message: String) -> StoreError {
            StoreError(.invalidArgument, message, collection: collection, field: field)
        }
        let primaries = fields.filter(\.isPrimary)
        guard primaries.count == 1 else { throw fail(nil, "a schema needs exactly one primary key, found \(primaries.count)") }
        let primary = primaries[0]
        guard primary.dataType == .int64 || primary.dataType == .string else {
            throw fail(primary.name, "a primary key must be int64 or string, not \(primary.dataType.rawValue)")
        }
        if primary.nullable { throw fail(primary.name, "a primary key cannot be nullable") }
        guard !vectorFields.isEmpty || fields.contains(where: { $0.keywordOutput != nil }) else {
            throw fail(nil, "a schema needs at least one vector field (or a BM25 function's output)")
        }
        var seen = Set<String>()
        for f in fields {
            guard Self.isValidName(f.name) else {
                throw fail(f.name, "a field name must start with a letter or _ and hold only letters, digits and _")
            }
            guard seen.insert(f.name).inserted else { throw fail(f.name, "declared twice") }
            if f.dataType.isVector {
                guard let d = f.dimension, d >= 1, d <= 32768 else { throw fail(f.name, "a vector needs a dimension in 1...32768") }
                if let ix = f.index, ix.kind == .hnsw {
                    guard ix.m >= 2, ix.m <= 128 else { throw fail(f.name, "HNSW M must be in 2...128, got \(ix.m)") }
                    guard ix.efConstruction >= 1 else { throw fail(f.name, "efConstruction must be positive") }
                }
                if f.nullable { throw fail(f.name, "vector fields cannot be nullable") }
                if let source = f.source { try validate(source, of: f, collection: collection) }
            } else if f.source != nil {
                throw fail(f.name, "only a vector field can have a source field")
            }
            if let output = f.keywordOutput {
                guard f.dataType == .string, f.enableKeywordSearch else {
                    throw fail(f.name, "only a string field with keyword search can have a BM25 output")
                }
                guard Self.isValidName(output.field) else {
                    throw fail(output.field, "a field name must start with a letter or _ and hold only letters, digits and _")
                }
                guard seen.insert(output.field).inserted else { throw fail(output.field, "declared twice") }
            }
            if f.dataType == .array {
                guard let e = f.elementType, [.bool, .int64, .double, .string].contains(e) else {
                    throw fail(f.name, "an array needs an element type of bool, int64, double or string")
                }
            }
            if let d = f.defaultValue, !d.isNull {
                _ = try normalize(d, for: f, collection: collection)
            }
        }
    }

    /// The fields a vector field's values are computed from.
    public var sourcedVectorFields: [FieldSchema] { vectorFields.filter { $0.source != nil } }

    /// A vector's source must be a VARCHAR field of the same schema, named with its embedder.
    private func validate(_ source: VectorSource, of vector: FieldSchema, collection: String) throws {
        func fail(_ message: String) -> StoreError {
            StoreError(.invalidArgument, message, collection: collection, field: vector.name)
        }
        guard let input = field(source.field) else {
            throw fail("the source field '\(source.field)' is not in the schema")
        }
        guard input.dataType == .string else {
            throw fail("the source field '\(source.field)' is \(input.dataType.rawValue); a source must be a VARCHAR (string) field")
        }
        let name = source.embedder
        guard !name.isEmpty, name.utf8.count <= 128,
              name.unicodeScalars.allSatisfy({ $0.properties.isAlphabetic || ("0"..."9").contains($0) || "-_.:/".unicodeScalars.contains($0) })
        else {
            throw fail("the embedder name '\(name)' must be 1 to 128 letters, digits or - _ . : /")
        }
    }

    static func isValidName(_ name: String) -> Bool {
        guard let first = name.unicodeScalars.first, first == "_" || first.properties.isAlphabetic,
              name.utf8.count <= 255 else { return false }
        return name.unicodeScalars.allSatisfy { $0 == "_" || $0.properties.isAlphabetic || ("0"..."9").contains($0) }
    }

    /// Checks one value against its field and converts it to the stored form (ints for int64, doubles for double).
    func normalize(_ value: FieldValue, for f: FieldSchema, collection: String) throws -> FieldValue {
        func fail(_ message: String) -> StoreError { StoreError(.invalidArgument, message, collection: collection, field: f.name) }
        if value.isNull {
            guard f.nullable || f.defaultValue != nil else { throw fail("is not nullable") }
            return f.defaultValue ?? .null
        }
        switch f.dataType {
        case .bool:
            guard case .bool = value else { throw fail("expected a bool, got \(value)") }
            return value
        case .int64:
            guard case .int(let i) = value else { throw fail("expected an int64, got \(value)") }
            return .int(i)
        case .double:
            guard let d = value.doubleValue else { throw fail("expected a number, got \(value)") }
            return .double(d)
        case .string:
            guard case .string(let s) = value else { throw fail("expected a string, got \(value)") }
            if let m = f.maxLength, s.utf8.count > m { throw fail("string of \(s.utf8.count) bytes exceeds max length \(m)") }
            return value
        case .json:
            if case .vector(let v) = value { return .array(v.map { .double(Double($0)) }) }
            return value
        case .array:
            guard case .array(let items) = value else { throw fail("expected an array, got \(value)") }
            if let cap = f.maxCapacity, items.count > cap { throw fail("array of \(items.count) exceeds capacity \(cap)") }
            let element = FieldSchema(name: f.name, dataType: f.elementType ?? .string, maxLength: f.maxLength)
            return .array(try items.map { try normalize($0, for: element, collection: collection) })
        case .floatVector:
            guard let v = value.vectorValue else { throw fail("expected a float vector, got \(value)") }
            guard v.count == f.dimension else { throw fail("expected \(f.dimension ?? 0) dimensions, got \(v.count)") }
            guard v.allSatisfy(\.isFinite) else { throw fail("vector has a non-finite component") }
            return .vector(v)
        }
    }
}
