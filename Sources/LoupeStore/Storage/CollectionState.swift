import CLoupeSIMD
import Foundation
import GRDB

/// A collection held in memory: every row in a dense array of slots (in rid order), the fp32 vectors
/// of each vector field (unit length for COSINE), and the HNSW graphs over them.
///
/// SQLite is the source of truth; this mirror is rebuilt from it on open. A deleted row keeps its slot
/// (marked dead) until the collection is reopened, so graph labels (slots) stay valid.
final class CollectionState: @unchecked Sendable {
    let id: Int64
    var name: String
    let schema: CollectionSchema
    var changeSeq: Int64
    var nextAutoID: Int64
    var partitions: Set<String>

    var rids: [Int64] = []
    var primaryKeys: [FieldValue] = []
    var partitionOf: [String] = []
    var documents: [Row] = []
    var live: [Bool] = []
    var liveCount = 0
    var slotOfKey: [FieldValue: Int] = [:]
    /// Per vector field (declaration order): slots * dimension floats.
    var vectors: [[Float]]
    /// Per vector field: the graph (nil for FLAT) and how many slots it covers.
    var graphs: [HNSWIndex?]
    var indexedSlots: [Int]
    var scratch: [SearchScratch]
    /// Per vector field: graph nodes whose row was deleted before the graph was loaded (label -1).
    var orphanNodes: [Int]
    /// Per vector field: the change sequence the index file on disk reflects.
    var savedSeq: [Int64]
    /// The largest rid SQLite has ever assigned in this collection (an index file claiming more is stale).
    var maxRidEver: Int64 = 0
    /// Filter bitsets by (filter, partitions), valid for one change sequence.
    var bitsetCache: [String: LabelBitset] = [:]
    var bitsetCacheSeq: Int64 = -1

    init(id: Int64, name: String, schema: CollectionSchema, changeSeq: Int64, nextAutoID: Int64, partitions: [String]) {
        self.id = id
        self.name = name
        self.schema = schema
        self.changeSeq = changeSeq
        self.nextAutoID = nextAutoID
        self.partitions = Set(partitions)
        let vectorFields = schema.vectorFields
        vectors = vectorFields.map { _ in [] }
        graphs = vectorFields.map { f in
            guard let ix = f.index, ix.kind == .hnsw else { return nil }
            return HNSWIndex(dimension: f.dimension!, metric: f.metric ?? .cosine, storage: ix.storage, m: ix.m,
                             efConstruction: ix.efConstruction)
        }
        indexedSlots = vectorFields.map { _ in 0 }
        scratch = vectorFields.map { SearchScratch(dimension: $0.dimension!, capacity: 1) }
        orphanNodes = vectorFields.map { _ in 0 }
        savedSeq = vectorFields.map { _ in -1 }
    }

    var slotCount: Int { rids.count }

    /// Index of the vector field `name` in declaration order.
    func vectorFieldIndex(_ name: String?) throws -> Int {
        let fields = schema.vectorFields
        guard let name else {
            guard fields.count == 1 else {
                throw StoreError(.invalidArgument, "the collection has \(fields.count) vector fields: name one (anns field)",
                                 collection: self.name)
            }
            return 0
        }
        guard let i = fields.firstIndex(where: { $0.name == name }) else {
            throw StoreError(.notFound, "no vector field named '\(name)'", collection: self.name, field: name)
        }
        return i
    }

    /// Appends a row to memory (after it was committed to SQLite).
    func append(rid: Int64, key: FieldValue, partition: String, document: Row, vectors rowVectors: [[Float]]) {
        let slot = rids.count
        rids.append(rid)
        maxRidEver = max(maxRidEver, rid)
        primaryKeys.append(key)
        partitionOf.append(partition)
        documents.append(document)
        live.append(true)
        liveCount += 1
        slotOfKey[key] = slot
        for (i, f) in schema.vectorFields.enumerated() {
            var v = rowVectors[i]
            if f.metric == .cosine { normalizeInPlace(&v) }
            vectors[i].append(contentsOf: v)
        }
    }

    /// Marks the row with `key` dead; returns whether it was live.
    @discardableResult
    func remove(key: FieldValue) -> Bool {
        guard let slot = slotOfKey[key], live[slot] else { return false }
        live[slot] = false
        liveCount -= 1
        slotOfKey[key] = nil
        return true
    }

    /// Loads every row of the collection from SQLite, in rid order.
    func load(from db: Database) throws {
        let vectorFields = schema.vectorFields
        let columns = (["rid", "pk", "partition", "doc"] + vectorFields.indices.map { "v\($0)" }).joined(separator: ", ")
        let cursor = try GRDB.Row.fetchCursor(db, sql: "SELECT \(columns) FROM \(SQLiteStore.rowsTable(id)) ORDER BY rid")
        let keyIsInt = schema.primaryField.dataType == .int64
        while let r = try cursor.next() {
            // Throwing reads: a damaged database gives an error here, not GRDB's fatal conversion failure.
            let key: FieldValue = keyIsInt ? .int(try r.decode(Int64.self, forColumn: "pk")) : .string(try r.decode(String.self, forColumn: "pk"))
            let docText = try r.decode(String.self, forColumn: "doc")
            guard case .object(let doc) = try JSONText.decode(docText) else {
                throw StoreError(.storage, "row document is not a JSON object", collection: name)
            }
            var rowVectors: [[Float]] = []
            for (i, f) in vectorFields.enumerated() {
                let data = try r.decode(Data.self, forColumn: "v\(i)")
                guard data.count == f.dimension! * 4 else {
                    throw StoreError(.storage, "stored vector has \(data.count) bytes, expected \(f.dimension! * 4)",
                                     collection: name, field: f.name)
                }
                rowVectors.append(data.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) })
            }
            append(rid: try r.decode(Int64.self, forColumn: "rid"), key: key, partition: try r.decode(String.self, forColumn: "partition"),
                   document: doc, vectors: rowVectors)
        }
        maxRidEver = try Int64.fetchOne(db, sql: "SELECT seq FROM sqlite_sequence WHERE name = ?",
                                        arguments: [SQLiteStore.rowsTable(id)]) ?? 0
    }

    /// Pointer to the stored (normalised for COSINE) vector of `slot` in field `field`.
    @inline(__always)
    func vectorPointer(field: Int, slot: Int) -> UnsafePointer<Float> {
        let dim = schema.vectorFields[field].dimension!
        return vectors[field].withUnsafeBufferPointer { $0.baseAddress! + slot * dim }
    }

    /// Brings the graph of `field` up to date with every slot (new rows since the last build).
    func catchUpIndex(field: Int, threads: Int) {
        guard let graph = graphs[field] else { return }
        let from = indexedSlots[field]
        let to = slotCount
        guard to > from else { return }
        let dim = schema.vectorFields[field].dimension!
        vectors[field].withUnsafeBufferPointer { b in
            graph.add(b.baseAddress! + from * dim, labels: (from..<to).map { Int64($0) }, threads: threads)
        }
        indexedSlots[field] = to
    }
}
