import Testing
@testable import LoupeStore

/// Rows the grammar cases are checked against: ids 1...4.
let filterRows: [Row] = [
    ["id": 1, "age": 15, "score": 0.5, "city": "Paris", "title": "cat on a mat", "ok": true,
     "tags": ["a", "b"], "nums": [1, 2, 3], "meta": ["a": [10, 20], "b": "x", "n": ["deep": 1]], "color": "red",
     "opt": nil],
    ["id": 2, "age": 20, "score": 1.5, "city": "Oslo", "title": "dog", "ok": false,
     "tags": ["b", "c"], "nums": [4], "meta": ["a": [30], "b": "y"], "opt": 7],
    ["id": 3, "age": 25, "score": 2.5, "city": "Rome", "title": "a cat's life", "ok": true,
     "tags": [], "nums": [], "meta": ["b": "x"], "color": "blue", "opt": nil],
    ["id": 4, "age": 30, "score": -1.0, "city": "paris", "title": "50% off", "ok": false,
     "tags": ["a"], "nums": [5, 6], "meta": ["a": [10]], "opt": 3],
]

/// (expression, ids of the rows it matches).
let validCases: [(String, [Int64])] = [
    ("", [1, 2, 3, 4]),
    ("age > 18", [2, 3, 4]),
    ("age >= 20", [2, 3, 4]),
    ("age < 20", [1]),
    ("age <= 20", [1, 2]),
    ("age == 25", [3]),
    ("age != 25", [1, 2, 4]),
    ("age <> 25", [1, 2, 4]),
    ("10 < age <= 20", [1, 2]),
    ("15 <= age < 30", [1, 2, 3]),
    ("20 > age", [1]),
    ("age > 18 and city == \"Oslo\"", [2]),
    ("age > 18 AND city == 'Oslo'", [2]),
    ("age > 18 && city == 'Oslo'", [2]),
    ("age < 18 or city == 'Rome'", [1, 3]),
    ("age < 18 OR city == 'Rome'", [1, 3]),
    ("age < 18 || city == 'Rome'", [1, 3]),
    ("not age > 18", [1]),
    ("NOT (age > 18)", [1]),
    ("!(age > 18)", [1]),
    ("not not age > 18", [2, 3, 4]),
    ("age < 18 or age > 28 and ok == false", [1, 4]),
    ("(age < 18 or age > 28) and ok == false", [4]),
    ("age > 18 and not ok", [2, 4]),
    ("ok", [1, 3]),
    ("ok == true", [1, 3]),
    ("ok != true", [2, 4]),
    ("city in ['Paris', 'Rome']", [1, 3]),
    ("city not in ['Paris', 'Rome']", [2, 4]),
    ("id in [1, 4]", [1, 4]),
    ("id in []", []),
    ("id not in []", [1, 2, 3, 4]),
    ("age in [15.0, 30]", [1, 4]),
    ("city like 'P%'", [1]),
    ("city like '%is'", [1, 4]),
    ("title like '%cat%'", [1, 3]),
    ("title like 'd_g'", [2]),
    ("title like '50\\% off'", [4]),
    ("title like '50\\\\%%'", [4]),
    ("title like 'd\\\\_g'", []),
    ("title like '%\\\\%%'", [4]),
    ("city like '%'", [1, 2, 3, 4]),
    ("age + 5 > 25", [3, 4]),
    ("age - 5 == 10", [1]),
    ("age * 2 >= 50", [3, 4]),
    ("age / 2 == 7.5", [1]),
    ("age % 2 == 1", [1, 3]),
    ("age % 10 == 0", [2, 4]),
    ("2 ** 3 == 8", [1, 2, 3, 4]),
    ("age ** 2 > 600", [3, 4]),
    ("-age < -20", [3, 4]),
    ("age + 2 * 5 == 25", [1]),
    ("(age + 2) * 5 == 110", [2]),
    ("2 ** 3 ** 2 == 512", [1, 2, 3, 4]),
    ("score > 0", [1, 2, 3]),
    ("score < -0.5", [4]),
    ("score == 1.5", [2]),
    ("score >= 1e0", [2, 3]),
    ("opt is null", [1, 3]),
    ("opt IS NOT NULL", [2, 4]),
    ("opt > 5", [2]),
    ("color is null", [2, 4]),
    ("color == 'red'", [1]),
    ("meta['b'] == 'x'", [1, 3]),
    ("meta[\"a\"][0] == 10", [1, 4]),
    ("meta['a'][1] == 20", [1]),
    ("meta['n']['deep'] == 1", [1]),
    ("meta['missing'] is null", [1, 2, 3, 4]),
    ("$meta['color'] == 'blue'", [3]),
    ("tags[0] == 'a'", [1, 4]),
    ("array_contains(tags, 'b')", [1, 2]),
    ("ARRAY_CONTAINS(tags, 'a')", [1, 4]),
    ("array_contains_all(tags, ['a', 'b'])", [1]),
    ("array_contains_any(tags, ['c', 'a'])", [1, 2, 4]),
    ("array_length(tags) == 0", [3]),
    ("array_length(nums) >= 2", [1, 4]),
    ("json_contains(meta['a'], 10)", [1, 4]),
    ("json_contains_all(meta['a'], [10, 20])", [1]),
    ("json_contains_any(meta['a'], [20, 30])", [1, 2]),
    ("not array_contains(tags, 'a')", [2, 3]),
    ("true", [1, 2, 3, 4]),
    ("false", []),
    ("age > 18 and (city like 'R%' or array_contains(tags, 'c'))", [2, 3]),
    ("id in [1,2,3,] and age > 15", [2, 3]),
    ("  age   >   18  ", [2, 3, 4]),
]

