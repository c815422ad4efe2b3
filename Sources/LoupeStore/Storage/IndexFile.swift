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
/// claims rows the database never had, is ignored and the graph is rebuilt from the rows.
/// Files are written to a temporary name, fsynced, and renamed, so a crash leaves the old file or the new.
enum IndexFile {
    static let magic: UInt64 = 0x314E_4845_5055_4F4C  // "LOUPEHN1"
    static let trailer: UInt64 = 0x444E_4545_5055_4F4C  // "LOUPEEND"

    static func path(_ c: CollectionState, field: Int, directory: String) -> String {
        (directory as NSString).appendingPathComponent("\(c.id)_\(c.schema.vectorFields[field].name).hnsw")
    }

    static func header(_ c: CollectionState, field: Int, graph: HNSWIndex, lastRid: Int64) -> [UInt64] {
        let f = c.schema.vectorFields[field]
        return [magic, UInt64(c.id), UInt64(f.dimension!), UInt64(MetricType.allCases.firstIndex(of: graph.code.metric)!),
                UInt64(VectorStorage.allCases.firstIndex(of: graph.code.storage)!), UInt64(graph.m), UInt64(graph.efConstruction),
                UInt64(graph.nodeStride), UInt64(graph.count), UInt64(bitPattern: Int64(graph.maxLevel)),
                UInt64(bitPattern: Int64(graph.entryPoint)), UInt64(bitPattern: lastRid)]
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
        func put(_ p: UnsafeRawPointer, _ bytes: Int) { if bytes > 0 && fwrite(p, 1, bytes, file) != bytes { ok = false } }
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
        withUnsafeBytes(of: trailer) { put($0.baseAddress!, 8) }
        if fflush(file) != 0 || fsync(fileno(file)) != 0 { ok = false }
        fclose(file)
        guard ok, rename(temp, final) == 0 else {
            unlink(temp)
            throw StoreError(.storage, "cannot write index file", path: final)
        }
    }

    /// Loads every graph file that matches the collection; others are left for a rebuild.
    static func loadAll(into c: CollectionState, directory: String) {
        for (i, graph) in c.graphs.enumerated() {
            guard let graph else { continue }
            if (try? load(into: c, field: i, graph: graph, directory: directory)) != true {
                // Start from an empty graph: the next search or flush indexes every row.
                c.graphs[i] = HNSWIndex(dimension: graph.code.dimension, metric: graph.code.metric,
                                        storage: graph.code.storage, m: graph.m, efConstruction: graph.efConstruction)
                c.indexedSlots[i] = 0
                c.orphanNodes[i] = 0
            }
        }
    }

    /// Reads one graph; returns false (leaving `graph` untouched or partly filled) when it does not fit.
    static func load(into c: CollectionState, field: Int, graph: HNSWIndex, directory: String) throws -> Bool {
        let file = path(c, field: field, directory: directory)
        guard let data = FileManager.default.contents(atPath: file), data.count >= 12 * 8 + 8 else { return false }
        return data.withUnsafeBytes { raw -> Bool in
            let words = raw.bindMemory(to: UInt64.self)
            let count = Int(words[8])
            let lastRid = Int64(bitPattern: words[11])
            let expected = header(c, field: field, graph: graph, lastRid: lastRid)
            // Everything but the count, level, entry point and last rid must match this collection's field.
            guard Array(words[0..<8]) == Array(expected[0..<8]) else { return false }
            guard lastRid <= c.maxRidEver else { return false }
            var offset = 12 * 8
            let blockBytes = count * graph.nodeStride
            guard raw.count >= offset + blockBytes + count * 12 + 8 else { return false }
            graph.reserve(count)
            graph.blocks.copyMemory(from: raw.baseAddress! + offset, byteCount: blockBytes)
            offset += blockBytes
            var slotOfRid: [Int64: Int] = [:]
            slotOfRid.reserveCapacity(c.rids.count)
            for (slot, rid) in c.rids.enumerated() { slotOfRid[rid] = slot }
            var orphans = 0
            for n in 0..<count {
                let rid = raw.loadUnaligned(fromByteOffset: offset + n * 8, as: Int64.self)
                if let slot = slotOfRid[rid] { graph.labels[n] = Int64(slot) } else { graph.labels[n] = -1; orphans += 1 }
            }
            offset += count * 8
            for n in 0..<count { graph.levels[n] = raw.loadUnaligned(fromByteOffset: offset + n * 4, as: Int32.self) }
            offset += count * 4
            for n in 0..<count where graph.levels[n] > 0 {
                let ints = Int(graph.levels[n]) * (1 + graph.m)
                guard raw.count >= offset + ints * 4 + 8 else { return false }
                let p = UnsafeMutablePointer<Int32>.allocate(capacity: ints)
                for k in 0..<ints { p[k] = raw.loadUnaligned(fromByteOffset: offset + k * 4, as: Int32.self) }
                graph.upper[n] = p
                offset += ints * 4
            }
            guard raw.count == offset + 8, raw.loadUnaligned(fromByteOffset: offset, as: UInt64.self) == trailer else { return false }
            graph.restore(count: count, entryPoint: Int32(truncatingIfNeeded: Int64(bitPattern: words[10])),
                          maxLevel: Int32(truncatingIfNeeded: Int64(bitPattern: words[9])))
            // Slots up to the last covered rid are in the graph; later ones are indexed on the next build.
            c.indexedSlots[field] = c.rids.firstIndex { $0 > lastRid } ?? c.rids.count
            c.orphanNodes[field] = orphans
            c.savedSeq[field] = c.changeSeq
            return true
        }
    }

    static func removeAll(_ c: CollectionState, directory: String) {
        for i in c.schema.vectorFields.indices { unlink(path(c, field: i, directory: directory)) }
    }
}
