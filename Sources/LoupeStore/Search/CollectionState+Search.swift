/// Choosing between an exact scan and the graph, per query.
extension CollectionState {
    /// The `k` nearest slots to a prepared query among `allowed` (nil: every live slot).
    ///
    /// With a graph, rows it covers are searched through it unless few match (then exactly); rows added
    /// since the last build are always scanned exactly. Filtered traversal widens `ef` as the filter
    /// narrows, since fewer visited nodes count toward the result list.
    func nearest(field: Int, query: [Float], k: Int, ef: Int, allowed: LabelBitset?,
                 exactRows: Int, exactSelectivity: Double) -> [(slot: Int, distance: Float)] {
        let f = schema.vectorFields[field]
        let dim = f.dimension!
        let exactCode = QuantizedCode(dimension: dim, metric: f.metric ?? .cosine, storage: .fp32)
        let matchCount = allowed?.population ?? liveCount
        guard k > 0, matchCount > 0 else { return [] }
        let indexed = graphs[field] == nil ? 0 : indexedSlots[field]
        let selectivity = Double(matchCount) / Double(max(1, liveCount))
        let useGraph = graphs[field] != nil && indexed > 0 && matchCount > exactRows
            && selectivity >= exactSelectivity && matchCount > k
        var results: [(slot: Int, distance: Float)] = []
        query.withUnsafeBufferPointer { q in
            let qp = q.baseAddress!
            var heap = DistanceHeap(capacity: k + 1)
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
                let widened = selectivity < 1 ? Int(Double(max(ef, k)) / max(selectivity, 0.05).squareRoot()) : max(ef, k)
                let exact: ((Int64) -> UnsafePointer<Float>)? = graph.code.storage == .fp32 ? nil : { label in
                    self.vectorPointer(field: field, slot: Int(label))
                }
                let found = graph.search(qp, k: k, ef: widened, allowed: mask, exact: exact, scratch: &scratch[field])
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
