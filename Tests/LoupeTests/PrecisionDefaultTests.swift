import Foundation
import LoupeTensor
import Testing

/// Without `--precision` a command takes bf16 where the CPU computes it natively and fp32 elsewhere, and
/// says which.
@Suite("The default precision")
struct PrecisionDefaultTests {
    static let model = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/clip-tiny").path

    @Test("is bf16 exactly when the CPU has native bf16, is printed, and gives the same vectors as asking for it")
    func defaultPrecision() throws {
        let expected: Precision = Precision.hasNativeBFloat16 ? .bf16 : .fp32
        #expect(Precision.preferred == expected)
        let defaulted = try runLoupe(["embed", "--model", Self.model, "--text", "a golden watch", "--json"])
        #expect(defaulted.status == 0, "\(defaulted.errors)")
        #expect(defaulted.errors.contains("precision: \(expected) ("), "\(defaulted.errors)")
        let asked = try runLoupe(["embed", "--model", Self.model, "--text", "a golden watch", "--json", "--precision", expected.rawValue])
        #expect(asked.errors.contains("precision: \(expected) (as asked)"), "\(asked.errors)")
        #expect(asked.output == defaulted.output)
        let other = try runLoupe(["embed", "--model", Self.model, "--text", "a golden watch", "--json", "--precision",
                                  expected == .bf16 ? "fp32" : "bf16"])
        if Precision.bf16.isSupported || expected == .bf16 {
            #expect(other.status == 0 && other.output != defaulted.output, "the other precision gives other digits")
        }
    }
}
