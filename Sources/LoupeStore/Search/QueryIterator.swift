/// Pages through every row matching a filter, `batchSize` at a time, past any limit.
///
/// ```swift
/// var it = await client.queryIterator("photos", filter: "year > 2020", batchSize: 500)
/// while case let batch = try await it.next(), !batch.isEmpty { ... }
/// ```
/// Rows come in insertion order; each batch continues after the last primary key returned, so rows
/// deleted meanwhile are skipped and rows inserted meanwhile are included.
public struct QueryIterator: Sendable {
    let client: LoupeClient
    let collection: String
    let filter: String
    let outputFields: [String]
    let batchSize: Int
    var cursor = 0
    var returned = 0
    let limit: Int?

    /// The next batch; empty when there are no more rows.
    public mutating func next() async throws -> [Row] {
        let remaining = limit.map { $0 - returned } ?? batchSize
        guard remaining > 0 else { return [] }
        let (rows, nextCursor) = try await client.queryPage(collection, filter: filter, outputFields: outputFields,
                                                           after: cursor, count: min(batchSize, remaining))
        cursor = nextCursor
        returned += rows.count
        return rows
    }
}

/// Pages through search hits in order of closeness, `batchSize` at a time, past any limit.
public struct SearchIterator: Sendable {
    let client: LoupeClient
    let collection: String
    let vector: [Float]
    var options: SearchOptions
    let batchSize: Int
    var seen: Set<FieldValue> = []
    var exhausted = false

    /// The next batch of hits; empty when there are no more.
    public mutating func next() async throws -> [SearchHit] {
        guard !exhausted else { return [] }
        // One search tops out at Milvus's 16,384 hits; the iterator ends there.
        options.limit = min(seen.count + batchSize, LoupeClient.maxTopK)
        if options.limit <= seen.count {
            exhausted = true
            return []
        }
        options.offset = 0
        options.ef = max(options.ef ?? 64, options.limit)
        let hits = try await client.search(collection, vectors: [vector], options: options)[0]
        let fresh = hits.filter { !seen.contains($0.id) }.prefix(batchSize)
        if hits.count < options.limit { exhausted = true }
        for h in fresh { seen.insert(h.id) }
        if fresh.isEmpty { exhausted = true }
        return Array(fresh)
    }
}

extension LoupeClient {
    /// An iterator over the rows matching `filter`, in batches.
    public func queryIterator(_ collectionName: String, filter: String = "", outputFields: [String] = ["*"],
                              batchSize: Int = 1000, limit: Int? = nil) throws -> QueryIterator {
        _ = try collection(collectionName)
        guard batchSize >= 1 else { throw StoreError(.invalidArgument, "batch size must be at least 1", collection: collectionName) }
        return QueryIterator(client: self, collection: collectionName, filter: filter, outputFields: outputFields,
                             batchSize: batchSize, limit: limit)
    }

    /// An iterator over search hits for one query vector, in batches, closest first.
    public func searchIterator(_ collectionName: String, vector: [Float], options: SearchOptions = SearchOptions(),
                               batchSize: Int = 100) throws -> SearchIterator {
        _ = try collection(collectionName)
        guard batchSize >= 1 else { throw StoreError(.invalidArgument, "batch size must be at least 1", collection: collectionName) }
        guard options.groupByField == nil else {
            throw StoreError(.invalidArgument, "search iterators do not group", collection: collectionName)
        }
        return SearchIterator(client: self, collection: collectionName, vector: vector, options: options, batchSize: batchSize)
    }

    /// Up to `count` matching rows at slots after `after` (a cursor: the rid past the last row returned).
    func queryPage(_ collectionName: String, filter: String, outputFields: [String], after: Int,
                   count: Int) throws -> ([Row], Int) {
        let c = try collection(collectionName)
        let allowed = try matchingSlots(c, filter: filter, parameters: [:], partitions: [])
        var rows: [Row] = []
        var cursor = after
        let start = c.rids.firstIndex { $0 > Int64(after) } ?? c.slotCount
        for slot in start..<c.slotCount where allowed.contains(slot) {
            rows.append(try project(c, slot: slot, outputFields: outputFields))
            cursor = Int(c.rids[slot])
            if rows.count >= count { break }
        }
        return (rows, cursor)
    }
}
