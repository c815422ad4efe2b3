/// A recursive-descent parser for Milvus filter expressions.
///
/// Precedence, loosest first: `or`/`||`; `and`/`&&`; `not`/`!`; comparisons (chained `a < b <= c` means
/// `a < b and b <= c`), `in`, `not in`, `like`, `is [not] null`; `+ -`; `* / %`; unary `-`; `**`
/// (right-associative); postfix paths `x["k"][0]`; atoms.
struct FilterParser {
    let text: String
    let tokens: [FilterToken]
    let parameters: [String: FieldValue]
    let limits: FilterLimits
    var index = 0
    /// Nesting levels open at the current token (see `enter()`).
    var depth = 0
    /// Operators parsed so far.
    var operators = 0

    init(text: String, parameters: [String: FieldValue], limits: FilterLimits = FilterLimits()) throws {
        guard text.utf8.count <= limits.maxLength else {
            throw StoreError(.invalidFilter, "the filter is \(text.utf8.count) bytes long; the limit is \(limits.maxLength)",
                             expression: String(text.prefix(80)) + "...", position: limits.maxLength)
        }
        self.text = text
        self.tokens = try FilterLexer(text: text).tokens()
        self.parameters = parameters
        self.limits = limits
    }

    /// Opens one nesting level (a recursion of the parser, and later of evaluation); balanced by `depth -= 1`.
    mutating func enter() throws {
        depth += 1
        guard depth <= limits.maxDepth else {
            throw StoreError(.invalidFilter, "the filter nests deeper than \(limits.maxDepth) levels", expression: text,
                             position: current.position)
        }
    }

    /// Counts one operator node; a chain like `a and b and ...` is as deep as it is long once evaluated.
    mutating func countOperator() throws {
        operators += 1
        guard operators <= limits.maxOperators else {
            throw StoreError(.invalidFilter, "the filter has more than \(limits.maxOperators) operators", expression: text,
                             position: current.position)
        }
    }

    /// Checks a `like` pattern's length.
    func checkPattern(_ pattern: String) throws {
        guard pattern.count <= limits.maxPatternLength else {
            throw StoreError(.invalidFilter, "the like pattern is \(pattern.count) characters long; the limit is \(limits.maxPatternLength)",
                             expression: text, position: current.position)
        }
    }

    var current: FilterToken { tokens[index] }

    func fail(_ expected: String, at token: FilterToken? = nil) -> StoreError {
        let t = token ?? current
        return StoreError(.invalidFilter, "expected \(expected), found \(t.description)", expression: text,
                          position: t.position)
    }

    mutating func advance() { if index < tokens.count - 1 { index += 1 } }

    mutating func parseAll() throws -> FilterExpression {
        if current.kind == .end { return .literal(.bool(true)) }
        let e = try parseOr()
        guard current.kind == .end else { throw fail("an operator or the end of the expression") }
        return e
    }

    mutating func parseOr() throws -> FilterExpression {
        try enter()
        defer { depth -= 1 }
        var left = try parseAnd()
        while current.isKeyword("or") || current.isSymbol("||") {
            try countOperator()
            advance()
            left = .or(left, try parseAnd())
        }
        return left
    }

    mutating func parseAnd() throws -> FilterExpression {
        var left = try parseNot()
        while current.isKeyword("and") || current.isSymbol("&&") {
            try countOperator()
            advance()
            left = .and(left, try parseNot())
        }
        return left
    }

    mutating func parseNot() throws -> FilterExpression {
        if current.isKeyword("not") || current.isSymbol("!") {
            try enter()
            defer { depth -= 1 }
            try countOperator()
            advance()
            return .not(try parseNot())
        }
        return try parseComparison()
    }

    static let comparisons: [String: FilterExpression.ComparisonOperator] = [
        "==": .equal, "!=": .notEqual, "<": .less, "<=": .lessOrEqual, ">": .greater, ">=": .greaterOrEqual,
    ]

    mutating func parseComparison() throws -> FilterExpression {
        let left = try parseAdditive()
        if case .symbol(let s) = current.kind, let op = Self.comparisons[s] {
            try countOperator()
            advance()
            var right = try parseAdditive()
            var result = FilterExpression.compare(op, left, right)
            while case .symbol(let s2) = current.kind, let op2 = Self.comparisons[s2] {
                try countOperator()
                advance()
                let next = try parseAdditive()
                result = .and(result, .compare(op2, right, next))
                right = next
            }
            return result
        }
        if current.isKeyword("in") {
            try countOperator()
            advance()
            return .inList(left, try parseListOperand(), negated: false)
        }
        if current.isKeyword("not") {
            try countOperator()
            advance()
            guard current.isKeyword("in") else {
                throw fail("'in' after 'not' (use 'not' before a condition, e.g. not (a > 1))")
            }
            advance()
            return .inList(left, try parseListOperand(), negated: true)
        }
        if current.isKeyword("like") {
            try countOperator()
            advance()
            let t = current
            switch t.kind {
            case .string(let pattern):
                try checkPattern(pattern)
                advance()
                return .like(left, pattern)
            case .parameter(let name):
                guard case .string(let pattern)? = parameters[name] else { throw fail("a string for {\(name)}") }
                try checkPattern(pattern)
                advance()
                return .like(left, pattern)
            default:
                throw fail("a string pattern after 'like'")
            }
        }
        if current.isKeyword("is") {
            try countOperator()
            advance()
            var negated = false
            if current.isKeyword("not") {
                negated = true
                advance()
            }
            guard current.isKeyword("null") else { throw fail("'null' after 'is'") }
            advance()
            return .isNull(left, negated: negated)
        }
        return left
    }

