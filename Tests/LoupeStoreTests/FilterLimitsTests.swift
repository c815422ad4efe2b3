import Testing
@testable import LoupeStore

/// Hostile filters are refused with a clear error instead of exhausting the stack or the CPU.
@Suite struct FilterLimitsTests {
    func refusal(_ text: String, limits: FilterLimits = FilterLimits()) -> String? {
        do {
            _ = try FilterExpression.parse(text, limits: limits)
            return nil
        } catch let error as StoreError {
            #expect(error.code == .invalidFilter)
            return error.message
        } catch {
            Issue.record("unexpected error \(error)")
            return nil
        }
    }

    @Test func deepParenthesesAreRefusedNotACrash() {
        // 3,000 levels overflowed the stack of the recursive parser (a SIGSEGV with no log line).
        let deep = String(repeating: "(", count: 3_000) + "a == 1" + String(repeating: ")", count: 3_000)
        #expect(refusal(deep)?.contains("nests deeper than 64 levels") == true)
        let ok = String(repeating: "(", count: 60) + "a == 1" + String(repeating: ")", count: 60)
        #expect(refusal(ok) == nil)
    }

    @Test func deepNotAndUnaryChainsAreRefused() {
        #expect(refusal(String(repeating: "not ", count: 5_000) + "a")?.contains("nests deeper") == true)
        #expect(refusal("a == " + String(repeating: "-", count: 5_000) + "1")?.contains("nests deeper") == true)
        #expect(refusal("a == " + String(repeating: "2 ** ", count: 5_000) + "1")?.contains("nests deeper") == true)
        #expect(refusal(String(repeating: "[", count: 5_000))?.contains("nests deeper") == true)
    }

    @Test func longAndChainsAreRefused() {
        // 20k terms took 12.9 s to evaluate over the library.
        let chain = Array(repeating: "a == 1", count: 20_000).joined(separator: " and ")
        #expect(refusal(chain)?.contains("more than 1000 operators") == true)
        let fine = Array(repeating: "a == 1", count: 400).joined(separator: " and ")
        #expect(refusal(fine) == nil)
    }

    @Test func longLikePatternsAreRefused() {
        let pattern = "%" + String(repeating: "a", count: 40_000)
        #expect(refusal("title like \"\(pattern)\"")?.contains("like pattern is 40001 characters") == true)
        #expect(refusal("title like \"%cat%\"") == nil)
    }

    @Test func longExpressionsAndListsAreRefused() {
        var limits = FilterLimits()
        limits.maxLength = 100
        #expect(refusal(String(repeating: " ", count: 200) + "a == 1", limits: limits)?.contains("the limit is 100") == true)
        limits = FilterLimits()
        limits.maxListItems = 10
        #expect(refusal("id in [" + (1...20).map(String.init).joined(separator: ",") + "]", limits: limits)?.contains("more than 10 items") == true)
        // A long list of ids is an ordinary filter.
        #expect(refusal("id in [" + (1...10_000).map(String.init).joined(separator: ",") + "]") == nil)
    }

    @Test func limitsKeepEvaluationWorking() throws {
        let f = try FilterExpression.parse(String(repeating: "(", count: 30) + "age > 18" + String(repeating: ")", count: 30))
        #expect(filterRows.filter { f.matches($0) }.count == 3)
    }
}
