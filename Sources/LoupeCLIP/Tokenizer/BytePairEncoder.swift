/// Applies CLIP's byte-level BPE merges to one pre-tokenised word.
///
/// Symbols are handled as vocabulary ids rather than strings: every symbol BPE can produce
/// (a byte, a byte plus `</w>`, or the result of a merge) has an id, so the merge table is
/// keyed by a pair of ids and the inner loop never builds a string.
struct BytePairEncoder: Sendable {
    /// The id of each byte's symbol, such as `a`.
    private let byteIDs: [Int32]
    /// The id of each byte's symbol at the end of a word, such as `a</w>`.
    private let finalByteIDs: [Int32]
    /// `(left << 32) | right` → `(rank << 32) | merged`.
    private let merges: [UInt64: UInt64]

    /// The priority of a pair that is not a merge rule.
    private static let noMerge = Int32.max

    /// Builds the encoder from a vocabulary and the merge rules in priority order.
    ///
    /// - Throws: ``CLIPError/Code/invalidTokenizer`` if the vocabulary lacks a byte symbol.
    init(vocabulary: Vocabulary, merges: [MergeRules.Resolved]) throws(CLIPError) {
        func id(of symbol: String) throws(CLIPError) -> Int32 {
            guard let id = vocabulary.id(of: symbol) else {
                throw CLIPError(.invalidTokenizer, "the vocabulary has no entry for \"\(symbol)\"")
            }
            return id
        }
        var byteIDs: [Int32] = []
        var finalByteIDs: [Int32] = []
        for scalar in ByteLevelAlphabet.scalars {
            byteIDs.append(try id(of: String(scalar)))
            finalByteIDs.append(try id(of: String(scalar) + ByteLevelAlphabet.endOfWordSuffix))
        }
        var table: [UInt64: UInt64] = [:]
        table.reserveCapacity(merges.count)
        for (rank, merge) in merges.enumerated() {
            // Like Python's dict(zip(merges, ranks)), a repeated rule keeps its last rank.
            table[Self.key(merge.left, merge.right)] =
                UInt64(rank) << 32 | UInt64(UInt32(bitPattern: merge.result))
        }
        self.byteIDs = byteIDs
        self.finalByteIDs = finalByteIDs
        self.merges = table
    }

    /// Encodes one word, given as UTF-8 bytes, and appends its token ids to `output`.
    ///
    /// Follows the reference loop: find the adjacent pair with the lowest merge rank, merge
    /// every non-overlapping occurrence of it from left to right, and repeat until no
    /// adjacent pair is a merge rule.
    func encode(_ word: [UInt8], into output: inout [Int32]) {
        guard let last = word.last else { return }
        var symbols = word.dropLast().map { byteIDs[Int($0)] }
        symbols.append(finalByteIDs[Int(last)])
        guard symbols.count > 1 else {
            output.append(contentsOf: symbols)
            return
        }
        // ranks[i] is the rank of (symbols[i], symbols[i + 1]), kept up to date so that a
        // pass only looks up the pairs it has just created.
        var ranks = (0..<(symbols.count - 1)).map { rank(symbols[$0], symbols[$0 + 1]).rank }
        var merged: [Int32] = []
        var mergedRanks: [Int32] = []
        // For each symbol in `merged`, its index in `symbols`, or -1 if it is new.
        var origins: [Int] = []
        while symbols.count > 1 {
            guard let best = ranks.indices.min(by: { ranks[$0] < ranks[$1] }),
                ranks[best] != Self.noMerge
            else { break }
            let (left, right) = (symbols[best], symbols[best + 1])
            let result = rank(left, right).result

            merged.removeAll(keepingCapacity: true)
            origins.removeAll(keepingCapacity: true)
            var index = 0
            while index < symbols.count {
                if index + 1 < symbols.count, symbols[index] == left, symbols[index + 1] == right {
                    merged.append(result)
                    origins.append(-1)
                    index += 2
                } else {
                    merged.append(symbols[index])
                    origins.append(index)
                    index += 1
                }
            }
            mergedRanks.removeAll(keepingCapacity: true)
            for position in 0..<max(merged.count - 1, 0) {
                let origin = origins[position]
                if origin >= 0, origins[position + 1] == origin + 1 {
                    mergedRanks.append(ranks[origin])
                } else {
                    mergedRanks.append(rank(merged[position], merged[position + 1]).rank)
                }
            }
            swap(&symbols, &merged)
            swap(&ranks, &mergedRanks)
        }
        output.append(contentsOf: symbols)
    }

    private func rank(_ left: Int32, _ right: Int32) -> (rank: Int32, result: Int32) {
        guard let entry = merges[Self.key(left, right)] else { return (Self.noMerge, -1) }
        return (Int32(truncatingIfNeeded: entry >> 32), Int32(truncatingIfNeeded: entry))
    }

    private static func key(_ left: Int32, _ right: Int32) -> UInt64 {
        UInt64(UInt32(bitPattern: left)) << 32 | UInt64(UInt32(bitPattern: right))
    }
}
