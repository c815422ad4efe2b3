import ArgumentParser
import Foundation
import LoupeCLIP
import LoupeMedia

struct DecodeBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "decode",
        abstract: "Image decode + CLIP preprocessing throughput on a folder of JPEGs (one thread).",
        discussion: """
            Times ImageDecoder + ImagePreprocessor (224 crop) per image, exact (full-size decode) and fast \
            (JPEG reduced-size decode while the short side stays >= 448), in wall-clock and in process CPU \
            time (steadier when the machine is shared; the work is single-threaded). Pillow's figures for \
            the same folder come from tools/decode_peer.py. Ends with `exact_images_per_s=X fast_images_per_s=Y`.
            """)

    @Option(name: .long, help: "A folder of .jpg files (tools/decode_peer.py make DIR writes 12-MP ones).")
    var dir: String

    @Flag(name: .long, help: "Time decoding alone (no CLIP preprocessing).")
    var decodeOnly = false

    @Option(name: .long, help: "The fast path may decode JPEGs at 1/2, 1/4 or 1/8 scale while the short side stays this long (ingest uses the model's input size).")
    var minShortSide = 224

    @Option(name: .long, help: "Passes over the folder (after one warm-up image).")
    var repeats = 1

    func run() async throws {
        try await reportingErrors {
            let folder = URL(fileURLWithPath: dir)
            let files = try FileManager.default.contentsOfDirectory(at: folder, includingPropertiesForKeys: nil)
                .filter { ["jpg", "jpeg"].contains($0.pathExtension.lowercased()) }
                .sorted { $0.path < $1.path }
            guard !files.isEmpty else { throw ValidationError("no .jpg files in \(dir)") }
            let preprocessor = try ImagePreprocessor(config: PreprocessorConfig())
            let output = UnsafeMutablePointer<Float>.allocate(capacity: 3 * 224 * 224)
            defer { output.deallocate() }

            var fast = ImageDecoder()
            fast.configuration.minimumShortSide = minShortSide
            var results: [(String, Double)] = []
            for (name, decoder) in [("exact", ImageDecoder()), ("fast", fast)] {
                func process(_ url: URL) throws {
                    let image = try decoder.decode(contentsOf: url)
                    if !decodeOnly { preprocessor.preprocess(try RGBImage(image), into: output) }
                }
                try process(files[0])
                let cpuStart = ProcessCPUTime.seconds()
                let elapsed = try ContinuousClock().measure {
                    for _ in 0..<repeats { for file in files { try process(file) } }
                }
                let count = Double(files.count * repeats)
                let rate = count / elapsed.seconds
                let cpuRate = count / (ProcessCPUTime.seconds() - cpuStart)
                results.append((name, rate))
                print(
                    "loupe path=\(name) images=\(files.count * repeats) images_per_s=\(String(format: "%.2f", rate)) "
                        + "cpu_images_per_s=\(String(format: "%.2f", cpuRate))")
            }
            print(results.map { "\($0.0)_images_per_s=\(String(format: "%.2f", $0.1))" }.joined(separator: " "))
        }
    }
}
