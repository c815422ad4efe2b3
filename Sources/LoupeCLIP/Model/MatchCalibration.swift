import Foundation

/// How a model turns a text-image cosine into the probability that the two match.
///
/// SigLIP is trained with a sigmoid loss on `scale * cosine + bias` (its checkpoint's `exp(logit_scale)`
/// and `logit_bias`), so that sigmoid is a calibrated match probability: about 0.5 means "as likely a match
/// as not", whatever the query. CLIP's softmax scores are only relative within one query, so CLIP has none.
public struct MatchCalibration: Sendable, Hashable {
    /// The factor on the cosine: `exp(logit_scale)`.
    public let scale: Double
    /// The added bias: `logit_bias`.
    public let bias: Double

    /// From a checkpoint's raw `logit_scale` (a log) and `logit_bias`.
    public init(logitScale: Float, logitBias: Float) {
        scale = exp(Double(logitScale))
        bias = Double(logitBias)
    }

    /// `sigmoid(scale * cosine + bias)`.
    public func probability(cosine: Float) -> Float {
        Float(1 / (1 + exp(-(Double(cosine) * scale + bias))))
    }

    /// The cosine at which the probability reaches `probability` (strictly between 0 and 1): the inverse of
    /// `probability(cosine:)`, so a minimum probability becomes a minimum score.
    public func cosine(probability: Float) -> Float {
        let p = Double(probability)
        return Float((log(p / (1 - p)) - bias) / scale)
    }
}
