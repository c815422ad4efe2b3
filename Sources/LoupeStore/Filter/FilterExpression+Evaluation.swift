import Foundation

extension FilterExpression {
    /// Whether `row` satisfies the expression. Comparisons with null (or with values of another kind)
    /// are false, as in Milvus; `not` inverts the result.
    public func matches(_ row: Row) -> Bool {
        switch self {
        case .literal(let v): return v.boolValue ?? false
        case .and(let a, let b): return a.matches(row) && b.matches(row)
        case .or(let a, let b): return a.matches(row) || b.matches(row)
        case .not(let a): return !a.matches(row)
        case .compare(let op, let a, let b):
            let l = a.value(in: row), r = b.value(in: row)
            switch op {
            case .equal: return Self.equal(l, r)
            case .notEqual: return !l.isNull && !r.isNull && !Self.equal(l, r)
            default:
                guard let c = Self.order(l, r) else { return false }
                switch op {
                case .less: return c < 0
                case .lessOrEqual: return c <= 0
                case .greater: return c > 0
                default: return c >= 0
                }
            }
        case .inList(let a, let list, let negated):
            let v = a.value(in: row)
            guard !v.isNull, case .array(let items) = list.value(in: row) else { return false }
            let found = items.contains { Self.equal(v, $0) }
            return negated ? !found : found
        case .like(let a, let pattern):
            guard case .string(let s) = a.value(in: row) else { return false }
            return Self.like(Array(s), Array(pattern))
        case .isNull(let a, let negated):
            return a.value(in: row).isNull != negated
        case .call(let name, let args):
            let target = args[0].value(in: row)
            guard case .array(let items) = target else { return false }
            switch name {
            case "array_contains", "json_contains":
                let v = args[1].value(in: row)
                return items.contains { Self.equal($0, v) }
            case "array_contains_all", "json_contains_all":
                guard case .array(let wanted) = args[1].value(in: row) else { return false }
                return wanted.allSatisfy { w in items.contains { Self.equal($0, w) } }
            case "array_contains_any", "json_contains_any":
                guard case .array(let wanted) = args[1].value(in: row) else { return false }
                return wanted.contains { w in items.contains { Self.equal($0, w) } }
            default:
                return false
            }
        case .field, .list, .negate, .arithmetic:
            return value(in: row).boolValue ?? false
        }
    }

    /// The value the expression computes for `row` (null when it does not apply).
    func value(in row: Row) -> FieldValue {
        switch self {
        case .literal(let v): return v
        case .field(let name, let path):
            var v: FieldValue = name == "$meta" ? .object(row) : (row[name] ?? .null)
            for step in path {
                switch (step, v) {
                case (.key(let k), .object(let o)): v = o[k] ?? .null
                case (.index(let i), .array(let a)): v = i < a.count ? a[i] : .null
                case (.index(let i), .vector(let a)): v = i < a.count ? .double(Double(a[i])) : .null
                default: return .null
                }
            }
            return v
        case .list(let items): return .array(items.map { $0.value(in: row) })
        case .negate(let a):
            switch a.value(in: row) {
            case .int(let i): return .int(0 &- i)
            case .double(let d): return .double(-d)
            default: return .null
            }
        case .arithmetic(let op, let a, let b):
            return Self.arithmetic(op, a.value(in: row), b.value(in: row))
        case .call("array_length", let args):
            switch args[0].value(in: row) {
            case .array(let a): return .int(Int64(a.count))
            case .vector(let v): return .int(Int64(v.count))
            default: return .null
            }
        default:
            return .bool(matches(row))
        }
    }

    static func arithmetic(_ op: ArithmeticOperator, _ l: FieldValue, _ r: FieldValue) -> FieldValue {
        if case .int(let x) = l, case .int(let y) = r {
            switch op {
            case .add: return .int(x &+ y)
            case .subtract: return .int(x &- y)
            case .multiply: return .int(x &* y)
            case .modulo: return y == 0 ? .null : y == -1 ? .int(0) : .int(x % y)
            case .divide: return y == 0 ? .null : .double(Double(x) / Double(y))
            case .power: return .double(pow(Double(x), Double(y)))
            }
        }
        guard let x = l.doubleValue, let y = r.doubleValue else { return .null }
        switch op {
        case .add: return .double(x + y)
        case .subtract: return .double(x - y)
        case .multiply: return .double(x * y)
        case .divide: return y == 0 ? .null : .double(x / y)
        case .modulo: return y == 0 ? .null : .double(fmod(x, y))
        case .power: return .double(pow(x, y))
        }
    }

    /// Equality across int and double; strings, bools and JSON compare structurally. Null equals nothing.
    static func equal(_ l: FieldValue, _ r: FieldValue) -> Bool {
        if l.isNull || r.isNull { return false }
        if let x = l.doubleValue, let y = r.doubleValue {
            if case .int(let a) = l, case .int(let b) = r { return a == b }
            return x == y
        }
        return l == r
    }

    /// -1, 0 or 1 for numbers and for strings; nil when the two cannot be ordered.
    static func order(_ l: FieldValue, _ r: FieldValue) -> Int? {
        if case .int(let a) = l, case .int(let b) = r { return a < b ? -1 : a == b ? 0 : 1 }
        if let x = l.doubleValue, let y = r.doubleValue { return x < y ? -1 : x == y ? 0 : 1 }
        if case .string(let a) = l, case .string(let b) = r { return a < b ? -1 : a == b ? 0 : 1 }
        return nil
    }

    /// SQL LIKE: `%` any run of characters, `_` exactly one, and a backslash makes the next character
    /// literal (`"50\\%%"` in a filter, `50\%%` once the string is read, matches text starting "50%").
    static func like(_ s: [Character], _ pattern: [Character]) -> Bool {
        enum Piece: Equatable { case literal(Character), one, any }
        var p: [Piece] = []
        var i = 0
        while i < pattern.count {
            switch pattern[i] {
            case "\\" where i + 1 < pattern.count:
                p.append(.literal(pattern[i + 1]))
                i += 1
            case "%": p.append(.any)
            case "_": p.append(.one)
            default: p.append(.literal(pattern[i]))
            }
            i += 1
        }
        var si = 0, pi = 0, star = -1, mark = 0
        while si < s.count {
            if pi < p.count, p[pi] == .one || p[pi] == .literal(s[si]) {
                si += 1
                pi += 1
            } else if pi < p.count, p[pi] == .any {
                star = pi
                mark = si
                pi += 1
            } else if star >= 0 {
                pi = star + 1
                mark += 1
                si = mark
            } else {
                return false
            }
        }
        while pi < p.count, p[pi] == .any { pi += 1 }
        return pi == p.count
    }
}
