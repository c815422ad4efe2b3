import Foundation
import LoupeCLIP
import LoupeMedia

/// Paths and parsed reference data under `Tests/Fixtures` (made by `tools/make_clip_fixtures.py`).
enum Fixtures {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures")

    static func model(_ name: String) -> URL { directory.appendingPathComponent(name) }

    struct TextCase: Decodable {
        let text: String
        let ids: [Int32]
        let embedding: [Float]
    }

    struct ImageCase: Decodable {
        let file: String
        let ppm: String
        let crop_file: String
        let embedding: [Float]
    }

    struct ModelReference: Decodable {
        let projection_dim: Int
        let image_size: Int
        let texts: [TextCase]
        let images: [ImageCase]
    }

    static let reference: [String: ModelReference] = {
        let data = try! Data(contentsOf: directory.appendingPathComponent("clip-reference.json"))
        return try! JSONDecoder().decode([String: ModelReference].self, from: data)
    }()

    static func image(_ relativePath: String) throws -> RGBImage {
        let ppm = try PPMDecoder.decode(contentsOf: directory.appendingPathComponent(relativePath))
        return try RGBImage(width: ppm.width, height: ppm.height, pixels: ppm.pixels)
    }
}

func cosine(_ a: [Float], _ b: [Float]) -> Double {
    var dot = 0.0, na = 0.0, nb = 0.0
    for (x, y) in zip(a, b) {
        dot += Double(x) * Double(y)
        na += Double(x) * Double(x)
        nb += Double(y) * Double(y)
    }
    return dot / (na.squareRoot() * nb.squareRoot())
}

func maxAbsDifference(_ a: [Float], _ b: [Float]) -> Float {
    precondition(a.count == b.count, "compared vectors differ in length: \(a.count) vs \(b.count)")
    return zip(a, b).map { abs($0 - $1) }.max() ?? 0
}
