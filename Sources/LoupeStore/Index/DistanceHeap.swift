/// A binary max-heap of (distance, node) pairs: the top is the largest distance.
///
/// HNSW keeps its result list in one (pop the worst) and its candidate list in another with negated
/// distances (pop the closest). Storage is reused across searches.
struct DistanceHeap {
    private(set) var distances: [Float] = []
    private(set) var nodes: [Int32] = []

    init(capacity: Int = 0) {
        distances.reserveCapacity(capacity)
        nodes.reserveCapacity(capacity)
    }

    var count: Int { distances.count }
    var isEmpty: Bool { distances.isEmpty }
    var topDistance: Float { distances[0] }
    var topNode: Int32 { nodes[0] }

    mutating func removeAll() {
        distances.removeAll(keepingCapacity: true)
        nodes.removeAll(keepingCapacity: true)
    }

    mutating func push(_ distance: Float, _ node: Int32) {
        distances.append(distance)
        nodes.append(node)
        var i = distances.count - 1
        while i > 0 {
            let parent = (i - 1) >> 1
            if distances[parent] >= distance { break }
            distances[i] = distances[parent]
            nodes[i] = nodes[parent]
            i = parent
        }
        distances[i] = distance
        nodes[i] = node
    }

    @discardableResult
    mutating func pop() -> (distance: Float, node: Int32) {
        let top = (distances[0], nodes[0])
        let lastDistance = distances.removeLast()
        let lastNode = nodes.removeLast()
        let n = distances.count
        if n > 0 {
            var i = 0
            while true {
                var child = 2 * i + 1
                if child >= n { break }
                if child + 1 < n && distances[child + 1] > distances[child] { child += 1 }
                if distances[child] <= lastDistance { break }
                distances[i] = distances[child]
                nodes[i] = nodes[child]
                i = child
            }
            distances[i] = lastDistance
            nodes[i] = lastNode
        }
        return top
    }

    /// The pairs sorted by ascending distance (the heap is left empty).
    mutating func drainAscending() -> [(distance: Float, node: Int32)] {
        var out: [(distance: Float, node: Int32)] = []
        out.reserveCapacity(count)
        while !isEmpty { out.append(pop()) }
        return out.reversed()
    }
}

/// Marks of visited nodes for one search; cleared in O(1) by bumping an epoch.
struct VisitedSet {
    private var marks: [UInt16]
    private var epoch: UInt16 = 1

    init(capacity: Int) { marks = [UInt16](repeating: 0, count: max(capacity, 1)) }

    mutating func reset(capacity: Int) {
        if marks.count < capacity { marks = [UInt16](repeating: 0, count: capacity); epoch = 1; return }
        epoch &+= 1
        if epoch == 0 {
            for i in marks.indices { marks[i] = 0 }
            epoch = 1
        }
    }

    /// Marks `node`; returns false when it was already marked in this search.
    @inline(__always)
    mutating func insert(_ node: Int32) -> Bool {
        let i = Int(node)
        if marks[i] == epoch { return false }
        marks[i] = epoch
        return true
    }
}