    mutating func parseListOperand() throws -> FilterExpression {
        let e = try parseAdditive()
        switch e {
        case .list, .literal(.array), .field: return e
        default: throw fail("a list like [1, 2] after 'in'", at: tokens[index - 1])
        }
    }

    mutating func parseAdditive() throws -> FilterExpression {
        var left = try parseMultiplicative()
        while current.isSymbol("+") || current.isSymbol("-") {
            try countOperator()
            let op: FilterExpression.ArithmeticOperator = current.isSymbol("+") ? .add : .subtract
            advance()
            left = .arithmetic(op, left, try parseMultiplicative())
        }
        return left
    }

    mutating func parseMultiplicative() throws -> FilterExpression {
        var left = try parseUnary()
        while current.isSymbol("*") || current.isSymbol("/") || current.isSymbol("%") {
            try countOperator()
            let op: FilterExpression.ArithmeticOperator =
                current.isSymbol("*") ? .multiply : current.isSymbol("/") ? .divide : .modulo
            advance()
            left = .arithmetic(op, left, try parseUnary())
        }
        return left
    }

    mutating func parseUnary() throws -> FilterExpression {
        if current.isSymbol("-") {
            try enter()
            defer { depth -= 1 }
            try countOperator()
            advance()
            let operand = try parseUnary()
            switch operand {
            case .literal(.int(let i)): return .literal(.int(-i))
            case .literal(.double(let d)): return .literal(.double(-d))
            default: return .negate(operand)
            }
        }
        if current.isSymbol("+") {
            try enter()
            defer { depth -= 1 }
            advance()
            return try parseUnary()
        }
        return try parsePower()
    }

    mutating func parsePower() throws -> FilterExpression {
        let base = try parsePostfix()
        if current.isSymbol("**") {
            try enter()
            defer { depth -= 1 }
            try countOperator()
            advance()
            return .arithmetic(.power, base, try parseUnary())
        }
        return base
    }

    mutating func parsePostfix() throws -> FilterExpression {
        var e = try parsePrimary()
        while current.isSymbol("[") {
            guard case .field(let name, var path) = e else { throw fail("an operator (only fields take [ ] paths)") }
            advance()
            switch current.kind {
            case .string(let key): path.append(.key(key))
            case .integer(let i) where i >= 0 && i <= Int64(Int32.max): path.append(.index(Int(i)))
            default: throw fail("a string key or a non-negative index inside [ ]")
            }
            advance()
            guard current.isSymbol("]") else { throw fail("']'") }
            advance()
            e = .field(name, path: path)
        }
        return e
    }

    mutating func parsePrimary() throws -> FilterExpression {
        let t = current
        switch t.kind {
        case .integer(let i):
            advance()
            return .literal(.int(i))
        case .double(let d):
            advance()
            return .literal(.double(d))
        case .string(let s):
            advance()
            return .literal(.string(s))
        case .parameter(let name):
            guard let value = parameters[name] else {
                throw StoreError(.invalidFilter, "template parameter {\(name)} has no value", expression: text,
                                 position: t.position)
            }
            advance()
            return .literal(value)
        case .symbol("("):
            advance()
            let e = try parseOr()
            guard current.isSymbol(")") else { throw fail("')' to close the '(' at \(t.position)") }
            advance()
            return e
        case .symbol("["):
            advance()
            var items: [FilterExpression] = []
            if current.isSymbol("]") {
                advance()
                return .list(items)
            }
            while true {
                guard items.count < limits.maxListItems else {
                    throw StoreError(.invalidFilter, "the list opened at \(t.position) has more than \(limits.maxListItems) items",
                                     expression: text, position: current.position)
                }
                items.append(try parseOr())
                if current.isSymbol(",") {
                    advance()
                    if current.isSymbol("]") { break }
                    continue
                }
                break
            }
            guard current.isSymbol("]") else { throw fail("',' or ']' in the list opened at \(t.position)") }
            advance()
            if items.allSatisfy({ if case .literal = $0 { return true } else { return false } }) {
                return .literal(.array(items.map { if case .literal(let v) = $0 { return v } else { return .null } }))
            }
            return .list(items)
        case .identifier(let name):
            advance()
            let lower = name.lowercased()
            if lower == "true" { return .literal(.bool(true)) }
            if lower == "false" { return .literal(.bool(false)) }
            if ["and", "or", "not", "in", "like", "is", "null"].contains(lower) {
                throw fail("a field name or a value", at: t)
            }
            if current.isSymbol("(") {
                guard let arity = FilterExpression.functions[lower] else {
                    throw StoreError(.invalidFilter, "unknown function '\(name)'", expression: text, position: t.position)
                }
                try countOperator()
                advance()
                var args: [FilterExpression] = []
                if !current.isSymbol(")") {
                    args.append(try parseOr())
                    while current.isSymbol(",") {
                        guard args.count <= arity else { throw fail("')' after \(arity) argument\(arity == 1 ? "" : "s") to \(name)") }
                        advance()
                        args.append(try parseOr())
                    }
                }
                guard current.isSymbol(")") else { throw fail("',' or ')' in the call to \(name)") }
                guard args.count == arity else {
                    throw StoreError(.invalidFilter, "\(name) takes \(arity) argument\(arity == 1 ? "" : "s"), found \(args.count)",
                                     expression: text, position: t.position)
                }
                advance()
                return .call(lower, args)
            }
            return .field(name, path: [])
        case .end:
            throw fail("a field, a value or '('")
        default:
            throw fail("a field, a value or '('")
        }
    }
}
