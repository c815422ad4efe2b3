/// Conversions and integer arithmetic on numbers that come from requests and files, which never trap.
///
/// Swift traps on `Int(x)` when `x` is NaN, infinite or out of range, and on `+`/`-` that overflow. Times,
/// sizes and timestamps read from a container or sent by a client can be any of those, so arithmetic on
/// them goes through these helpers: checked conversions return nil, saturating ones clamp to the bounds.
package enum CheckedArithmetic {
    /// `value` rounded down to an `Int`, or nil when it is not finite or does not fit.
    package static func floorInt(_ value: Double) -> Int? {
        let floored = value.rounded(.down)
        guard floored.isFinite, floored >= -9.0e18, floored <= 9.0e18 else { return nil }
        return Int(floored)
    }

    /// `value` rounded down and clamped into `Int64` (NaN gives 0): for timestamps, where a time past
    /// either end of the range behaves like that end.
    package static func saturatingInt64(_ value: Double) -> Int64 {
        if value.isNaN { return 0 }
        let floored = value.rounded(.down)
        if floored >= 9.0e18 { return .max }
        if floored <= -9.0e18 { return .min }
        return Int64(floored)
    }

    /// `value` rounded down and clamped into `Int` (NaN gives 0).
    package static func saturatingInt(_ value: Double) -> Int { Int(saturatingInt64(value)) }

    /// `a + b`, clamped to `Int64`'s bounds instead of trapping.
    package static func add(_ a: Int64, _ b: Int64) -> Int64 {
        let (sum, overflow) = a.addingReportingOverflow(b)
        return overflow ? (b > 0 ? .max : .min) : sum
    }

    /// `a - b`, clamped to `Int64`'s bounds instead of trapping.
    package static func subtract(_ a: Int64, _ b: Int64) -> Int64 {
        let (difference, overflow) = a.subtractingReportingOverflow(b)
        return overflow ? (b < 0 ? .max : .min) : difference
    }
}
