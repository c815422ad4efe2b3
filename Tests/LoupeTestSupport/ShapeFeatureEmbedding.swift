import Foundation
import LoupeFixtures
import LoupeMedia
import Loupe

/// The embedding function of the provider stand-ins: a 10-value vector with one slot per colour and per
/// shape of the shapes world (plus a constant, so nothing is all zeros), L2-normalised.
///
/// A picture's colour is the shape colour nearest the mean of its saturated pixels; its shape comes from
/// a rotation-invariant measure, area / (largest distance from the centroid)²: π for a circle, 2 for a
/// square, about 1.3 for a triangle. A text gets the slots of the colour and shape words it contains. So
/// "a red circle" lands exactly on red circles, next to red squares and blue circles, far from the rest:
/// search through a stand-in is meaningful, and it is a pure function of the input (as a real model is).
public enum ShapeFeatureEmbedding {
    public static let dimension = ShapeColour.allCases.count + ShapeKind.allCases.count + 1

    public static func vector(colour: ShapeColour?, shape: ShapeKind?) -> [Float] {
        var vector = [Float](repeating: 0, count: dimension)
        if let colour, let index = ShapeColour.allCases.firstIndex(of: colour) { vector[index] = 1 }
        if let shape, let index = ShapeKind.allCases.firstIndex(of: shape) { vector[ShapeColour.allCases.count + index] = 1 }
        vector[dimension - 1] = 0.1
        let norm = vector.reduce(0) { $0 + $1 * $1 }.squareRoot()
        return vector.map { $0 / norm }
    }

    public static func text(_ text: String) -> [Float] {
        let words = Set(text.lowercased().split(whereSeparator: { !$0.isLetter }).map(String.init))
        return vector(colour: ShapeColour.allCases.first { words.contains($0.rawValue) },
                      shape: ShapeKind.allCases.first { words.contains($0.rawValue) })
    }

    public static func image(_ data: Data) -> [Float]? {
        guard let image = try? ImageDecoder().decode(data, path: "stand-in input") else { return nil }
        let (colour, shape) = classify(image)
        return vector(colour: colour, shape: shape)
    }

    public static func classify(_ image: DecodedImage) -> (ShapeColour?, ShapeKind?) {
        var points: [(Double, Double)] = []
        var sum = (0.0, 0.0, 0.0)
        for y in 0..<image.height {
            for x in 0..<image.width {
                let offset = (y * image.width + x) * 3
                let r = Int(image.pixels[offset]), g = Int(image.pixels[offset + 1]), b = Int(image.pixels[offset + 2])
                let nearest = ShapeColour.allCases.map { c in abs(r - Int(c.rgb.0)) + abs(g - Int(c.rgb.1)) + abs(b - Int(c.rgb.2)) }.min() ?? 999
                guard max(r, g, b) - min(r, g, b) > 70, nearest < 60 else { continue }
                points.append((Double(x), Double(y)))
                sum = (sum.0 + Double(r), sum.1 + Double(g), sum.2 + Double(b))
            }
        }
        guard points.count >= 20 else { return (nil, nil) }
        let n = Double(points.count)
        let mean = (sum.0 / n, sum.1 / n, sum.2 / n)
        let colour = ShapeColour.allCases.min { a, b in
            func distance(_ c: ShapeColour) -> Double {
                abs(mean.0 - Double(c.rgb.0)) + abs(mean.1 - Double(c.rgb.1)) + abs(mean.2 - Double(c.rgb.2))
            }
            return distance(a) < distance(b)
        }
        let cx = points.reduce(0) { $0 + $1.0 } / n, cy = points.reduce(0) { $0 + $1.1 } / n
        let reach = points.reduce(0) { max($0, ($1.0 - cx) * ($1.0 - cx) + ($1.1 - cy) * ($1.1 - cy)) }
        let compactness = n / max(reach, 1)
        let shape: ShapeKind = compactness > 2.55 ? .circle : compactness > 1.65 ? .square : .triangle
        return (colour, shape)
    }
}

/// A Jina `/v1/embeddings` stand-in answering with `ShapeFeatureEmbedding` vectors in Jina's shape.
public enum JinaStandIn {
    /// - Parameter cheap: embed pictures by their encoded length instead of looking at them, so the
    ///   stand-in costs nothing but `latency` (for throughput measurements).
    public static func reply(_ request: ProviderStandIn.Received, latency: Double? = nil, cheap: Bool = false) -> ProviderStandIn.Reply {
        guard request.path == "/v1/embeddings", request.method == .POST else {
            return .json(["detail": "Not Found"], status: .notFound)
        }
        guard request.header("authorization")?.hasPrefix("Bearer ") == true else {
            return .json(["detail": "Unauthorized: no API key"], status: .unauthorized)
        }
        guard let body = request.json, let model = body["model"] as? String, let inputs = body["input"] as? [[String: Any]] else {
            return .json(["detail": "invalid request body"], status: .unprocessableEntity)
        }
        var data: [[String: Any]] = []
        for (index, input) in inputs.enumerated() {
            let vector: [Float]
            if let text = input["text"] as? String {
                vector = ShapeFeatureEmbedding.text(text)
            } else if cheap, let encoded = input["image"] as? String {
                var hasher = SplitMix64(seed: UInt64(encoded.utf8.count))
                vector = ShapeFeatureEmbedding.vector(colour: ShapeColour.allCases[Int(hasher.next() % 6)],
                                                      shape: ShapeKind.allCases[Int(hasher.next() % 3)])
            } else if let encoded = input["image"] as? String, let bytes = Data(base64Encoded: encoded),
                      let embedded = ShapeFeatureEmbedding.image(bytes)
            {
                vector = embedded
            } else {
                return .json(["detail": "input \(index) is neither a text nor a decodable base64 image"], status: .badRequest)
            }
            data.append(["object": "embedding", "index": index, "embedding": vector.map(Double.init)])
        }
        var reply = ProviderStandIn.Reply.json(["model": model, "object": "list", "data": data,
                                                "usage": ["total_tokens": inputs.count * 10, "prompt_tokens": inputs.count * 10]])
        if let latency { reply.delay = .milliseconds(Int64(latency * 1000)) }
        return reply
    }
}
