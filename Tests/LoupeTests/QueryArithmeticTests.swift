import Testing
@testable import Loupe

@Suite("Query arithmetic")
struct QueryArithmeticTests {
    @Test("adding moves toward a term and subtracting moves away")
    func movesResults() throws {
        let red = TestVectors.unit([1, 0, 0])
        let square = TestVectors.unit([0, 1, 0])
        let blue = TestVectors.unit([0, 0, 1])
        let query = try QueryArithmetic.combine([.init(weight: 1, vector: red), .init(weight: 2, vector: square)])
        #expect(VectorMath.dot(query, square) > VectorMath.dot(query, red))
        #expect(abs(VectorMath.dot(query, query) - 1) < 1e-5)
        let away = try QueryArithmetic.combine([.init(weight: 1, vector: square), .init(weight: -0.5, vector: blue)])
        #expect(VectorMath.dot(away, blue) < 0)
    }

    @Test("empty, mismatched and cancelling queries are refused")
    func refusesBadQueries() {
        let v = TestVectors.unit([1, 0])
        #expect(throws: LoupeError.self) { try QueryArithmetic.combine([]) }
        #expect(throws: LoupeError.self) { try QueryArithmetic.combine([.init(weight: 1, vector: v), .init(weight: 1, vector: [1, 0, 0])]) }
        #expect(throws: LoupeError.self) { try QueryArithmetic.combine([.init(weight: 1, vector: v), .init(weight: -1, vector: v)]) }
    }

    @Test("WEIGHT:TERM parses numbers only, leaving paths and URLs whole",
          arguments: [("2:sunset", 2, "sunset"), ("0.5:photos/cat.jpg", 0.5, "photos/cat.jpg"), ("sunset", 1, "sunset"),
                      ("C:\\photos\\cat.jpg", 1, "C:\\photos\\cat.jpg"), ("https://example.com/a.jpg", 1, "https://example.com/a.jpg"),
                      ("note: a cat", 1, "note: a cat")] as [(String, Float, String)])
    func parsesWeights(text: String, weight: Float, term: String) throws {
        #expect(try WeightedTerm(parsing: text) == WeightedTerm(weight: weight, term: term))
    }

    @Test("bad weights and empty terms are errors", arguments: ["0:x", "2:", "", "1.2.3:x", "   "])
    func rejectsBadTerms(text: String) {
        #expect(throws: LoupeError.self) { try WeightedTerm(parsing: text) }
    }
}
