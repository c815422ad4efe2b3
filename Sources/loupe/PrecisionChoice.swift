import ArgumentParser
import Foundation
import LoupeTensor

/// The engine precision a command runs at: what `--precision` asks, else `Precision.preferred` (bf16 where
/// the CPU computes it natively, fp32 elsewhere). The choice is printed to stderr when the model loads.
enum PrecisionChoice {
    static let help = ArgumentHelp(
        "fp32 (reference-exact), bf16 (about twice as fast, within cosine 0.999 of fp32) or int8 (needs VNNI).",
        discussion: "Default: bf16 on CPUs that compute it natively (AVX512_BF16 or AMX), fp32 elsewhere.")

    static func resolve(_ asked: Precision?) -> Precision {
        let precision = asked ?? .preferred
        let reason = asked != nil ? "as asked"
            : Precision.hasNativeBFloat16 ? "this CPU computes bf16 natively; --precision fp32 gives reference-exact vectors"
            : "this CPU has no native bf16"
        FileHandle.standardError.write(Data("precision: \(precision) (\(reason))\n".utf8))
        if precision.isSupported, precision.forTextTowers != precision {
            FileHandle.standardError.write(Data(
                "precision: text queries run in \(precision.forTextTowers): this CPU's int8 kernels (no AVX512-VNNI) are slower for a few rows\n".utf8))
        }
        return precision
    }
}
