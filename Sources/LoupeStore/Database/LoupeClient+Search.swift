import Foundation
import GRDB

extension LoupeClient {
    /// Searches one vector field with one or more query vectors; returns one hit list per query.
    ///
    /// Supports filters, output fields, offset, `ef`, range search (`radius`, `rangeFilter`),
    /// grouping (`groupByField`, `groupSize`) and partitions; see `SearchOptions`.
    public func search(_ collectionName: String, vectors: [[Float]], options: SearchOptions = SearchOptions()) throws
        -> [[SearchHit]]
    {
        let c = try collection(collectionName)
        guard options.limit >= 1, options.offset >= 0, options.groupSize >= 1 else {
            throw StoreError(.invalidArgument, "limit and group size must be at least 1 and offset not negative",
                             collection: collectionName)
        }
        // Milvus's caps: they bound the working memory of one search (use an iterator to go further).
        guard options.limit <= Self.maxTopK, options.offset <= Self.maxTopK - options.limit, options.groupSize <= 1024, (options.ef ?? 0) <= 65536 else {
            throw StoreError(.invalidArgument,
                             "limit + offset must be at most \(Self.maxTopK), group size at most 1024 and ef at most 65536 (use a search iterator for more)",
                             collection: collectionName)
        }
        let field = try c.vectorFieldIndex(options.annsField)
        try checkOutputFields(c, options.outputFields)
        if let g = options.groupByField {
            guard let gf = c.schema.field(g) ?? (c.schema.enableDynamicField ? FieldSchema(name: g, dataType: .json) : nil),
                  !gf.dataType.isVector
            else {
                throw StoreError(.invalidArgument, "cannot group by '\(g)'", collection: collectionName, field: g)
            }
        }
        let allowed = try searchMask(c, filter: options.filter, expression: options.expression,
                                     parameters: options.filterParameters, partitions: options.partitionNames)
        prepareIndex(c, field: field)
        let metric = c.schema.vectorFields[field].metric ?? .cosine
        // Without an `ef`, search as wide as the graph was built (Qdrant's rule): on hard 512-d data,
        // 100k rows, M=16, that is recall@10 0.91 where the former fixed 64 gave 0.68.
        let defaultEf = c.schema.vectorFields[field].index?.efConstruction ?? IndexParams.hnsw.efConstruction
        var out: [[SearchHit]] = []
        for vector in vectors {
            let query = try prepareQuery(c, field: field, vector)
            let wanted = options.limit + options.offset
            var k = options.groupByField == nil && options.radius == nil ? wanted : max(wanted * options.groupSize * 4, 64)
            var picked: [(slot: Int, distance: Float)] = []
            while true {
                let ef = max(options.ef ?? defaultEf, k)
                let found = c.nearest(field: field, query: query, k: k, ef: ef, allowed: allowed,
                                      exactRows: configuration.exactSearchRowLimit,
                                      visitsPerCandidate: configuration.graphVisitsPerCandidate)
                let ranged = found.filter { inRange(score(metric, $0.distance), metric: metric, options) }
                picked = options.groupByField.map { group(c, ranged, by: $0, groups: wanted, size: options.groupSize) } ?? ranged
                let enough = options.groupByField == nil ? picked.count >= wanted : groupCount(c, picked, options.groupByField!) >= wanted
                // Widen until enough hits, or until the search returned everything it could.
                if enough || found.count < k || ranged.count < found.count && options.groupByField == nil { break }
                k *= 4
            }
            if options.groupByField == nil {
                picked = Array(picked.prefix(wanted))
            }
            let skipped = options.groupByField == nil ? Array(picked.dropFirst(options.offset))
                : dropGroups(c, picked, by: options.groupByField!, count: options.offset)
            out.append(try skipped.map { hit in
                SearchHit(id: c.primaryKeys[hit.slot], distance: score(metric, hit.distance),
                          fields: try project(c, slot: hit.slot, outputFields: options.outputFields).filter {
                              $0.key != c.schema.primaryField.name || options.outputFields.contains($0.key)
                          })
            })
        }
        return out
    }

