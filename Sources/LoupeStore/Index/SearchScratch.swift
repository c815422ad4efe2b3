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
    private let owner: NeighbourBuffer

    init(dimension: Int, capacity: Int) {
        visited = VisitedSet(capacity: capacity)
        decoded = [Float](repeating: 0, count: dimension)
        owner = NeighbourBuffer()
        neighbours = owner.pointer
    }
}

/// Owns the neighbour-copy buffer of a `SearchScratch` (frees it with the last copy of the scratch).
final class NeighbourBuffer {
    static let capacity = 4 * 128 + 1
    let pointer = UnsafeMutablePointer<Int32>.allocate(capacity: NeighbourBuffer.capacity)
    deinit { pointer.deallocate() }
}
