/// Per-thread working memory of an HNSW search or insertion, sized once and reused.
struct SearchScratch {
    let visited: VisitedSet
    let candidates = DistanceHeap(capacity: 256)
    let results = DistanceHeap(capacity: 256)
    /// Allowed nodes collected aside by a `.collectAllowed` filtered search.
    let kept = DistanceHeap(capacity: 256)
    /// Room for one decoded vector (comparing two stored codes).
    var decoded: [Float]
    /// Room for one neighbour list copied out under its lock.
    let neighbours: UnsafeMutablePointer<Int32>
    /// Room for the not yet visited neighbours of one node, gathered before their distances are taken.
    let fresh: UnsafeMutablePointer<Int32>
    /// The query as int8 (`QuantizedCode.prepare`), for int8 storage.
    let queryCode: UnsafeMutablePointer<Int8>
    private let owner: ScratchBuffers

    init(dimension: Int, capacity: Int) {
        visited = VisitedSet(capacity: capacity)
        decoded = [Float](repeating: 0, count: dimension)
        owner = ScratchBuffers(dimension: dimension)
        neighbours = owner.lists
        fresh = owner.lists + ScratchBuffers.listCapacity
        queryCode = owner.queryCode
    }
}

/// Owns the raw buffers of a `SearchScratch` (freed with the last copy of the scratch).
final class ScratchBuffers {
    static let listCapacity = 4 * 128 + 1
    let lists = UnsafeMutablePointer<Int32>.allocate(capacity: 2 * ScratchBuffers.listCapacity)
    let queryCode: UnsafeMutablePointer<Int8>

    init(dimension: Int) {
        queryCode = .allocate(capacity: max(dimension, 1))
        queryCode.initialize(repeating: 0, count: max(dimension, 1))
    }

    deinit {
        lists.deallocate()
        queryCode.deallocate()
    }
}
