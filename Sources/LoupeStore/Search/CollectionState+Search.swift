/// Choosing between an exact scan and the graph, per query.
extension CollectionState {
    /// The `k` nearest slots to a prepared query among `allowed` (nil: every live slot).
    ///
    /// The plan is chosen by estimated cost, from the number of matching rows:
    /// - the graph, traversing only matching nodes (two hops across the others, see `FilterMode.twoHop`),
    ///   costs about `visitsPerCandidate` distances per slot of its beam `ef` down to 5% selectivity;
    ///   below that, restricting results (hnswlib's way) costs about `1 / s` times more;
    /// - an exact scan of the matching rows costs one distance per match.
    /// The cheaper one runs: on 100k rows with ef 256, 10% selectivity takes the graph (about 3,000
    /// distances against 10,000), 1% the exact scan (1,000). Rows added since the last build are always scanned.
    func nearest(field: Int, query: [Float], k: Int, ef: Int, allowed: LabelBitset?,
                 exactRows: Int, visitsPerCandidate: Double) -> [(slot: Int, distance: Float)] {
        let f = schema.vectorFields[field]
        let dim = f.dimension!
        let exactCode = QuantizedCode(dimension: dim, metric: f.metric ?? .cosine, storage: .fp32)
        let matchCount = allowed?.population ?? liveCount
        guard k > 0, matchCount > 0 else { return [] }
        let indexed = graphs[field] == nil ? 0 : indexedSlots[field]
        let selectivity = Double(matchCount) / Double(max(1, liveCount))
        let beam = max(ef, k)
        // (A filtered two-hop beam gets an eighth more room below: the matching subgraph is sparser.)
        // Two-hop traversal keeps the matching subgraph connected down to about 5%; below that the graph
        // has to restrict results the hnswlib way, which visits about ef / s nodes.
        let mode: HNSWIndex.FilterMode = selectivity >= 0.9 ? .restrictResults : selectivity >= 0.05 ? .twoHop : .restrictResults
        let graphCost = Double(beam) * visitsPerCandidate / (mode == .twoHop || selectivity >= 0.9 ? 1 : selectivity)
        let useGraph = graphs[field] != nil && indexed > 0 && matchCount > exactRows && matchCount > k
            && graphCost < Double(matchCount)
        var results: [(slot: Int, distance: Float)] = []
        query.withUnsafeBufferPointer { q in
            let qp = q.baseAddress!
            let heap = DistanceHeap(capacity: k + 1)
            func scan(_ range: Range<Int>) {
                vectors[field].withUnsafeBufferPointer { all in
                    for slot in range {
                        if let allowed { if !allowed.contains(slot) { continue } } else if !live[slot] { continue }
                        let d = exactCode.exactDistance(qp, all.baseAddress! + slot * dim)
                        if heap.count < k { heap.push(d, Int32(slot)) } else if d < heap.topDistance {
                            heap.pop()
                            heap.push(d, Int32(slot))
                        }
                    }
                }
            }
            if useGraph, let graph = graphs[field] {
                scan(indexed..<slotCount)
                let mask = allowed ?? (liveCount != slotCount || orphanNodes[field] > 0
                    ? LabelBitset(count: slotCount) { live[$0] } : nil)
                let exact: ((Int64) -> UnsafePointer<Float>)? = graph.code.storage == .fp32 ? nil : { label in
                    self.vectorPointer(field: field, slot: Int(label))
                }
                let found = graph.search(qp, k: k, ef: selectivity >= 0.9 ? beam : beam + beam / 8, allowed: mask,
                                         filterMode: mode,
                                         exact: exact, scratch: &scratch[field])
                for hit in found {
                    // Graph distances for quantized codes were re-ranked exactly; fp32 ones are exact already.
                    if heap.count < k { heap.push(hit.distance, Int32(hit.label)) } else if hit.distance < heap.topDistance {
                        heap.pop()
                        heap.push(hit.distance, Int32(hit.label))
                    }
                }
            } else {
                scan(0..<slotCount)
            }
            results = heap.drainAscending().map { (Int($0.node), $0.distance) }
        }
        return results
    }
}
