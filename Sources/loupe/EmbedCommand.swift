import ArgumentParser
import Foundation
import Loupe
import LoupeCLIP
import LoupeMedia
import LoupeTensor

extension Precision: ExpressibleByArgument {}

struct EmbedCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "embed",
        abstract: "Embed texts and images with a CLIP or SigLIP model and print the vectors.",
        discussion: """
            Texts come first in the order given, then images in the order given. Vectors are L2-normalised.
            Images may be in any format LoupeMedia decodes (JPEG, PNG, WebP, GIF, BMP, TIFF, QOI, JPEG 2000,
            PCX, SGI, Sun raster, PPM), recognised by content; EXIF orientation is applied. Large JPEGs decode
            at reduced size while the short side stays at least twice the model's input (embedding cosine
            >= 0.9997 to the full decode in the tests); --exact-decode turns that off.
            """)

    @Option(name: .long, help: "A CLIP or SigLIP model folder in Hugging Face layout, or owner/name of a pulled model.")
    var model: String

    @Option(name: .long, help: "fp32 (matches the reference), bf16 (faster) or int8 (fastest, needs VNNI).")
    var precision: Precision = .fp32

    @Option(name: .long, help: "A text to embed; repeat for several.")
    var text: [String] = []

    @Option(name: .long, help: "An image file to embed; repeat for several.")
    var image: [String] = []

    @Option(name: .long, help: "Threads for the CLIP engine (default: all cores).")
    var threads: Int?

    @Flag(name: .long, help: "Always decode images at full size (no JPEG reduced-size fast path).")
    var exactDecode = false

    @Flag(name: .long, help: "Print JSON: {\"model\", \"dim\", \"items\": [{\"kind\", \"input\", \"embedding\"}]}.")
    var json = false

    func validate() throws {
        if text.isEmpty && image.isEmpty { throw ValidationError("give at least one --text or --image") }
        if let threads, threads < 1 { throw ValidationError("--threads must be at least 1") }
    }

    func run() async throws {
        try await reportingErrors {
            // CLIP or SigLIP, as the folder's config.json says.
            let clip = try ImageTextModelKind.loadModel(directory: try ModelLocator.directory(for: model), precision: precision,
                                                        threads: threads)
            var decoder = ImageDecoder()
            if !exactDecode, let input = clip.preprocessor.outputSize {
                decoder.configuration.minimumShortSide = 2 * max(input.height, input.width)
            }
            let images = try image.map { try RGBImage(decoder.decode(contentsOf: URL(fileURLWithPath: $0))) }
            let textVectors = try clip.embed(texts: text)
            let imageVectors = try clip.embed(images: images)
            let items = zip(text, textVectors).map { ("text", $0, $1) } + zip(image, imageVectors).map { ("image", $0, $1) }
            if json {
                print(EmbeddingJSON.render(model: model, dimension: clip.dimension, items: items))
            } else {
                for (kind, input, vector) in items {
                    let head = vector.prefix(4).map { String(format: "%.4f", $0) }.joined(separator: ", ")
                    print("\(kind)\t\(input)\t[\(head), ...] (\(vector.count))")
                }
            }
        }
    }
}

/// The stable JSON shape of `loupe embed --json`, written by hand so key order and float formatting are fixed.
enum EmbeddingJSON {
    static func render(model: String, dimension: Int, items: [(String, String, [Float])]) -> String {
        var out = "{\"model\": \(quote(model)), \"dim\": \(dimension), \"items\": ["
        for (index, (kind, input, vector)) in items.enumerated() {
            if index > 0 { out += ", " }
            out += "{\"kind\": \(quote(kind)), \"input\": \(quote(input)), \"embedding\": ["
            out += vector.map { $0.isFinite ? "\($0)" : "null" }.joined(separator: ", ")
            out += "]}"
        }
        return out + "]}"
    }

    static func quote(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20: out += String(format: "\\u%04x", scalar.value)
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }
}