    /// Fuses several searches (vector legs and BM25 keyword legs) into one ranking per query.
    public func hybridSearch(_ collectionName: String, requests: [AnnSearchRequest], ranker: Ranker, limit: Int = 10,
                             outputFields: [String] = [], partitionNames: [String] = []) throws -> [[SearchHit]] {
        let c = try collection(collectionName)
        guard !requests.isEmpty, let queries = requests.first?.queryCount,
              requests.allSatisfy({ $0.queryCount == queries }) else {
            throw StoreError(.invalidArgument, "hybrid search needs requests with the same number of queries",
                             collection: collectionName)
        }
        guard limit >= 1, limit <= Self.maxTopK, requests.allSatisfy({ $0.limit >= 1 && $0.limit <= Self.maxTopK }) else {
            throw StoreError(.invalidArgument, "limits must be in 1...\(Self.maxTopK)", collection: collectionName)
        }
        if case .weighted(let weights, _) = ranker, weights.count != requests.count {
            throw StoreError(.invalidArgument, "\(weights.count) weights for \(requests.count) requests", collection: collectionName)
        }
        var legs: [[[SearchHit]]] = []
        var metrics: [MetricType] = []
        for r in requests {
            switch r.payload {
            case .vectors(let v):
                legs.append(try search(collectionName, vectors: v, options: SearchOptions(
                    annsField: r.field, limit: r.limit, filter: r.filter, ef: r.ef, partitionNames: partitionNames)))
                metrics.append(c.schema.field(r.field)?.metric ?? .cosine)
            case .text(let texts):
                legs.append(try texts.map { try keywordSearch(collectionName, field: r.field, text: $0, limit: r.limit,
                                                              filter: r.filter, partitionNames: partitionNames) })
                metrics.append(.innerProduct)
            }
        }
        return try (0..<queries).map { q in
            var fused: [FieldValue: Double] = [:]
            for (leg, hits) in legs.enumerated() {
                for (rank, hit) in hits[q].enumerated() {
                    let contribution: Double
                    switch ranker {
                    case .rrf(let k): contribution = 1 / (k + Double(rank + 1))
                    case .weighted(let weights, let normalize):
                        let s = Double(hit.distance)
                        let n = !normalize ? s : metrics[leg] == .l2 ? 1 - 2 * atan(s) / .pi : 0.5 + atan(s) / .pi
                        contribution = weights[leg] * n
                    }
                    fused[hit.id, default: 0] += contribution
                }
            }
            let ranked = fused.sorted { $0.value != $1.value ? $0.value > $1.value : "\($0.key)" < "\($1.key)" }.prefix(limit)
            return try ranked.map { id, s in
                let slot = c.slotOfKey[id]!
                return SearchHit(id: id, distance: Float(s), fields: try project(c, slot: slot, outputFields: outputFields)
                    .filter { $0.key != c.schema.primaryField.name || outputFields.contains($0.key) })
            }
        }
    }

    /// BM25 keyword search over a string field created with `enableKeywordSearch` (SQLite FTS5).
    /// Words of `text` are matched with OR; `distance` is the BM25 relevance (higher is better). Hits carry
    /// `outputFields` (none by default).
    public func keywordSearch(_ collectionName: String, field: String, text: String, limit: Int = 10, filter: String = "",
                              partitionNames: [String] = [], outputFields: [String] = []) throws -> [SearchHit] {
        let c = try collection(collectionName)
        guard let f = c.schema.field(field), f.enableKeywordSearch else {
            throw StoreError(.invalidArgument, "keyword search is not enabled on this field", collection: collectionName,
                             field: field)
        }
        guard limit >= 1, limit <= Self.maxTopK else {
            throw StoreError(.invalidArgument, "limit must be in 1...\(Self.maxTopK)", collection: collectionName)
        }
        let terms = text.lowercased().split { !$0.isLetter && !$0.isNumber }.map { "\"\($0)\"" }
        guard !terms.isEmpty else { return [] }
        let allowed = try searchMask(c, filter: filter, parameters: [:], partitions: partitionNames)
        let table = SQLiteStore.keywordTable(c.id, field: field)
        let rows = try sqlite.read { db in
            try GRDB.Row.fetchAll(db, sql: "SELECT rowid, bm25(\(table)) AS rank FROM \(table) WHERE \(table) MATCH ? ORDER BY rank",
                                  arguments: [terms.joined(separator: " OR ")])
        }
        var hits: [SearchHit] = []
        for r in rows {
            let rid: Int64 = r["rowid"]
            guard let slot = slot(c, rid: rid), c.live[slot], allowed?.contains(slot) ?? true else { continue }
            let rank: Double = r["rank"]
            let fields = outputFields.isEmpty ? [:] : try project(c, slot: slot, outputFields: outputFields)
                .filter { $0.key != c.schema.primaryField.name || outputFields.contains($0.key) }
            hits.append(SearchHit(id: c.primaryKeys[slot], distance: Float(-rank), fields: fields))
            if hits.count >= limit { break }
        }
        return hits
    }

