/// The type of a field, as in Milvus's `DataType`.
public enum DataType: String, Sendable, Hashable, Codable, CaseIterable {
    case bool, int64, double, string, json, array
    /// A dense float vector; its dimension, metric and storage are on the field.
    case floatVector = "float_vector"

    var isVector: Bool { self == .floatVector }
}

/// How vectors are compared. Scores: COSINE and IP are similarities (higher is closer), L2 is the
/// squared Euclidean distance (lower is closer), as in Milvus.
public enum MetricType: String, Sendable, Hashable, Codable, CaseIterable {
    case cosine = "COSINE"
    case innerProduct = "IP"
    case l2 = "L2"

    /// Whether a larger score means a closer match.
    public var higherIsCloser: Bool { self != .l2 }
}

/// How an index keeps vectors in memory. Quantized forms are traversed and then re-ranked with exact fp32.
public enum VectorStorage: String, Sendable, Hashable, Codable, CaseIterable {
    case fp32, bf16, int8

    /// Bytes one vector component takes.
    public var bytesPerComponent: Int {
        switch self {
        case .fp32: return 4
        case .bf16: return 2
        case .int8: return 1
        }
    }
}

/// The index kind of a vector field.
public enum IndexKind: String, Sendable, Hashable, Codable {
    /// Exact search over every vector.
    case flat = "FLAT"
    /// Hierarchical navigable small-world graph.
    case hnsw = "HNSW"
}

/// Index parameters of one vector field (Milvus `index_params`).
public struct IndexParams: Sendable, Hashable, Codable {
    public var kind: IndexKind
    /// HNSW: neighbours per node on upper layers (twice this on layer 0).
    public var m: Int
    /// HNSW: candidate list size while building.
    public var efConstruction: Int
    /// How vectors are held in memory for traversal.
    public var storage: VectorStorage

    public init(kind: IndexKind = .hnsw, m: Int = 16, efConstruction: Int = 200, storage: VectorStorage = .fp32) {
        self.kind = kind
        self.m = m
        self.efConstruction = efConstruction
        self.storage = storage
    }

    /// Exact search.
    public static let flat = IndexParams(kind: .flat)
    /// HNSW with M=16, efConstruction=200.
    public static let hnsw = IndexParams(kind: .hnsw)
}
