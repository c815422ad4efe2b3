import CDNNL
/// The number format weights and matrix-multiplication inputs are kept in.
///
/// Accumulation is always fp32; `bf16` halves memory traffic and doubles GEMM throughput on CPUs with
/// AVX512-BF16 or AMX, at about three significant digits of precision in the inputs.
public enum Precision: String, Sendable, CaseIterable, CustomStringConvertible {
    case fp32
    case bf16

    public var description: String { rawValue }

    /// Bytes per element of a buffer in this precision.
    public var byteWidth: Int { self == .fp32 ? 4 : 2 }

    /// Whether this CPU computes bf16 natively (AVX512_BF16 or AMX): there bf16 runs about twice as fast as
    /// fp32. Below that oneDNN emulates it, at no gain.
    public static var hasNativeBFloat16: Bool {
        let isa = dnnl_get_effective_cpu_isa().rawValue
        return isa & dnnl_cpu_isa_avx512_core_bf16.rawValue == dnnl_cpu_isa_avx512_core_bf16.rawValue
    }

    /// The precision used when none is asked for: bf16 where the CPU computes it natively, fp32 elsewhere.
    /// Vectors of either stay within cosine 0.999 of each other, so a library never needs re-embedding when
    /// it changes.
    public static var preferred: Precision { hasNativeBFloat16 ? .bf16 : .fp32 }

    /// Whether this CPU runs the precision's matrix products: bf16 needs AVX-512 (native bf16 on CPUs
    /// with AVX512_BF16 or AMX, emulated below that); oneDNN has no bf16 kernels for AVX2.
    public var isSupported: Bool {
        switch self {
        case .fp32: return true
        case .bf16:
            let isa = dnnl_get_effective_cpu_isa().rawValue
            return isa & dnnl_cpu_isa_avx512_core.rawValue == dnnl_cpu_isa_avx512_core.rawValue
        }
    }
}

/// Conversions between Float and the 16-bit formats found in weight files.
public enum HalfConversion {
    /// Rounds to the nearest bfloat16 (ties to even), as PyTorch does; NaN stays NaN.
    @inline(__always)
    public static func bfloat16Bits(_ value: Float) -> UInt16 {
        let bits = value.bitPattern
        if value.isNaN { return UInt16(truncatingIfNeeded: bits >> 16) | 0x0040 }
        let rounding = UInt32(0x7FFF) &+ ((bits >> 16) & 1)
        return UInt16(truncatingIfNeeded: (bits &+ rounding) >> 16)
    }

    /// Widens a bfloat16 bit pattern to Float (exact).
    @inline(__always)
    public static func float(bfloat16 bits: UInt16) -> Float {
        Float(bitPattern: UInt32(bits) << 16)
    }

    /// Widens an IEEE half-precision bit pattern to Float (exact, subnormals included).
    @inline(__always)
    public static func float(float16 bits: UInt16) -> Float {
        let sign = UInt32(bits & 0x8000) << 16
        let exponent = Int((bits >> 10) & 0x1F)
        let mantissa = UInt32(bits & 0x3FF)
        if exponent == 0 {
            if mantissa == 0 { return Float(bitPattern: sign) }
            // Subnormal half: value = mantissa * 2^-24.
            let magnitude = Float(mantissa) * Float(sign: .plus, exponent: -24, significand: 1)
            return sign != 0 ? -magnitude : magnitude
        }
        if exponent == 0x1F {
            return Float(bitPattern: sign | 0x7F80_0000 | (mantissa << 13))
        }
        return Float(bitPattern: sign | (UInt32(exponent + 112) << 23) | (mantissa << 13))
    }
}
