// libFuzzer target for the filter parser and evaluator (scripts/fuzz filter-parser SECONDS).
// Compiled with the LoupeStore sources it needs into one module, so `internal` API is reachable.

let fuzzRows: [Row] = [
    ["id": 1, "age": 15, "score": 0.5, "city": "Paris", "tags": ["a", "b"], "meta": ["a": [10, 20], "b": "x"], "opt": nil],
    ["id": 2, "age": -3, "score": .double(.infinity), "city": "", "tags": [], "meta": ["n": ["deep": 1]], "opt": 7],
]

@_cdecl("LLVMFuzzerTestOneInput")
public func filterParserFuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    var limits = FilterLimits()
    limits.maxLength = 4_096
    guard let expression = try? FilterExpression.parse(text, parameters: ["p": .int(3), "s": .string("a%")], limits: limits)
    else { return 0 }
    for row in fuzzRows { _ = expression.matches(row) }
    _ = expression.fieldNames
    return 0
}
