/// Per-thread working memory of an HNSW search or insertion, sized once and reused.
struct SearchScratch {
    var visited: VisitedSet
    var candidates = DistanceHeap(capacity: 256)
    var results = DistanceHeap(capacity: 256)
    /// Room for one decoded vector (comparing two stored codes).
    var decoded: [Float]
    /// Room for one neighbour list copied out under its lock.
    var neighbours: [Int32] = []

    init(dimension: Int, capacity: Int) {
        visited = VisitedSet(capacity: capacity)
        decoded = [Float](repeating: 0, count: dimension)
    }
}