    // MARK: - Internals

    /// The most hits one search returns, as in Milvus.
    static let maxTopK = 16384

    func slot(_ c: CollectionState, rid: Int64) -> Int? {
        var lo = 0, hi = c.rids.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if c.rids[mid] < rid { lo = mid + 1 } else { hi = mid }
        }
        return lo < c.rids.count && c.rids[lo] == rid ? lo : nil
    }

    /// The filter/partition mask, or nil when every live row qualifies and none is dead.
    func searchMask(_ c: CollectionState, filter: String, expression: FilterExpression? = nil,
                    parameters: [String: FieldValue], partitions: [String]) throws -> LabelBitset? {
        let empty = filter.trimmingCharacters(in: .whitespaces).isEmpty && expression == nil && partitions.isEmpty
        if empty && c.liveCount == c.slotCount && !c.orphanNodes.contains(where: { $0 > 0 }) { return nil }
        return try matchingSlots(c, filter: filter, expression: expression, parameters: parameters, partitions: partitions)
    }

    func prepareQuery(_ c: CollectionState, field: Int, _ vector: [Float]) throws -> [Float] {
        let f = c.schema.vectorFields[field]
        guard vector.count == f.dimension else {
            throw StoreError(.invalidArgument, "query has \(vector.count) dimensions, expected \(f.dimension!)",
                             collection: c.name, field: f.name)
        }
        guard vector.allSatisfy(\.isFinite) else {
            throw StoreError(.invalidArgument, "query has a non-finite component", collection: c.name, field: f.name)
        }
        var q = vector
        if f.metric == .cosine { normalizeInPlace(&q) }
        return q
    }

    func score(_ metric: MetricType, _ distance: Float) -> Float { metric == .l2 ? distance : -distance }

    func inRange(_ score: Float, metric: MetricType, _ o: SearchOptions) -> Bool {
        if metric == .l2 {
            if let r = o.radius, !(score < r) { return false }
            if let f = o.rangeFilter, !(score >= f) { return false }
        } else {
            if let r = o.radius, !(score > r) { return false }
            if let f = o.rangeFilter, !(score <= f) { return false }
        }
        return true
    }

    /// The group-by value of a slot. Selections are cached per field name: this runs once per candidate.
    func groupKey(_ c: CollectionState, _ slot: Int, _ field: String) -> FieldValue {
        c.documents.fields(c.documents.selection(field), of: slot)[field] ?? .null
    }

    func group(_ c: CollectionState, _ hits: [(slot: Int, distance: Float)], by field: String, groups: Int,
               size: Int) -> [(slot: Int, distance: Float)] {
        GroupBy.take(hits, groups: groups, size: size) { groupKey(c, $0.slot, field) }
    }

    func groupCount(_ c: CollectionState, _ hits: [(slot: Int, distance: Float)], _ field: String) -> Int {
        Set(hits.map { groupKey(c, $0.slot, field) }).count
    }

    /// Removes the hits of the first `count` groups (offset counts groups when grouping, as in Milvus).
    func dropGroups(_ c: CollectionState, _ hits: [(slot: Int, distance: Float)], by field: String,
                    count: Int) -> [(slot: Int, distance: Float)] {
        guard count > 0 else { return hits }
        var order: [FieldValue] = []
        for h in hits where !order.contains(groupKey(c, h.slot, field)) { order.append(groupKey(c, h.slot, field)) }
        let dropped = Set(order.prefix(count))
        return hits.filter { !dropped.contains(groupKey(c, $0.slot, field)) }
    }
}
