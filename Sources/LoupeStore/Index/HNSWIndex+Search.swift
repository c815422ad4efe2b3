import CLoupeSIMD

/// A bit per label: which rows a search may return (live rows matching the filter).
struct LabelBitset: @unchecked Sendable {
    let words: [UInt64]
    init(words: [UInt64]) { self.words = words }

    init(count: Int, where include: (Int) -> Bool) {
        var w = [UInt64](repeating: 0, count: (count + 63) / 64)
        for i in 0..<count where include(i) { w[i >> 6] |= 1 << UInt64(i & 63) }
        words = w
    }

    @inline(__always) func contains(_ label: Int) -> Bool {
        let word = label >> 6
        return label >= 0 && word < words.count && words[word] & (1 << UInt64(label & 63)) != 0
    }

    var population: Int { words.reduce(0) { $0 + $1.nonzeroBitCount } }
}

extension HNSWIndex {
    /// The `k` nearest labels to `query` (prepared: unit length for COSINE), ascending by distance.
    ///
    /// - Parameters:
    ///   - ef: candidate list size (raised to at least `k`).
    ///   - allowed: labels that may be returned; others are still traversed, so the graph stays connected.
    ///   - filterMode: how `allowed` steers the traversal (see `FilterMode`).
    ///   - exact: for quantized storage, the fp32 vector of a label; candidates are re-ranked with it.
    ///   - rerank: how many of the best candidates are re-ranked (at least `k`; nil: all `ef`); the rest are
    ///     dropped, as their quantized distances already ranked them below those.
    func search(_ query: UnsafePointer<Float>, k: Int, ef: Int, allowed: LabelBitset?, filterMode: FilterMode = .restrictResults,
                exact: ((Int64) -> UnsafePointer<Float>)?, rerank: Int? = nil,
                scratch: inout SearchScratch) -> [(label: Int64, distance: Float)] {
        guard entryPoint >= 0, k > 0 else { return [] }
        let prepared = code.prepare(query, bytes: scratch.queryCode)
        var current = entryPoint
        var currentDistance = distance(prepared, current)
        if maxLevel > 0 {
            for l in stride(from: Int(maxLevel), through: 1, by: -1) {
                greedy(prepared, level: l, current: &current, distance: &currentDistance, locking: false)
            }
        }
        let answer = searchLayer(prepared, entry: current, ef: max(ef, k), level: 0, allowed: allowed,
                                 filterMode: filterMode, scratch: &scratch, locking: false)
        var found = answer.drainAscending()
        if let exact, code.storage != .fp32 {
            let count = min(found.count, max(k, rerank ?? found.count))
            found.removeLast(found.count - count)
            // The fp32 vectors are cold: ask for each a few comparisons ahead (the stream prefetcher takes
            // over after the first lines).
            let vectors = found.map { exact(labels[Int($0.node)]) }
            let lines = min(4 * code.dimension, 512)
            @inline(__always) func prefetch(_ i: Int) {
                let p = UnsafeRawPointer(vectors[i])
                for offset in stride(from: 0, to: lines, by: 64) { loupe_prefetch(p + offset) }
            }
            for i in 0..<min(Self.prefetchAhead, count) { prefetch(i) }
            for i in 0..<count {
                if i + Self.prefetchAhead < count { prefetch(i + Self.prefetchAhead) }
                found[i].distance = code.exactDistance(query, vectors[i])
            }
            found.sort { $0.distance < $1.distance }
        }
        return found.prefix(k).map { (labels[Int($0.node)], $0.distance) }
    }

    /// How a filter shapes a layer-0 search.
    enum FilterMode {
        /// The beam keeps only allowed nodes (hnswlib's filtered search): it widens until `ef` allowed
        /// nodes are found, which costs about `ef / selectivity` visits.
        case restrictResults
        /// The beam runs as if unfiltered and allowed nodes met on the way are collected aside: as cheap
        /// as an unfiltered search, and accurate while `ef * selectivity` comfortably exceeds `k`.
        case collectAllowed
        /// Only allowed nodes are measured and expanded; a node's disallowed neighbours are crossed to
        /// their own neighbours (two hops, as in ACORN), which keeps the allowed subgraph connected down
        /// to a few percent selectivity. Costs about what an unfiltered search of the same `ef` does.
        case twoHop
    }

