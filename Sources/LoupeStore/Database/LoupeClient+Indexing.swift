import Dispatch
import Foundation

/// A graph build in flight: one per collection and vector field.
struct BuildKey: Hashable {
    var collection: Int64
    var field: Int
}

extension LoupeClient {
    /// Starts adding pending rows to the graph of `field` once enough wait for a build to pay off. The
    /// search that asked goes on at once: rows not yet in the graph are scanned exactly.
    func prepareIndex(_ c: CollectionState, field: Int) {
        guard c.graphs[field] != nil, c.slotCount - c.indexedSlots[field] > configuration.pendingRowsBeforeIndexing else {
            return
        }
        indexPending(c, field: field)
    }

    /// Adds the pending rows of `field` to its graph: in the background, or (without background
    /// indexing) before returning.
    func indexPending(_ c: CollectionState, field: Int) {
        if configuration.backgroundIndexing {
            _ = startBuild(c, field: field)
        } else {
            let (from, to) = (c.indexedSlots[field], c.slotCount)
            install(Self.grow(c.graphs[field]!, vectors: c.vectors[field], dimension: c.dimension(field), from: from, to: to,
                              threads: configuration.buildThreads),
                    c, field: field, from: from, to: to)
        }
    }

    /// Starts adding every pending row of every vector field of `name` to its graph, however few, and
    /// returns at once (without background indexing: builds them before returning). Milvus's Flush calls
    /// it, so a collection whose inserts have stopped ends up fully indexed without waiting for a search.
    public func indexPendingRows(_ name: String) throws {
        let c = try collection(name)
        for field in c.graphs.indices where c.graphs[field] != nil && c.indexedSlots[field] < c.slotCount {
            indexPending(c, field: field)
        }
    }

    /// Whether a background build of `field` is running.
    func isBuilding(_ c: CollectionState, field: Int) -> Bool {
        builds[BuildKey(collection: c.id, field: field)] != nil
    }

    /// Waits until every row of `field` is in its graph.
    func catchUp(_ c: CollectionState, field: Int) async {
        while c.graphs[field] != nil, c.indexedSlots[field] < c.slotCount, collections[c.name] === c {
            await startBuild(c, field: field).value
        }
    }

    /// The build of `field`'s pending rows, started if none runs. It grows a copy of the graph on a
    /// dispatch thread (never the cooperative pool, and not holding this actor), then swaps it in.
    func startBuild(_ c: CollectionState, field: Int) -> Task<Void, Never> {
        let key = BuildKey(collection: c.id, field: field)
        if let running = builds[key] { return running }
        let base = c.graphs[field]!
        let (from, to) = (c.indexedSlots[field], c.slotCount)
        let vectors = c.vectors[field]
        let dimension = c.dimension(field)
        let threads = configuration.buildThreads
        let task = Task {
            let grown = await withCheckedContinuation { continuation in
                DispatchQueue.global(qos: .utility).async {
                    continuation.resume(returning: Self.grow(base, vectors: vectors, dimension: dimension, from: from, to: to,
                                                             threads: threads))
                }
            }
            self.builds[key] = nil
            self.install(grown, c, field: field, from: from, to: to)
        }
        builds[key] = task
        return task
    }

    /// `base` with slots `from..<to` added, as a new graph (`base` itself is left as searches see it).
    nonisolated static func grow(_ base: HNSWIndex, vectors: VectorColumn, dimension: Int, from: Int, to: Int, threads: Int)
        -> HNSWIndex
    {
        let graph = base.copy()
        vectors.withUnsafeBufferPointer { all in
            graph.add(all.baseAddress! + from * dimension, labels: (from..<to).map { Int64($0) }, threads: threads, background: true)
        }
        return graph
    }

    /// Swaps in a grown graph, unless the collection was dropped or its graph changed meanwhile. A
    /// background build that finds rows arrived while it ran starts the next one at once, so the graph
    /// catches up with an insert burst when it ends instead of waiting for the next search or insert.
    func install(_ graph: HNSWIndex, _ c: CollectionState, field: Int, from: Int, to: Int) {
        guard collections[c.name] === c, c.indexedSlots[field] == from else { return }
        c.graphs[field] = graph
        c.indexedSlots[field] = to
        if configuration.backgroundIndexing, c.slotCount > to, !isBuilding(c, field: field) {
            _ = startBuild(c, field: field)
        }
    }
}