/// (expression, the offset where the error is reported).
let invalidCases: [(String, Int)] = [
    ("age >", 5),
    ("age > > 3", 6),
    ("(age > 3", 8),
    ("age > 3)", 7),
    ("age = 3", 4),
    ("age > 3 and", 11),
    ("and age > 3", 0),
    ("city in 'Paris'", 8),
    ("city in ['a', 'b'", 17),
    ("city like 3", 10),
    ("opt is 3", 7),
    ("title like 'unterminated", 11),
    ("age # 3", 4),
    ("foo(1)", 0),
    ("array_contains(tags)", 0),
    ("age > 99999999999999999999", 6),
    ("age > {missing}", 6),
    ("age > {", 6),
    ("meta[", 5),
    ("meta[-1]", 5),
    ("meta['a'", 8),
    ("age not 3", 8),
    ("1.2.3 > age", 0),
]

@Suite struct FilterExpressionTests {
    @Test(arguments: validCases)
    func validExpressionMatchesExpectedRows(expression: String, expected: [Int64]) throws {
        let filter = try FilterExpression.parse(expression)
        let matched = filterRows.filter { filter.matches($0) }.compactMap { $0["id"]?.intValue }
        #expect(matched == expected, "\(expression) matched \(matched)")
    }

    @Test(arguments: invalidCases)
    func invalidExpressionReportsPosition(expression: String, position: Int) {
        do {
            _ = try FilterExpression.parse(expression)
            Issue.record("'\(expression)' parsed but should fail at \(position)")
        } catch let error as StoreError {
            #expect(error.code == .invalidFilter)
            #expect(error.position == position, "'\(expression)': \(error)")
            #expect(error.expression == expression)
        } catch {
            Issue.record("unexpected error \(error)")
        }
    }

    @Test func errorsSayWhatWasExpected() throws {
        let error = try #require(throws: StoreError.self) { try FilterExpression.parse("(age > 3") }
        #expect(error.message.contains("')'"), "\(error)")
        let eq = try #require(throws: StoreError.self) { try FilterExpression.parse("age = 3") }
        #expect(eq.message.contains("'=='"), "\(eq)")
    }

    @Test func templateParametersAreBound() throws {
        let f = try FilterExpression.parse("age > {low} and city in {cities} and title like {pattern}",
                                           parameters: ["low": 18, "cities": ["Oslo", "Rome"], "pattern": "%cat%"])
        #expect(filterRows.filter { f.matches($0) }.compactMap { $0["id"]?.intValue } == [3])
    }

    @Test func precedenceBuildsTheExpectedTree() throws {
        let f = try FilterExpression.parse("a or b and not c")
        #expect(f == .or(.field("a", path: []), .and(.field("b", path: []), .not(.field("c", path: [])))))
        let chained = try FilterExpression.parse("1 < x < 3")
        #expect(chained == .and(.compare(.less, .literal(1), .field("x", path: [])),
                                .compare(.less, .field("x", path: []), .literal(3))))
    }

    @Test func grammarCoverageReachesEightyCases() {
        #expect(validCases.count + invalidCases.count >= 80)
    }
}