    /// Best-first search of one layer; returns the heap holding the `ef` best allowed nodes.
    @discardableResult
    func searchLayer(_ query: EncodedQuery, entry: Int32, ef: Int, level: Int,
                     allowed: LabelBitset?, filterMode: FilterMode = .restrictResults, scratch: inout SearchScratch,
                     locking: Bool) -> DistanceHeap {
        if let allowed, filterMode == .twoHop {
            return searchTwoHop(query, entry: entry, ef: ef, allowed: allowed, scratch: &scratch)
        }
        let collecting = allowed != nil && filterMode == .collectAllowed
        let kept = scratch.kept
        kept.removeAll()
        scratch.visited.reset(capacity: count)
        scratch.candidates.removeAll()
        scratch.results.removeAll()
        _ = scratch.visited.insert(entry)
        let d0 = distance(query, entry)
        var bound = Float.infinity
        let entryAllowed = allowed?.contains(Int(labels[Int(entry)])) ?? true
        if entryAllowed || collecting {
            scratch.results.push(d0, entry)
            bound = d0
        }
        if collecting && entryAllowed { kept.push(d0, entry) }
        scratch.candidates.push(-d0, entry)
        let visited = scratch.visited
        let candidates = scratch.candidates
        let results = scratch.results
        let fresh = scratch.fresh
        let words = allowed?.words
        let labels = self.labels
        let identity = identityLabels
        @inline(__always) func isAllowed(_ node: Int32) -> Bool {
            guard let words else { return true }
            let label = identity ? Int(node) : Int(labels[Int(node)])
            return label >= 0 && (label >> 6) < words.count && words[label >> 6] & (1 << UInt64(label & 63)) != 0
        }
        while !candidates.isEmpty {
            let closest = -candidates.topDistance
            if closest > bound && results.count >= ef { break }
            let node = candidates.pop().node
            let list: UnsafePointer<Int32>
            let n: Int
            if locking {
                loupe_spin_lock(locks + Int(node))
                let source = links(node, level: level)
                n = Int(source[0])
                scratch.neighbours.update(from: source + 1, count: n)
                loupe_spin_unlock(locks + Int(node))
                list = UnsafePointer(scratch.neighbours)
            } else {
                let source = links(node, level: level)
                n = Int(source[0])
                list = UnsafePointer(source + 1)
            }
            // The unvisited neighbours first, then their distances, each node's code asked for a few
            // distances ahead of its turn (asking for all of them at once overflows the miss buffers).
            var unseen = 0
            for j in 0..<n where visited.insert(list[j]) {
                fresh[unseen] = list[j]
                unseen += 1
            }
            for j in 0..<min(unseen, Self.prefetchAhead) { prefetchCode(fresh[j]) }
            for j in 0..<unseen {
                if j + Self.prefetchAhead < unseen { prefetchCode(fresh[j + Self.prefetchAhead]) }
                let neighbour = fresh[j]
                let d = distance(query, neighbour)
                if results.count < ef || d < bound {
                    candidates.push(-d, neighbour)
                    if collecting {
                        results.push(d, neighbour)
                        if results.count > ef { results.pop() }
                        bound = results.topDistance
                        if isAllowed(neighbour) {
                            kept.push(d, neighbour)
                            if kept.count > ef { kept.pop() }
                        }
                    } else if isAllowed(neighbour) {
                        results.push(d, neighbour)
                        if results.count > ef { results.pop() }
                        bound = results.topDistance
                    }
                }
            }
        }
        return collecting ? kept : results
    }

    /// Layer-0 search over the allowed subgraph, reaching across disallowed nodes by two hops.
    func searchTwoHop(_ query: EncodedQuery, entry: Int32, ef: Int, allowed: LabelBitset,
                      scratch: inout SearchScratch) -> DistanceHeap {
        let visited = scratch.visited
        let candidates = scratch.candidates
        let results = scratch.results
        visited.reset(capacity: count)
        candidates.removeAll()
        results.removeAll()
        let labels = self.labels
        let identity = identityLabels
        let gatherLimit = m
        let gathered = scratch.neighbours
        return allowed.words.withUnsafeBufferPointer { words -> DistanceHeap in
            @inline(__always) func isAllowed(_ node: Int32) -> Bool {
                let label = identity ? Int(node) : Int(labels[Int(node)])
                return label >= 0 && (label >> 6) < words.count && words[label >> 6] & (1 << UInt64(label & 63)) != 0
            }
            _ = visited.insert(entry)
            let d0 = distance(query, entry)
            var bound = Float.infinity
            if isAllowed(entry) {
                results.push(d0, entry)
                bound = d0
            }
            candidates.push(-d0, entry)
            while !candidates.isEmpty {
                if -candidates.topDistance > bound && results.count >= ef { break }
                let node = candidates.pop().node
                let list = links(node, level: 0)
                let n = Int(list[0])
                var found = 0
                // Allowed neighbours first, then allowed neighbours of the disallowed ones.
                for j in 0..<n {
                    let nb = list[1 + j]
                    if isAllowed(nb), visited.insert(nb) {
                        gathered[found] = nb
                        found += 1
                    }
                }
                if found < gatherLimit {
                    outer: for j in 0..<n {
                        let nb = list[1 + j]
                        if isAllowed(nb) { continue }
                        let second = links(nb, level: 0)
                        for t in 0..<Int(second[0]) {
                            let nb2 = second[1 + t]
                            if isAllowed(nb2), visited.insert(nb2) {
                                gathered[found] = nb2
                                found += 1
                                if found >= gatherLimit { break outer }
                            }
                        }
                    }
                }
                for j in 0..<min(found, Self.prefetchAhead) { prefetchCode(gathered[j]) }
                for j in 0..<found {
                    if j + Self.prefetchAhead < found { prefetchCode(gathered[j + Self.prefetchAhead]) }
                    let candidate = gathered[j]
                    let d = distance(query, candidate)
                    if results.count < ef || d < bound {
                        candidates.push(-d, candidate)
                        results.push(d, candidate)
                        if results.count > ef { results.pop() }
                        bound = results.topDistance
                    }
                }
            }
            return results
        }
    }

