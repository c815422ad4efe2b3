/// A binary max-heap of (distance, node) pairs: the top is the largest distance.
///
/// HNSW keeps its result list in one (pop the worst) and its candidate list in another with negated
/// distances (pop the closest). Storage is raw memory reused across searches: this is the innermost
/// loop of every search, where array bounds and uniqueness checks cost measurable time.
final class DistanceHeap {
    private var distances: UnsafeMutablePointer<Float>
    private var nodes: UnsafeMutablePointer<Int32>
    private var capacity: Int
    private(set) var count = 0

    init(capacity: Int = 64) {
        self.capacity = max(capacity, 16)
        distances = .allocate(capacity: self.capacity)
        nodes = .allocate(capacity: self.capacity)
    }

    deinit {
        distances.deallocate()
        nodes.deallocate()
    }

    var isEmpty: Bool { count == 0 }
    var topDistance: Float { distances[0] }
    var topNode: Int32 { nodes[0] }

    func removeAll() { count = 0 }

    private func grow() {
        let newCapacity = capacity * 2
        let d = UnsafeMutablePointer<Float>.allocate(capacity: newCapacity)
        let n = UnsafeMutablePointer<Int32>.allocate(capacity: newCapacity)
        d.update(from: distances, count: count)
        n.update(from: nodes, count: count)
        distances.deallocate()
        nodes.deallocate()
        distances = d
        nodes = n
        capacity = newCapacity
    }

    @inline(__always)
    func push(_ distance: Float, _ node: Int32) {
        if count == capacity { grow() }
        var i = count
        count += 1
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

    @inline(__always)
    @discardableResult
    func pop() -> (distance: Float, node: Int32) {
        let top = (distances[0], nodes[0])
        count -= 1
        let n = count
        if n > 0 {
            let lastDistance = distances[n]
            let lastNode = nodes[n]
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
    func drainAscending() -> [(distance: Float, node: Int32)] {
        var out = [(distance: Float, node: Int32)](repeating: (0, 0), count: count)
        var i = count - 1
        while !isEmpty {
            out[i] = pop()
            i -= 1
        }
        return out
    }
}

/// Marks of visited nodes for one search; cleared in O(1) by bumping an epoch.
final class VisitedSet {
    private var marks: UnsafeMutablePointer<UInt16>
    private var capacity: Int
    private var epoch: UInt16 = 1

    init(capacity: Int) {
        self.capacity = max(capacity, 1)
        marks = .allocate(capacity: self.capacity)
        marks.initialize(repeating: 0, count: self.capacity)
    }

    deinit { marks.deallocate() }

    func reset(capacity needed: Int) {
        if capacity < needed {
            marks.deallocate()
            capacity = max(needed, capacity * 3 / 2)
            marks = .allocate(capacity: capacity)
            marks.initialize(repeating: 0, count: capacity)
            epoch = 1
            return
        }
        epoch &+= 1
        if epoch == 0 {
            marks.update(repeating: 0, count: capacity)
            epoch = 1
        }
    }

    /// Marks `node`; returns false when it was already marked in this search.
    @inline(__always)
    func insert(_ node: Int32) -> Bool {
        let p = marks + Int(node)
        if p.pointee == epoch { return false }
        p.pointee = epoch
        return true
    }
}
