import Foundation

/// A Pillow resampling filter. Raw values are Pillow's filter ids, as stored in the `resample`
/// field of a Hugging Face `preprocessor_config.json`.
public enum ResamplingFilter: Int, Sendable, CaseIterable, CustomStringConvertible {
    /// Nearest neighbour (`Image.NEAREST`).
    case nearest = 0
    /// Lanczos, a = 3 (`Image.LANCZOS`).
    case lanczos = 1
    /// Triangle filter (`Image.BILINEAR`).
    case bilinear = 2
    /// Keys cubic with a = -0.5 (`Image.BICUBIC`), CLIP's filter.
    case bicubic = 3
    /// Box filter (`Image.BOX`).
    case box = 4
    /// Hamming-windowed sinc (`Image.HAMMING`).
    case hamming = 5

    public var description: String {
        switch self {
        case .nearest: "nearest"
        case .lanczos: "lanczos"
        case .bilinear: "bilinear"
        case .bicubic: "bicubic"
        case .box: "box"
        case .hamming: "hamming"
        }
    }

    /// Half-width of the kernel at scale 1, in source pixels (Pillow's `support`).
    var support: Double {
        switch self {
        case .nearest, .box: 0.5
        case .bilinear, .hamming: 1.0
        case .bicubic: 2.0
        case .lanczos: 3.0
        }
    }

    /// The kernel, written with the same operations in the same order as Pillow's C code, so that
    /// the double-precision weights (and hence the rounded fixed-point ones) come out identical.
    func weight(_ x: Double) -> Double {
        switch self {
        case .nearest, .box:
            return x > -0.5 && x <= 0.5 ? 1.0 : 0.0
        case .bilinear:
            let x = abs(x)
            return x < 1.0 ? 1.0 - x : 0.0
        case .hamming:
            let x = abs(x)
            if x == 0.0 { return 1.0 }
            if x >= 1.0 { return 0.0 }
            let px = x * Double.pi
            // Pillow writes these constants as C floats (0.54f, 0.46f); they are widened to double.
            return sin(px) / px * (Self.hammingA + Self.hammingB * cos(px))
        case .bicubic:
            // Keys' cubic convolution with a = -0.5.
            let a = -0.5
            let x = abs(x)
            if x < 1.0 { return ((a + 2.0) * x - (a + 3.0)) * x * x + 1 }
            if x < 2.0 { return (((x - 5) * x + 8) * x - 4) * a }
            return 0.0
        case .lanczos:
            guard x >= -3.0 && x < 3.0 else { return 0.0 }
            return Self.sinc(x) * Self.sinc(x / 3)
        }
    }

    private static let hammingA = Double(Float(0.54))
    private static let hammingB = Double(Float(0.46))

    private static func sinc(_ x: Double) -> Double {
        if x == 0.0 { return 1.0 }
        let px = x * Double.pi
        return sin(px) / px
    }
}
