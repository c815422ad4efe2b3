/// Parameters of `search` (Milvus's `search` keyword arguments).
///
/// ```swift
/// var options = SearchOptions(limit: 5, filter: "kind == 'video'", outputFields: ["path"])
/// options.groupByField = "video_id"; options.groupSize = 2
/// ```
public struct SearchOptions: Sendable, Hashable {
    /// The vector field to search; may be left out when the collection has one.
    public var annsField: String?
    /// Hits per query (for group-by: groups per query).
    public var limit: Int
    /// Hits to skip first.
    public var offset: Int
    /// A filter expression (Milvus syntax); empty means every row.
    public var filter: String
    /// Values of `{name}` template parameters in `filter`.
    public var filterParameters: [String: FieldValue]
    /// A filter built in code (`FilterExpression.equals("kind", "video")`), combined with `filter` by `and`.
    public var expression: FilterExpression? = nil
    /// Fields to return with each hit (`*` for all scalar and dynamic fields).
    public var outputFields: [String]
    /// HNSW candidate list size (default: the field's efConstruction, at least limit + offset).
    public var ef: Int?
    /// Range search: hits must be farther than this bound (similarity above it for COSINE/IP, distance below it for L2).
    public var radius: Float?
    /// Range search: hits must be no closer than this bound (similarity at most it for COSINE/IP, distance at least it for L2).
    public var rangeFilter: Float?
    /// Return at most `groupSize` hits per distinct value of this scalar field, `limit` groups in all.
    public var groupByField: String?
    /// Hits per group when grouping.
    public var groupSize: Int
    /// Partitions to search (all when empty).
    public var partitionNames: [String]

    public init(annsField: String? = nil, limit: Int = 10, offset: Int = 0, filter: String = "",
                filterParameters: [String: FieldValue] = [:], outputFields: [String] = [], ef: Int? = nil,
                radius: Float? = nil, rangeFilter: Float? = nil, groupByField: String? = nil, groupSize: Int = 1,
                partitionNames: [String] = []) {
        self.annsField = annsField
        self.limit = limit
        self.offset = offset
        self.filter = filter
        self.filterParameters = filterParameters
        self.outputFields = outputFields
        self.ef = ef
        self.radius = radius
        self.rangeFilter = rangeFilter
        self.groupByField = groupByField
        self.groupSize = groupSize
        self.partitionNames = partitionNames
    }
}

/// One result of a search.
public struct SearchHit: Sendable, Hashable {
    /// The primary key.
    public var id: FieldValue
    /// Milvus's "distance": similarity for COSINE and IP (higher is closer), squared distance for L2,
    /// BM25 relevance for keyword search, the fused score for hybrid search.
    public var distance: Float
    /// The requested output fields.
    public var fields: Row

    public init(id: FieldValue, distance: Float, fields: Row) {
        self.id = id
        self.distance = distance
        self.fields = fields
    }
}

/// One leg of a hybrid search: vectors against a vector field, or text against a keyword (BM25) field.
public struct AnnSearchRequest: Sendable, Hashable {
    public enum Payload: Sendable, Hashable {
        case vectors([[Float]])
        case text([String])
    }
    public var payload: Payload
    /// The vector field, or the string field with keyword search enabled.
    public var field: String
    /// Hits this leg contributes per query before fusion.
    public var limit: Int
    public var filter: String
    public var ef: Int?

    /// A vector leg.
    public init(vectors: [[Float]], field: String, limit: Int = 10, filter: String = "", ef: Int? = nil) {
        payload = .vectors(vectors)
        self.field = field
        self.limit = limit
        self.filter = filter
        self.ef = ef
    }

    /// A keyword leg, scored with BM25 over the field's FTS5 index.
    public init(text: [String], field: String, limit: Int = 10, filter: String = "") {
        payload = .text(text)
        self.field = field
        self.limit = limit
        self.filter = filter
        self.ef = nil
    }

    package var queryCount: Int {
        switch payload {
        case .vectors(let v): return v.count
        case .text(let t): return t.count
        }
    }
}

/// How a hybrid search fuses its legs.
public enum Ranker: Sendable, Hashable {
    /// Reciprocal rank fusion: each leg adds 1 / (k + rank), rank counted from 1.
    case rrf(k: Double = 60)
    /// Weighted sum of scores, one weight per leg. With `normalizeScores`, each score is first mapped
    /// to [0, 1] with Milvus's arctan normalisation (similarities up, distances down).
    case weighted([Double], normalizeScores: Bool = true)
}

/// Milvus's group-by rule, shared by every store that searches with `groupByField`.
public enum GroupBy {
    /// `hits` (in score order) keeping at most `size` per key and `groups` keys in all.
    public static func take<Hit>(_ hits: [Hit], groups: Int, size: Int, key: (Hit) -> FieldValue) -> [Hit] {
        var taken: [FieldValue: Int] = [:]
        var out: [Hit] = []
        for hit in hits {
            let k = key(hit)
            if let n = taken[k] {
                guard n < size else { continue }
                taken[k] = n + 1
            } else {
                guard taken.count < groups else { continue }
                taken[k] = 1
            }
            out.append(hit)
        }
        return out
    }
}
