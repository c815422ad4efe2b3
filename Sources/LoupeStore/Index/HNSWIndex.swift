import CLoupeSIMD
import Dispatch
import Foundation

/// A hierarchical navigable small-world graph over fp32, bf16 or int8 codes.
///
/// Layout: each node's layer-0 block holds its neighbour count, its `2*M` neighbour ids, its scale and
/// squared norm, and its vector code, in one 64-byte-aligned stride, so visiting a neighbour touches
/// one contiguous run of memory. Upper layers (few nodes) have their own small lists.
///
/// Nodes are numbered densely in insertion order; each carries a caller-chosen label. Building runs on
/// several threads hnswlib-style, with a one-byte spin lock per node. Searching is lock-free once no
/// build is running (the owner serialises builds and searches).
final class HNSWIndex: @unchecked Sendable {
    let code: QuantizedCode
    let m: Int
    let m0: Int
    let efConstruction: Int
    private let levelMultiplier: Double
    let codeOffset: Int
    let nodeStride: Int
    /// Where in a block the line holding the scale and norm starts, and the bytes from there through the
    /// code that searches prefetch (capped: past some 700 bytes the hardware's stream prefetcher keeps up).
    let prefetchStart: Int
    let prefetchBytes: Int

    private(set) var capacity = 0
    private(set) var count = 0
    private(set) var blocks: UnsafeMutableRawPointer
    private(set) var labels: UnsafeMutablePointer<Int64>
    private(set) var levels: UnsafeMutablePointer<Int32>
    private(set) var upper: UnsafeMutablePointer<UnsafeMutablePointer<Int32>?>
    private(set) var locks: UnsafeMutablePointer<UInt8>
    /// The index file `blocks` points into, when the layer-0 blocks were adopted from one instead of
    /// copied (`adoptBlocks`); nil when they are this graph's own allocation.
    private var blocksFile: MappedFile?
    private let globalLock = UnsafeMutablePointer<UInt8>.allocate(capacity: 1)
    /// Whether every node's label is its own number (graphs built in slot order), so filters can skip
    /// the label lookup: one random memory access less per node checked.
    var identityLabels = true
    var entryPoint: Int32 = -1
    var maxLevel: Int32 = -1
    private var randomState: UInt64

    init(dimension: Int, metric: MetricType, storage: VectorStorage, m: Int = 16, efConstruction: Int = 200,
         seed: UInt64 = 100) {
        code = QuantizedCode(dimension: dimension, metric: metric, storage: storage)
        self.m = m
        self.m0 = 2 * m
        self.efConstruction = max(efConstruction, m)
        levelMultiplier = 1 / log(Double(max(m, 2)))
        codeOffset = (4 * (1 + 2 * m) + 8 + 63) / 64 * 64
        nodeStride = (codeOffset + code.codeBytes + 63) / 64 * 64
        prefetchStart = 4 * (1 + 2 * m) / 64 * 64
        prefetchBytes = min(codeOffset + code.codeBytes - prefetchStart, 704)
        blocks = UnsafeMutableRawPointer.allocate(byteCount: 64, alignment: 64)
        labels = .allocate(capacity: 1)
        levels = .allocate(capacity: 1)
        upper = .allocate(capacity: 1)
        locks = .allocate(capacity: 1)
        globalLock.initialize(to: 0)
        randomState = seed
    }

    deinit {
        for i in 0..<count { upper[i]?.deallocate() }
        if blocksFile == nil { blocks.deallocate() }
        labels.deallocate()
        levels.deallocate()
        upper.deallocate()
        locks.deallocate()
        globalLock.deallocate()
    }

    /// Bytes the index holds per node: the layer-0 block, label, level, lock and upper-layer lists.
    var bytesPerVector: Double {
        guard count > 0 else { return Double(nodeStride + 13) }
        var upperInts = 0
        for i in 0..<count where levels[i] > 0 { upperInts += Int(levels[i]) * (1 + m) }
        return Double(nodeStride + 8 + 4 + 1 + 8) + Double(upperInts * 4) / Double(count)
    }

    // MARK: - Storage

    /// Grows the arrays to hold `newCapacity` nodes. Not thread-safe: call between builds.
    func reserve(_ newCapacity: Int) {
        guard newCapacity > capacity else { return }
        let newBlocks = UnsafeMutableRawPointer.allocate(byteCount: newCapacity * nodeStride, alignment: 64)
        newBlocks.copyMemory(from: blocks, byteCount: count * nodeStride)
        if blocksFile == nil { blocks.deallocate() }
        blocksFile = nil
        blocks = newBlocks
        reserveNodeArrays(newCapacity)
    }

