import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The on-disk form of one HNSW graph: `index/<collection id>_<field>.hnsw`.
///
/// The header records what the graph reflects: the collection id, the index parameters, the node
/// count and the last row id (`rid`) it covers. Labels are saved as rids, which SQLite never reuses,
/// so a graph stays valid as rows are added (newer rows are indexed on the next build) and deleted
/// (their nodes are skipped). A file that is missing, truncated, built with other parameters, or that
/// claims rows the database never had, is ignored and the graph is rebuilt from the rows; so is one whose
/// checksum or structure does not hold up (`IndexFileLayout` checks every count, level and neighbour id
/// before anything is copied).
/// Files are written to a temporary name, fsynced, and renamed, so a crash leaves the old file or the new.
enum IndexFile {
    static let magic = IndexFileLayout.magic
    static let trailer = IndexFileLayout.trailer

    static func path(_ c: CollectionState, field: Int, directory: String) -> String {
        (directory as NSString).appendingPathComponent("\(c.id)_\(c.schema.vectorFields[field].name).hnsw")
    }

    static func header(_ c: CollectionState, field: Int, graph: HNSWIndex, lastRid: Int64) -> [UInt64] {
        let f = c.schema.vectorFields[field]
        return [magic, UInt64(bitPattern: c.id), UInt64(f.dimension!), UInt64(MetricType.allCases.firstIndex(of: graph.code.metric)!),
                UInt64(VectorStorage.allCases.firstIndex(of: graph.code.storage)!), UInt64(graph.m), UInt64(graph.efConstruction),
                UInt64(graph.nodeStride), UInt64(graph.count), UInt64(bitPattern: Int64(graph.maxLevel)),
                UInt64(bitPattern: Int64(graph.entryPoint)), UInt64(bitPattern: lastRid), 0, 0, 0, 0]
    }

