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
    var documents = DocumentColumn()
    var live: [Bool] = []
    var liveCount = 0
    var slotOfKey: [FieldValue: Int] = [:]
    /// Per vector field (declaration order): slots * dimension floats.
    var vectors: [VectorColumn]
    /// Per vector field: the graph (nil for FLAT) and how many slots it covers.
    var graphs: [HNSWIndex?]
    var indexedSlots: [Int]
    var scratch: [SearchScratch]
    /// Per vector field: graph nodes whose row was deleted before the graph was loaded (label -1).
    var orphanNodes: [Int]
    /// Per vector field: the change sequence the index file on disk reflects.
    var savedSeq: [Int64]
    /// The change sequence the row file on disk reflects.
    var rowFileSeq: Int64 = -1
    /// Where the mirror came from when the collection was opened.
    var openedFrom = OpenedFrom.sqlite

    enum OpenedFrom: Equatable {
        /// Every row read from SQLite.
        case sqlite
        /// The row file, which was current.
        case rowFile
        /// The row file, then the rows committed after it from SQLite.
        case rowFileAndSQLite
    }
    /// The largest rid SQLite has ever assigned in this collection (an index file claiming more is stale).
    var maxRidEver: Int64 = 0
    /// Filter bitsets by (filter, partitions), valid for one change sequence.
    var bitsetCache: [MaskKey: LabelBitset] = [:]
    var bitsetCacheSeq: Int64 = -1

    init(id: Int64, name: String, schema: CollectionSchema, changeSeq: Int64, nextAutoID: Int64, partitions: [String]) {
        self.id = id
        self.name = name
        self.schema = schema
        self.changeSeq = changeSeq
        self.nextAutoID = nextAutoID
        self.partitions = Set(partitions)
        let vectorFields = schema.vectorFields
        vectors = vectorFields.map { _ in VectorColumn() }
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

    /// The dimension of vector field `field`.
    func dimension(_ field: Int) -> Int { schema.vectorFields[field].dimension! }

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
        appendSlot(rid: rid, key: key, partition: partition, document: document)
        for (i, f) in schema.vectorFields.enumerated() {
            var v = rowVectors[i]
            if f.metric == .cosine { normalizeInPlace(&v) }
            vectors[i].append(contentsOf: v)
        }
    }

    /// Appends a row's bookkeeping; its vectors go to `vectors` separately.
    private func appendSlot(rid: Int64, key: FieldValue, partition: String, document: Row?) {
        let slot = rids.count
        rids.append(rid)
        maxRidEver = max(maxRidEver, rid)
        primaryKeys.append(key)
        partitionOf.append(partition)
        if let document { documents.append(document) }
        live.append(true)
        liveCount += 1
        slotOfKey[key] = slot
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

    /// Loads the rows of the collection from SQLite in rid order: every row, or those after `afterRid`.
    ///
    /// Opening a large library is mostly this: vectors are copied straight from SQLite's buffers into
    /// place, and the JSON documents are decoded on every core.
    func load(from db: Database, afterRid: Int64 = 0) throws {
        let loaded = vectors.map(\.count)
        do {
            try loadRows(from: db, afterRid: afterRid)
        } catch {
            // Leave the mirror as it was: no vector without its row.
            for i in vectors.indices { vectors[i].truncate(to: loaded[i]) }
            throw error
        }
    }

    private func loadRows(from db: Database, afterRid: Int64) throws {
        let vectorFields = schema.vectorFields
        let columns = (["rid", "pk", "partition", "doc"] + vectorFields.indices.map { "v\($0)" }).joined(separator: ", ")
        let cursor = try GRDB.Row.fetchCursor(
            db, sql: "SELECT \(columns) FROM \(SQLiteStore.rowsTable(id)) WHERE rid > ? ORDER BY rid", arguments: [afterRid])
        let keyIsInt = schema.primaryField.dataType == .int64
        let firstSlot = rids.count
        var texts: [String] = []
        var keys: [FieldValue] = []
        var newRids: [Int64] = []
        var newPartitions: [String] = []
        while let r = try cursor.next() {
            // Throwing reads: a damaged database gives an error here, not GRDB's fatal conversion failure.
            newRids.append(try r.decode(Int64.self, forColumn: "rid"))
            keys.append(keyIsInt ? .int(try r.decode(Int64.self, forColumn: "pk")) : .string(try r.decode(String.self, forColumn: "pk")))
            newPartitions.append(try r.decode(String.self, forColumn: "partition"))
            texts.append(try r.decode(String.self, forColumn: "doc"))
            for (i, f) in vectorFields.enumerated() {
                let dimension = f.dimension!
                let data = try r.decode(Data.self, forColumn: "v\(i)")
                guard data.count == dimension * 4 else {
                    throw StoreError(.storage, "stored vector has \(data.count) bytes, expected \(dimension * 4)",
                                     collection: name, field: f.name)
                }
                data.withUnsafeBytes { vectors[i].append(contentsOf: $0.bindMemory(to: Float.self)) }
                if f.metric == .cosine {
                    let start = (firstSlot + keys.count - 1) * dimension
                    vectors[i].withUnsafeMutableBufferPointer { all in normalizeInPlace(all.baseAddress! + start, dimension) }
                }
            }
        }
        let documents = try Self.decodeDocuments(texts, collection: name)
        for index in keys.indices {
            appendSlot(rid: newRids[index], key: keys[index], partition: newPartitions[index], document: documents[index])
        }
        maxRidEver = try Int64.fetchOne(db, sql: "SELECT seq FROM sqlite_sequence WHERE name = ?",
                                        arguments: [SQLiteStore.rowsTable(id)]) ?? 0
    }

    /// Installs a row file's snapshot into an empty mirror (its documents stay encoded until used).
    func install(_ snapshot: RowFile.Snapshot) {
        precondition(rids.isEmpty, "a snapshot goes into an empty mirror")
        let count = snapshot.rids.count
        rids.reserveCapacity(count)
        primaryKeys.reserveCapacity(count)
        partitionOf.reserveCapacity(count)
        live.reserveCapacity(count)
        slotOfKey.reserveCapacity(count)
        documents.appendEncoded(snapshot.documents, ends: snapshot.documentEnds)
        for i in 0..<count {
            appendSlot(rid: snapshot.rids[i], key: snapshot.keys[i], partition: snapshot.partitionNames[Int(snapshot.partitionOfRow[i])],
                       document: nil)
        }
        vectors = snapshot.vectors
        rowFileSeq = snapshot.changeSeq
    }

    /// The slot holding row id `rid`, if any (slots are in rid order).
    func slot(ofRid rid: Int64) -> Int? {
        let low = firstSlot(atOrAfterRid: rid)
        return low < rids.count && rids[low] == rid ? low : nil
    }

    /// The first slot whose rid is above `rid` (the slot count when there is none).
    func firstSlot(afterRid rid: Int64) -> Int { rid == .max ? rids.count : firstSlot(atOrAfterRid: rid + 1) }

    /// The first slot whose rid is at least `rid`: a binary search, slots being in rid order.
    private func firstSlot(atOrAfterRid rid: Int64) -> Int {
        var low = 0, high = rids.count
        while low < high {
            let mid = (low + high) / 2
            if rids[mid] < rid { low = mid + 1 } else { high = mid }
        }
        return low
    }

    /// Row documents from their JSON text, in order; on several threads when there are many.
    static func decodeDocuments(_ texts: [String], collection: String) throws -> [Row] {
        @Sendable func decode(_ text: String) throws -> Row {
            guard case .object(let doc) = try JSONText.decode(text) else {
                throw StoreError(.storage, "a row document is not a JSON object", collection: collection)
            }
            return doc
        }
        let threads = ProcessInfo.processInfo.activeProcessorCount
        guard texts.count >= 4096, threads > 1 else { return try texts.map(decode) }
        var documents = [Row](repeating: [:], count: texts.count)
        let failure = LockedError()
        let chunk = (texts.count + threads - 1) / threads
        documents.withUnsafeMutableBufferPointer { out in
            nonisolated(unsafe) let out = out
            DispatchQueue.concurrentPerform(iterations: threads) { part in
                for index in part * chunk..<min(texts.count, (part + 1) * chunk) {
                    do { out[index] = try decode(texts[index]) } catch { failure.record(error); return }
                }
            }
        }
        if let error = failure.error { throw error }
        return documents
    }

    /// Pointer to the stored (normalised for COSINE) vector of `slot` in field `field`.
    @inline(__always)
    func vectorPointer(field: Int, slot: Int) -> UnsafePointer<Float> {
        let dim = schema.vectorFields[field].dimension!
        return vectors[field].withUnsafeBufferPointer { $0.baseAddress! + slot * dim }
    }

    /// Brings the mirror up to date with rows another connection committed: rows deleted there are marked
    /// dead, rows added are appended (an upsert is both). Slots never move, so graphs stay valid.
    func refresh(from db: Database) throws {
        // Without ORDER BY, SQLite reads the rids from the primary key's index (a few pages) instead of
        // every row's page.
        let present = try Int64.fetchAll(db, sql: "SELECT rid FROM \(SQLiteStore.rowsTable(id))").sorted()
        var next = 0
        for slot in 0..<rids.count where live[slot] {
            let rid = rids[slot]
            while next < present.count && present[next] < rid { next += 1 }
            if next == present.count || present[next] != rid { remove(key: primaryKeys[slot]) }
        }
        try load(from: db, afterRid: rids.last ?? 0)
    }
}

/// What a cached filter bitset was computed for.
struct MaskKey: Hashable {
    var filter: String
    var expression: FilterExpression?
    var partitions: [String]
}

/// The first error of several threads.
final class LockedError: @unchecked Sendable {
    private let lock = NSLock()
    private var first: Error?

    func record(_ error: Error) { lock.withLock { if first == nil { first = error } } }
    var error: Error? { lock.withLock { first } }
}