    /// Grows the per-node arrays other than the blocks.
    private func reserveNodeArrays(_ newCapacity: Int) {
        func grow<T>(_ p: UnsafeMutablePointer<T>, fill: T) -> UnsafeMutablePointer<T> {
            let q = UnsafeMutablePointer<T>.allocate(capacity: newCapacity)
            q.moveInitialize(from: p, count: count)
            (q + count).initialize(repeating: fill, count: newCapacity - count)
            p.deallocate()
            return q
        }
        labels = grow(labels, fill: -1)
        levels = grow(levels, fill: 0)
        upper = grow(upper, fill: nil)
        locks = grow(locks, fill: 0)
        capacity = newCapacity
    }

    @inline(__always) func block(_ node: Int32) -> UnsafeMutableRawPointer { blocks + Int(node) * nodeStride }
    @inline(__always) func codePointer(_ node: Int32) -> UnsafeRawPointer { UnsafeRawPointer(block(node) + codeOffset) }
    @inline(__always) func scale(_ node: Int32) -> Float { block(node).load(fromByteOffset: 4 * (1 + m0), as: Float.self) }
    @inline(__always) func squaredNorm(_ node: Int32) -> Float {
        block(node).load(fromByteOffset: 4 * (1 + m0) + 4, as: Float.self)
    }

    /// The neighbour list of `node` at `level`: a count followed by the ids.
    @inline(__always) func links(_ node: Int32, level: Int) -> UnsafeMutablePointer<Int32> {
        if level == 0 { return block(node).assumingMemoryBound(to: Int32.self) }
        return upper[Int(node)]! + (level - 1) * (1 + m)
    }

    @inline(__always) func maxLinks(level: Int) -> Int { level == 0 ? m0 : m }

    @inline(__always)
    func distance(_ query: EncodedQuery, _ node: Int32) -> Float {
        code.distance(query, code: codePointer(node), scale: scale(node), squaredNorm: squaredNorm(node))
    }


    /// Asks for the lines of `node`'s scale, norm and code (`prefetchBytes`) ahead of its distance.
    @inline(__always)
    func prefetchCode(_ node: Int32) {
        let start = UnsafeRawPointer(block(node)) + prefetchStart
        var offset = 0
        while offset < prefetchBytes {
            loupe_prefetch(start + offset)
            offset += 64
        }
    }

    private func randomLevel() -> Int32 {
        // SplitMix64: deterministic per index, so single-threaded builds are reproducible.
        randomState &+= 0x9E37_79B9_7F4A_7C15
        var z = randomState
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        z ^= z >> 31
        let u = (Double(z >> 11) + 0.5) / Double(1 << 53)
        return Int32(min(-log(u) * levelMultiplier, 30))
    }

    /// Makes room for `count` nodes whose layer-0 blocks are read in place from `file` at `offset`
    /// (64-byte aligned, `count * nodeStride` bytes). The mapping is read-only, which holds because a graph
    /// never changes its existing blocks without growing first (`add` reserves, and `reserve` copies the
    /// blocks into memory of its own); builds grow a copy anyway (`copy`), so a graph loaded to be searched
    /// never copies them at all.
    func adoptBlocks(count: Int, from file: MappedFile, offset: Int) {
        precondition(self.count == 0 && offset % 64 == 0 && offset + count * nodeStride <= file.bytes.count)
        if blocksFile == nil { blocks.deallocate() }
        blocks = UnsafeMutableRawPointer(mutating: file.bytes.baseAddress! + offset)
        blocksFile = file
        if count > capacity { reserveNodeArrays(count) }
    }

    /// Whether the layer-0 blocks are still the index file's (`adoptBlocks`).
    var blocksAreMapped: Bool { blocksFile != nil }

    /// Sets the node count and entry after the arrays were filled from an index file.
    func restore(count: Int, entryPoint: Int32, maxLevel: Int32) {
        self.count = count
        identityLabels = (0..<count).allSatisfy { labels[$0] == Int64($0) }
        self.entryPoint = entryPoint
        self.maxLevel = maxLevel
        randomState &+= UInt64(count)
    }

    /// Frees the upper-layer lists a file load put in the first `count` nodes before it was abandoned.
    func discardPrepared(count prepared: Int) {
        for n in count..<min(prepared, capacity) {
            upper[n]?.deallocate()
            upper[n] = nil
        }
    }

    /// A copy that can grow while this graph keeps answering searches: builds never touch a graph that
    /// searches may be reading (the owner swaps in the grown copy when it is done).
    func copy() -> HNSWIndex {
        let other = HNSWIndex(dimension: code.dimension, metric: code.metric, storage: code.storage, m: m,
                              efConstruction: efConstruction)
        other.reserve(max(count, 1))
        other.blocks.copyMemory(from: blocks, byteCount: count * nodeStride)
        other.labels.update(from: labels, count: count)
        other.levels.update(from: levels, count: count)
        for i in 0..<count where levels[i] > 0 {
            let ints = Int(levels[i]) * (1 + m)
            let p = UnsafeMutablePointer<Int32>.allocate(capacity: ints)
            p.update(from: upper[i]!, count: ints)
            other.upper[i] = p
        }
        other.count = count
        other.identityLabels = identityLabels
        other.entryPoint = entryPoint
        other.maxLevel = maxLevel
        other.randomState = randomState
        return other
    }

