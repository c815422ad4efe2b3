/// One term of a composed query: a vector and how much it counts (negative to move away from it).
public struct WeightedVector: Sendable, Equatable {
    public var weight: Float
    public var vector: [Float]

    public init(weight: Float, vector: [Float]) {
        self.weight = weight
        self.vector = vector
    }
}

/// Query arithmetic in embedding space: `"beach" + 2 × "sunset" − "people"`.
///
/// Each term's unit vector is scaled by its weight and summed; the sum is normalised again so scores
/// stay cosines. This is how rclip and Marqo combine multi-term queries.
public enum QueryArithmetic {
    /// The normalised weighted sum of `terms`.
    ///
    /// - Throws: `LoupeError(.invalidQuery)` when there are no terms, the dimensions differ, or the
    ///   terms cancel out (e.g. the same text added and subtracted).
    public static func combine(_ terms: [WeightedVector]) throws -> [Float] {
        guard let first = terms.first else { throw LoupeError(.invalidQuery, "a query needs at least one term") }
        let dimension = first.vector.count
        var sum = [Float](repeating: 0, count: dimension)
        for term in terms {
            guard term.vector.count == dimension else {
                throw LoupeError(.invalidQuery, "query terms have different dimensions (\(dimension) and \(term.vector.count))")
            }
            guard term.weight.isFinite else { throw LoupeError(.invalidQuery, "weight \(term.weight) is not a finite number") }
            let unit = VectorMath.normalized(term.vector) ?? term.vector
            for i in 0..<dimension { sum[i] += term.weight * unit[i] }
        }
        guard let result = VectorMath.normalized(sum) else {
            throw LoupeError(.invalidQuery, "the query terms cancel out; nothing is left to search for")
        }
        return result
    }
}

/// The `WEIGHT:TERM` syntax of `--add` and `--subtract` (e.g. `2:sunset`, `0.5:photos/cat.jpg`).
public struct WeightedTerm: Sendable, Equatable {
    public var weight: Float
    public var term: String

    public init(weight: Float, term: String) {
        self.weight = weight
        self.term = term
    }

    /// Parses `WEIGHT:TERM`, or a bare `TERM` with weight 1. A prefix before the first colon counts as a weight
    /// only when it is a plain positive number, so `C:\photos\cat.jpg`, `https://…` and `note: a cat` stay
    /// whole terms.
    public init(parsing text: String) throws {
        if let colon = text.firstIndex(of: ":") {
            let prefix = text[..<colon]
            // Words Swift would read as numbers are refused rather than silently taken as text.
            if ["inf", "infinity", "nan", "+inf", "-inf"].contains(prefix.lowercased()) {
                throw LoupeError(.invalidQuery, "'\(prefix)' in '\(text)' is not a finite positive weight")
            }
            let isNumber = !prefix.isEmpty && prefix.allSatisfy { $0.isASCII && ($0.isNumber || $0 == ".") }
            if isNumber {
                guard let weight = Float(prefix), weight.isFinite, weight > 0 else {
                    throw LoupeError(.invalidQuery, "'\(prefix)' in '\(text)' is not a positive weight")
                }
                let term = String(text[text.index(after: colon)...])
                guard !term.trimmingCharacters(in: .whitespaces).isEmpty else {
                    throw LoupeError(.invalidQuery, "'\(text)' has a weight but no term")
                }
                self.init(weight: weight, term: term)
                return
            }
        }
        guard !text.trimmingCharacters(in: .whitespaces).isEmpty else {
            throw LoupeError(.invalidQuery, "an empty query term")
        }
        self.init(weight: 1, term: text)
    }
}

import Foundation
