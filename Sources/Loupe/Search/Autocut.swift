/// Where a ranking stops being relevant: results are split into *relevance groups* at score cliffs, and
/// autocut N keeps the first N groups.
///
/// A flat score threshold does not work for CLIP (a good match scores 0.2 for one query and 0.35 for
/// another), so the cut is judged from the shape of the ranking itself. Over the top `window` scores
/// s₀ ≥ s₁ ≥ …, the gap gᵢ = sᵢ − sᵢ₊₁ is a **cliff** when both hold:
///
/// - it is large against the spread of the top scores: gᵢ ≥ 0.12 · (s₀ − s_last of the window);
/// - it is large against the group above it: gᵢ ≥ 2 · (sⱼ − sᵢ), where sⱼ starts that group (s₀ for the
///   first), so what is kept is tighter than the drop.
///
/// Autocut never keeps fewer than `minimumKept` results (or all, when there are fewer): the top of any
/// ranking, even one of random vectors, has large gaps between its first few scores by chance alone, so a
/// cliff found there is not evidence of a boundary. The thresholds were chosen on the shapes library
/// (all 36 colour-shape queries, at 2 and 3 pictures a class, keep every picture of their class and drop
/// at least 80% of the rest) and on libraries
/// of random unit vectors (10 to 100,000 vectors, 64 and 512 dimensions, 500 random queries each), where
/// about 41% of searches keep everything, 59% keep exactly `minimumKept`, and 0.8% are cut elsewhere (at
/// most 1.8%, in libraries of 10 to 20 vectors). A minimum of 4 would cut 0.16% elsewhere, but would show
/// a fourth result beside the demo library's three red circles.
/// Scores below the window all belong to its last group.
///
/// ```swift
/// let groups = Autocut.groups([0.52, 0.51, 0.50, 0.21, 0.18, 0.15])   // [0, 0, 0, 1, 1, 1]
/// let kept = Autocut.kept(groups, autocut: 1)                         // 3
/// ```
public enum Autocut {
    /// How many of the top scores the rule looks at.
    public static let window = 64
    /// The fewest results autocut keeps (all of them when there are fewer).
    public static let minimumKept = 3
    /// The largest autocut a search accepts: a window of 64 scores has at most 63 cliffs.
    public static let maximum = window - 1

    /// A cliff is at least this fraction of the window's spread (s₀ − s_last).
    static let spreadFraction: Float = 0.12
    /// ...and at least this many times the spread of its group above it (sⱼ − sᵢ).
    static let groupFactor: Float = 2

    /// The relevance group of each score: 0 for the scores before the first cliff, 1 up to the second,
    /// and so on. `scores` are in ranking order (best first); scores out of order or not finite end the
    /// search for cliffs (everything after is in the same group).
    public static func groups(_ scores: [Float]) -> [Int] {
        var groups = [Int](repeating: 0, count: scores.count)
        let count = min(scores.count, window)
        guard count >= 2, scores[0].isFinite, scores[count - 1].isFinite else { return groups }
        let spread = scores[0] - scores[count - 1]
        guard spread > 0 else { return groups }
        var group = 0
        var groupStart = scores[0]
        var looking = true
        for index in 1..<scores.count {
            // Past the window, or past a score out of order, everything stays in the last group reached.
            if looking && index < count {
                let gap = scores[index - 1] - scores[index]
                if !(gap.isFinite && gap >= 0) {
                    looking = false
                } else if gap >= spreadFraction * spread && gap >= groupFactor * (groupStart - scores[index - 1]) {
                    group += 1
                    groupStart = scores[index]
                }
            }
            groups[index] = group
        }
        return groups
    }

    /// How many results autocut keeps: those of the first `autocut` groups, at least `minimumKept`; all of
    /// them when `autocut` is 0.
    public static func kept(_ groups: [Int], autocut: Int) -> Int {
        guard autocut > 0 else { return groups.count }
        let inGroups = groups.firstIndex { $0 >= autocut } ?? groups.count
        return min(groups.count, max(inGroups, minimumKept))
    }
}