    // MARK: - Building

    /// Adds `n` vectors (row-major, already unit length for COSINE) with their labels.
    ///
    /// - Parameter threads: worker threads; 1 gives a reproducible graph.
    func add(_ vectors: UnsafePointer<Float>, labels newLabels: [Int64], threads: Int, background: Bool = false) {
        let n = newLabels.count
        guard n > 0 else { return }
        let first = count
        if first + n > capacity { reserve(max(first + n, capacity * 3 / 2)) }
        let dim = code.dimension
        for i in 0..<n {
            let node = Int32(first + i)
            let b = block(node)
            b.storeBytes(of: Int32(0), as: Int32.self)
            let (s, norm) = code.encode(vectors + i * dim, into: b + codeOffset)
            b.storeBytes(of: s, toByteOffset: 4 * (1 + m0), as: Float.self)
            b.storeBytes(of: norm, toByteOffset: 4 * (1 + m0) + 4, as: Float.self)
            labels[first + i] = newLabels[i]
            if newLabels[i] != Int64(first + i) { identityLabels = false }
            let level = randomLevel()
            levels[first + i] = level
            if level > 0 {
                let p = UnsafeMutablePointer<Int32>.allocate(capacity: Int(level) * (1 + m))
                p.initialize(repeating: 0, count: Int(level) * (1 + m))
                upper[first + i] = p
            }
        }
        count = first + n
        // Seed a small graph serially so parallel workers start from a connected one.
        let serial = threads <= 1 ? n : min(n, max(0, 256 - first))
        var scratch = SearchScratch(dimension: dim, capacity: count)
        for i in 0..<serial {
            insert(Int32(first + i), vectors + i * dim, scratch: &scratch, locking: false)
        }
        guard serial < n else { return }
        nonisolated(unsafe) let next = UnsafeMutablePointer<Int64>.allocate(capacity: 1)
        next.initialize(to: Int64(serial))
        defer { next.deallocate() }
        let total = count
        nonisolated(unsafe) let base = vectors
        WorkerThreads.run(threads, background: background) { _ in
            var scratch = SearchScratch(dimension: dim, capacity: total)
            while true {
                let i = Int(loupe_fetch_add(next, 1))
                if i >= n { break }
                self.insert(Int32(first + i), base + i * dim, scratch: &scratch, locking: true)
            }
        }
    }

    private func insert(_ node: Int32, _ vector: UnsafePointer<Float>, scratch: inout SearchScratch, locking: Bool) {
        let query = code.prepare(vector, bytes: scratch.queryCode)
        let level = levels[Int(node)]
        if locking { loupe_spin_lock(globalLock) }
        var holdsGlobal = locking
        if level <= maxLevel, locking {
            loupe_spin_unlock(globalLock)
            holdsGlobal = false
        }
        defer { if holdsGlobal { loupe_spin_unlock(globalLock) } }
        let top = maxLevel
        var current = entryPoint
        if current < 0 {
            entryPoint = node
            maxLevel = level
            return
        }
        var currentDistance = distance(query, current)
        if level < top {
            for l in stride(from: Int(top), to: Int(level), by: -1) {
                greedy(query, level: l, current: &current, distance: &currentDistance, locking: locking)
            }
        }
        for l in stride(from: Int(min(level, top)), through: 0, by: -1) {
            let found = searchLayer(query, entry: current, ef: efConstruction, level: l, allowed: nil,
                                    scratch: &scratch, locking: locking).drainAscending()
            current = found[0].node
            let chosen = selectNeighbors(found, limit: m, scratch: &scratch)
            connect(node, chosen, level: l, scratch: &scratch, locking: locking)
        }
        if level > top {
            entryPoint = node
            maxLevel = level
        }
    }

    @inline(__always)
    func greedy(_ query: EncodedQuery, level: Int, current: inout Int32,
                distance currentDistance: inout Float, locking: Bool) {
        var changed = true
        while changed {
            changed = false
            let visiting = current
            if locking { loupe_spin_lock(locks + Int(visiting)) }
            let list = links(visiting, level: level)
            let n = Int(list[0])
            for j in 0..<n {
                let candidate = list[1 + j]
                let d = distance(query, candidate)
                if d < currentDistance {
                    currentDistance = d
                    current = candidate
                    changed = true
                }
            }
            if locking { loupe_spin_unlock(locks + Int(visiting)) }
        }
    }
}