    /// Nodes whose codes a layer-0 search asks the cache for ahead of the one it measures.
    static var prefetchAhead: Int { 3 }

    /// Distance between two stored nodes (bf16 needs `a` decoded, `decodedA`; int8 codes meet directly).
    private func nodeDistance(_ a: Int32, _ b: Int32, decodedA: UnsafePointer<Float>?) -> Float {
        switch code.storage {
        case .fp32:
            return code.exactDistance(codePointer(a).assumingMemoryBound(to: Float.self),
                                      codePointer(b).assumingMemoryBound(to: Float.self))
        case .int8:
            return code.int8Distance(codePointer(a), scale: scale(a), squaredNorm: squaredNorm(a), codePointer(b),
                                     scale: scale(b), squaredNorm: squaredNorm(b))
        case .bf16:
            return distance(EncodedQuery(vector: decodedA!, squaredNorm: squaredNorm(a)), b)
        }
    }

    /// HNSW's neighbour-selection heuristic: keep a candidate only if it is closer to the base than to
    /// every neighbour already kept, which spreads links across directions.
    func selectNeighbors(_ sorted: [(distance: Float, node: Int32)], limit: Int,
                         scratch: inout SearchScratch) -> [(distance: Float, node: Int32)] {
        if sorted.count <= limit { return sorted }
        var kept: [(distance: Float, node: Int32)] = []
        kept.reserveCapacity(limit)
        for candidate in sorted {
            if kept.count >= limit { break }
            var good = true
            scratch.decoded.withUnsafeMutableBufferPointer { buffer in
                var decoded: UnsafePointer<Float>? = nil
                if code.storage == .bf16 {
                    code.decode(codePointer(candidate.node), scale: scale(candidate.node), into: buffer.baseAddress!)
                    decoded = UnsafePointer(buffer.baseAddress!)
                }
                for k in kept where nodeDistance(candidate.node, k.node, decodedA: decoded) < candidate.distance {
                    good = false
                    break
                }
            }
            if good { kept.append(candidate) }
        }
        return kept
    }

    /// Links `node` to `chosen` at `level` and adds the reverse links, pruning lists that overflow.
    func connect(_ node: Int32, _ chosen: [(distance: Float, node: Int32)], level: Int, scratch: inout SearchScratch,
                 locking: Bool) {
        if locking { loupe_spin_lock(locks + Int(node)) }
        let own = links(node, level: level)
        own[0] = Int32(chosen.count)
        for (j, c) in chosen.enumerated() { own[1 + j] = c.node }
        if locking { loupe_spin_unlock(locks + Int(node)) }
        let limit = maxLinks(level: level)
        for c in chosen {
            let other = c.node
            if locking { loupe_spin_lock(locks + Int(other)) }
            let list = links(other, level: level)
            let n = Int(list[0])
            if n < limit {
                list[1 + n] = node
                list[0] = Int32(n + 1)
            } else {
                var candidates: [(distance: Float, node: Int32)] = [(c.distance, node)]
                candidates.reserveCapacity(n + 1)
                scratch.decoded.withUnsafeMutableBufferPointer { buffer in
                    var decoded: UnsafePointer<Float>? = nil
                    if code.storage == .bf16 {
                        code.decode(codePointer(other), scale: scale(other), into: buffer.baseAddress!)
                        decoded = UnsafePointer(buffer.baseAddress!)
                    }
                    for j in 0..<n {
                        candidates.append((nodeDistance(other, list[1 + j], decodedA: decoded), list[1 + j]))
                    }
                }
                candidates.sort { $0.distance < $1.distance }
                let kept = selectNeighbors(candidates, limit: limit, scratch: &scratch)
                list[0] = Int32(kept.count)
                for (j, k) in kept.enumerated() { list[1 + j] = k.node }
            }
            if locking { loupe_spin_unlock(locks + Int(other)) }
        }
    }
}
