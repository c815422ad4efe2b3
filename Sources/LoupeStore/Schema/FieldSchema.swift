/// One field of a collection (Milvus `FieldSchema`).
public struct FieldSchema: Sendable, Hashable, Codable {
    public var name: String
    public var dataType: DataType
    /// Whether this is the primary key (int64 or string).
    public var isPrimary: Bool
    /// Primary keys are assigned on insert: 1, 2, 3... (for a string key, their decimal text, as in Milvus).
    public var autoID: Bool
    /// Whether the field may be null (missing on insert means null unless there is a default).
    public var nullable: Bool
    /// The value used when a row leaves the field out.
    public var defaultValue: FieldValue?
    /// For strings: the longest allowed value, in UTF-8 bytes.
    public var maxLength: Int?
    /// For arrays: the element type (bool, int64, double or string).
    public var elementType: DataType?
    /// For arrays: the most elements allowed.
    public var maxCapacity: Int?
    /// For vectors: the dimension.
    public var dimension: Int?
    /// For vectors: how they are compared.
    public var metric: MetricType?
    /// For vectors: the index.
    public var index: IndexParams?
    /// For strings: keep a BM25 keyword index (SQLite FTS5) over this field.
    public var enableKeywordSearch: Bool
    /// For keyword-searchable strings: the name a Milvus BM25 function gives this field's sparse output
    /// (searches name it as their vector field, and describe lists it), and the function's name. LoupeStore
    /// keeps no sparse vectors: the output is the field's keyword index.
    public var keywordOutput: KeywordOutput?
    /// For vectors: the field and embedder the vector is computed from when a row leaves it out (see
    /// `VectorSource`). Nil for vectors callers always supply.
    public var source: VectorSource?

    public init(name: String, dataType: DataType, isPrimary: Bool = false, autoID: Bool = false,
                nullable: Bool = false, defaultValue: FieldValue? = nil, maxLength: Int? = nil,
                elementType: DataType? = nil, maxCapacity: Int? = nil, dimension: Int? = nil,
                metric: MetricType? = nil, index: IndexParams? = nil, enableKeywordSearch: Bool = false,
                source: VectorSource? = nil) {
        self.name = name
        self.dataType = dataType
        self.isPrimary = isPrimary
        self.autoID = autoID
        self.nullable = nullable
        self.defaultValue = defaultValue
        self.maxLength = maxLength
        self.elementType = elementType
        self.maxCapacity = maxCapacity
        self.dimension = dimension
        self.metric = metric
        self.index = index
        self.enableKeywordSearch = enableKeywordSearch
        self.source = source
    }

    /// An int64 primary key, assigned on insert when `autoID` is true.
    public static func int64Primary(_ name: String = "id", autoID: Bool = false) -> FieldSchema {
        FieldSchema(name: name, dataType: .int64, isPrimary: true, autoID: autoID)
    }
    /// A string primary key.
    public static func stringPrimary(_ name: String = "id", maxLength: Int = 512) -> FieldSchema {
        FieldSchema(name: name, dataType: .string, isPrimary: true, maxLength: maxLength)
    }
    /// A float vector field.
    /// With `source`, rows may leave it out and Loupe's `TableClient` computes it from the source field.
    public static func vector(_ name: String = "vector", dimension: Int, metric: MetricType = .cosine,
                              index: IndexParams = .hnsw, source: VectorSource? = nil) -> FieldSchema {
        FieldSchema(name: name, dataType: .floatVector, dimension: dimension, metric: metric, index: index, source: source)
    }
    /// A scalar field.
    public static func scalar(_ name: String, _ type: DataType, nullable: Bool = false,
                              defaultValue: FieldValue? = nil, maxLength: Int? = nil) -> FieldSchema {
        FieldSchema(name: name, dataType: type, nullable: nullable, defaultValue: defaultValue, maxLength: maxLength)
    }
    /// An array field of `elementType` with at most `maxCapacity` elements.
    public static func array(_ name: String, of elementType: DataType, maxCapacity: Int = 4096,
                             nullable: Bool = false) -> FieldSchema {
        FieldSchema(name: name, dataType: .array, nullable: nullable, elementType: elementType, maxCapacity: maxCapacity)
    }
}

/// A BM25 function's output over a keyword-searchable string field (see `FieldSchema.keywordOutput`).
public struct KeywordOutput: Sendable, Hashable, Codable {
    /// The output field's name.
    public var field: String
    /// The function's name.
    public var function: String

    public init(field: String, function: String) {
        self.field = field
        self.function = function
    }
}

extension FieldValue: Codable {
    public init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        let text = try c.decode(String.self)
        self = try JSONText.decode(text)
    }
    public func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(JSONText.encode(self))
    }
}