    static func saveAll(_ c: CollectionState, directory: String) throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        for (i, graph) in c.graphs.enumerated() {
            guard let graph, graph.count > 0, c.savedSeq[i] != c.changeSeq else { continue }
            try save(c, field: i, graph: graph, directory: directory)
            c.savedSeq[i] = c.changeSeq
        }
    }

    static func save(_ c: CollectionState, field: Int, graph: HNSWIndex, directory: String) throws {
        let final = path(c, field: field, directory: directory)
        let temp = final + ".tmp"
        guard let file = fopen(temp, "wb") else {
            throw StoreError(.storage, "cannot write index file: \(String(cString: strerror(errno)))", path: temp)
        }
        var ok = true
        var checksum = IndexFileLayout.Checksum()
        func put(_ p: UnsafeRawPointer, _ bytes: Int) {
            guard bytes > 0 else { return }
            checksum.update(UnsafeRawBufferPointer(start: p, count: bytes))
            if fwrite(p, 1, bytes, file) != bytes { ok = false }
        }
        let count = graph.count
        // Labels are slots in memory; on disk they are rids. Orphaned nodes (rows gone before a reopen) stay -1.
        let rids: [Int64] = (0..<count).map { n in
            let slot = Int(graph.labels[n])
            return slot >= 0 && slot < c.rids.count ? c.rids[slot] : -1
        }
        let lastRid = c.indexedSlots[field] > 0 ? c.rids[c.indexedSlots[field] - 1] : 0
        let h = header(c, field: field, graph: graph, lastRid: lastRid)
        h.withUnsafeBytes { put($0.baseAddress!, $0.count) }
        put(graph.blocks, count * graph.nodeStride)
        rids.withUnsafeBytes { put($0.baseAddress!, $0.count) }
        put(graph.levels, count * 4)
        for n in 0..<count where graph.levels[n] > 0 {
            put(graph.upper[n]!, Int(graph.levels[n]) * (1 + graph.m) * 4)
        }
        withUnsafeBytes(of: checksum.value) { put($0.baseAddress!, 8) }
        withUnsafeBytes(of: trailer) { put($0.baseAddress!, 8) }
        if fflush(file) != 0 || fsync(fileno(file)) != 0 { ok = false }
        fclose(file)
        guard ok, rename(temp, final) == 0 else {
            unlink(temp)
            throw StoreError(.storage, "cannot write index file", path: final)
        }
    }

    /// One graph file to read: where it is, the header it must start with, and the graph to fill.
    struct Job: @unchecked Sendable {
        var field: Int
        var path: String
        var expectedPrefix: [UInt64]
        var graph: HNSWIndex
    }

    /// A graph file read and checked, its structure copied into the graph; its labels wait for the rows.
    struct Prepared: @unchecked Sendable {
        var job: Job
        var file: MappedFile
        var layout: IndexFileLayout
    }

    /// The graph files `c` would load. Computed before the rows are, so reading the files (`prepare`,
    /// which touches nothing of `c`) can run beside loading the rows.
    static func jobs(_ c: CollectionState, directory: String) -> [Job] {
        c.graphs.enumerated().compactMap { i, graph in
            guard let graph else { return nil }
            return Job(field: i, path: path(c, field: i, directory: directory),
                       expectedPrefix: Array(header(c, field: i, graph: graph, lastRid: 0)[0..<8]), graph: graph)
        }
    }

    /// Maps and checks one graph file and copies its blocks, levels and upper layers into the job's graph;
    /// nil when the file is missing or does not fit (the graph may then hold garbage: `finishAll` replaces it).
    static func prepare(_ job: Job) -> Prepared? {
        guard let file = MappedFile(path: job.path) else { return nil }
        let raw = file.bytes
        let graph = job.graph
        guard let layout = try? IndexFileLayout.parse(raw, nodeStride: graph.nodeStride, m: graph.m,
                                                      expectedPrefix: job.expectedPrefix)
        else { return nil }
        let count = layout.count
        // The blocks (most of the file) are searched where they are mapped; the rest is small and copied.
        graph.adoptBlocks(count: count, from: file, offset: layout.blocksOffset)
        for n in 0..<count { graph.levels[n] = raw.loadUnaligned(fromByteOffset: layout.levelsOffset + n * 4, as: Int32.self) }
        var offset = layout.upperOffset
        for n in 0..<count where graph.levels[n] > 0 {
            let ints = Int(graph.levels[n]) * (1 + graph.m)
            let p = UnsafeMutablePointer<Int32>.allocate(capacity: ints)
            UnsafeMutableRawPointer(p).copyMemory(from: raw.baseAddress! + offset, byteCount: ints * 4)
            graph.upper[n] = p
            offset += ints * 4
        }
        return Prepared(job: job, file: file, layout: layout)
    }

    /// Maps each prepared graph's rids to slots and installs it; graphs without a usable file start empty.
    static func finishAll(_ prepared: [Prepared?], into c: CollectionState) {
        let ready = Dictionary(prepared.compactMap { $0 }.map { ($0.job.field, $0) }, uniquingKeysWith: { a, _ in a })
        for (i, graph) in c.graphs.enumerated() {
            guard let graph else { continue }
            if let p = ready[i], p.job.graph === graph, finish(p, into: c) { continue }
            // Start from an empty graph: the next search or flush indexes every row.
            if let p = ready[i] { p.job.graph.discardPrepared(count: p.layout.count) }
            c.graphs[i] = HNSWIndex(dimension: graph.code.dimension, metric: graph.code.metric,
                                    storage: graph.code.storage, m: graph.m, efConstruction: graph.efConstruction)
            c.indexedSlots[i] = 0
            c.orphanNodes[i] = 0
        }
    }

    /// Labels a prepared graph's nodes with the slots of their rids; false when the file claims rows the
    /// database never had.
    static func finish(_ p: Prepared, into c: CollectionState) -> Bool {
        let layout = p.layout, graph = p.job.graph, raw = p.file.bytes
        guard layout.lastRid <= c.maxRidEver else { return false }
        var orphans = 0
        for n in 0..<layout.count {
            let rid = raw.loadUnaligned(fromByteOffset: layout.ridsOffset + n * 8, as: Int64.self)
            // Nodes are mostly in rid order, so the node's own number is the usual slot.
            let guess = n < c.rids.count && c.rids[n] == rid ? n : c.slot(ofRid: rid)
            if let slot = guess { graph.labels[n] = Int64(slot) } else { graph.labels[n] = -1; orphans += 1 }
        }
        graph.restore(count: layout.count, entryPoint: layout.entryPoint, maxLevel: layout.maxLevel)
        // Slots up to the last covered rid are in the graph; later ones are indexed on the next build.
        c.indexedSlots[p.job.field] = c.firstSlot(afterRid: layout.lastRid)
        c.orphanNodes[p.job.field] = orphans
        c.savedSeq[p.job.field] = c.changeSeq
        return true
    }

    static func removeAll(_ c: CollectionState, directory: String) {
        for i in c.schema.vectorFields.indices { unlink(path(c, field: i, directory: directory)) }
        RowFile.remove(c, directory: directory)
    }
}
