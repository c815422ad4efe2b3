import LoupeStore

/// How fresh reads must be (Milvus's consistency levels).
public enum MilvusConsistency: String, Sendable, Hashable, CaseIterable {
    /// Every write acknowledged before the read is visible (the server waits for it).
    case strong
    /// This client's own writes are visible (it sends the timestamp of its last write to the collection).
    case session
    /// Writes older than the server's staleness bound (a few seconds) are visible.
    case bounded
    /// No wait at all.
    case eventually

    var proto: Milvus_Proto_Common_ConsistencyLevel {
        switch self {
        case .strong: return .strong
        case .session: return .session
        case .bounded: return .bounded
        case .eventually: return .eventually
        }
    }

    init(_ proto: Milvus_Proto_Common_ConsistencyLevel) {
        switch proto {
        case .strong: self = .strong
        case .session: self = .session
        case .eventually: self = .eventually
        default: self = .bounded
        }
    }
}

/// A collection as the server describes it.
public struct MilvusCollectionDescription: Sendable {
    public var name: String
    /// The fields, in LoupeStore's terms (Milvus's int8/16/32 read as int64, float as double). Vector
    /// fields carry their dimension; metric and index are on the index (`describeIndex`).
    public var schema: CollectionSchema
    /// Milvus's own type name of each field (`Int32`, `VarChar`, `FloatVector`), by field name.
    public var milvusTypes: [String: String]
    public var collectionID: Int64
    public var shards: Int
    public var consistency: MilvusConsistency
    /// The collection's properties (milvus-lite keeps these but not the description).
    public var properties: [String: String] = [:]
}

/// A vector index to build (Milvus `CreateIndex` parameters).
public struct MilvusIndex: Sendable, Hashable {
    public enum Kind: Sendable, Hashable {
        /// Hierarchical navigable small-world graph.
        case hnsw(m: Int = 16, efConstruction: Int = 200)
        /// Let the server pick (Milvus 2.2.9+ and Zilliz Cloud).
        case autoIndex
        /// Exact search.
        case flat
    }

    public var kind: Kind
    public var metric: MetricType

    public init(_ kind: Kind, metric: MetricType = .cosine) {
        self.kind = kind
        self.metric = metric
    }

    /// The index LoupeStore describes on a vector field (HNSW with its M and efConstruction, or flat).
    public init(_ field: FieldSchema) {
        let params = field.index ?? .hnsw
        kind = params.kind == .hnsw ? .hnsw(m: params.m, efConstruction: params.efConstruction) : .flat
        metric = field.metric ?? .cosine
    }

    var typeName: String {
        switch kind {
        case .hnsw: return "HNSW"
        case .autoIndex: return "AUTOINDEX"
        case .flat: return "FLAT"
        }
    }

    var params: [String: FieldValue] {
        switch kind {
        case .hnsw(let m, let ef): return ["M": .int(Int64(m)), "efConstruction": .int(Int64(ef))]
        case .autoIndex, .flat: return [:]
        }
    }
}

/// An index as the server describes it.
public struct MilvusIndexDescription: Sendable, Hashable {
    public var name: String
    public var field: String
    /// `index_type` (`HNSW`, `AUTOINDEX`, ...).
    public var type: String
    /// `metric_type` (`COSINE`, `IP`, `L2`).
    public var metric: String
    /// All parameters as the server lists them (`M`, `efConstruction`, `params` JSON, ...).
    public var params: [String: String]
    public var indexedRows: Int64
    public var totalRows: Int64
    public var pendingRows: Int64
    /// `Finished`, `InProgress`, `Failed`, ...
    public var state: String
    public var failReason: String
}

/// Whether a collection is in memory for search and query.
public enum MilvusLoadState: String, Sendable, Hashable {
    case notExist, notLoaded, loading, loaded
}

/// What an insert, upsert or delete did.
public struct MilvusMutationResult: Sendable, Hashable {
    /// The primary keys written (assigned ones for auto id) or deleted (when the server lists them).
    public var ids: [FieldValue]
    public var insertCount: Int64
    public var upsertCount: Int64
    public var deleteCount: Int64
    /// The server's timestamp of the write (what `.session` reads wait for).
    public var timestamp: UInt64
}
