import CDNNL

/// An elementwise activation applied after a dense layer (fused into the GEMM).
public enum Activation: String, Sendable, CaseIterable {
    case identity
    /// Exact GELU, `x * Φ(x)` (Hugging Face `gelu`).
    case gelu
    /// The tanh approximation of GELU (`gelu_new`, `gelu_pytorch_tanh`).
    case geluTanh
    /// `x * sigmoid(1.702 x)`, the activation of OpenAI's CLIP (`quick_gelu`).
    case quickGelu
    case relu

    /// Maps a Hugging Face `hidden_act` name to an activation, or nil when Loupe does not know it.
    public init?(huggingFaceName name: String) {
        switch name {
        case "gelu": self = .gelu
        case "gelu_new", "gelu_pytorch_tanh", "gelu_fast": self = .geluTanh
        case "quick_gelu": self = .quickGelu
        case "relu": self = .relu
        case "linear", "identity": self = .identity
        default: return nil
        }
    }

    /// The reference definition, used by tests and the portable kernels.
    @inlinable
    public func apply(_ x: Float) -> Float {
        switch self {
        case .identity: return x
        case .gelu: return Float(0.5 * Double(x) * (1 + erf(Double(x) / 2.0.squareRoot())))
        case .geluTanh:
            let inner = (2.0 / Double.pi).squareRoot() * (Double(x) + 0.044715 * Double(x * x * x))
            return Float(0.5 * Double(x) * (1 + tanh(inner)))
        case .quickGelu: return Float(Double(x) / (1 + exp(-1.702 * Double(x))))
        case .relu: return max(x, 0)
        }
    }

    /// The oneDNN post-op for this activation (algorithm, alpha), or nil for identity.
    var dnnlPostOp: (dnnl_alg_kind_t, Float)? {
        switch self {
        case .identity: nil
        case .gelu: (dnnl_eltwise_gelu_erf, 0)
        case .geluTanh: (dnnl_eltwise_gelu_tanh, 0)
        case .quickGelu: (dnnl_eltwise_swish, 1.702)  // swish(x; a) = x * sigmoid(a x)
        case .relu: (dnnl_eltwise_relu, 0)
        }
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
