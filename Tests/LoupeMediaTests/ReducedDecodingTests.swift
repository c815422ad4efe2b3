import Foundation
import LoupeCLIP
import Testing

@testable import LoupeMedia

/// The JPEG fast path (decoding at 1/2, 1/4 or 1/8 scale) must not change what CLIP sees: the
/// embeddings of fast and full decodes are compared with the test model.
@Suite(.serialized)
struct ReducedDecodingTests {
    static let model = try! CLIPModel(
        directory: TestMedia.fixtures.appendingPathComponent("clip-tiny"), precision: .fp32, threads: 1)

    @Test("the reduction level keeps the short side at least the requested length")
    func levels() throws {
        var decoder = ImageDecoder()
        func level(_ w: Int, _ h: Int, _ format: ImageFormat = .jpeg) -> Int {
            decoder.reductionLevel(for: ImageMetadata(format: format, storedWidth: w, storedHeight: h))
        }
        #expect(level(4032, 3024) == 0)
        decoder.configuration.minimumShortSide = 448
        #expect([level(4032, 3024), level(3584, 4000), level(3576, 4000), level(896, 1200), level(893, 1200), level(640, 480)] as [Int]
            == [2, 3, 2, 1, 0, 0])
        #expect(level(4032, 3024, .png) == 0)
        // What ingest asks for: the model's input (224), like Pillow's draft mode.
        decoder.configuration.minimumShortSide = 224
        #expect([level(4032, 3024), level(1944, 2592), level(1800, 2400), level(1784, 2400), level(1536, 2048), level(864, 1152)] as [Int]
            == [3, 3, 3, 2, 2, 1])
    }

    static func cosine(_ a: [Float], _ b: [Float]) -> Double {
        var dot = 0.0, na = 0.0, nb = 0.0
        for i in a.indices {
            dot += Double(a[i]) * Double(b[i])
            na += Double(a[i]) * Double(a[i])
            nb += Double(b[i]) * Double(b[i])
        }
        return dot / (na.squareRoot() * nb.squareRoot())
    }

    /// Reduced to at least twice the model input (1/2 or 1/4 here) and to at least the input itself (down
    /// to 1/8: 2400x1800 becomes 300x225, the tightest case), as ingest does.
    @Test(
        "fast and full decodes embed alike (cosine >= 0.995)",
        arguments: [(1600, 1200, 1, 2), (2400, 1800, 2, 2), (1080, 1920, 3, 2), (2400, 1800, 2, 1), (2592, 1944, 4, 1),
                    (1600, 1200, 1, 1)])
    func embeddingsAgree(width: Int, height: Int, seed: Int, inputs: Int) throws {
        let jpeg = try ImageEncoder.encode(
            pixels: TestMedia.photo(width: width, height: height, seed: UInt64(seed)), width: width, height: height,
            as: .jpeg(quality: 92))
        let full = try ImageDecoder().decode(jpeg, path: nil)
        var fastDecoder = ImageDecoder()
        let crop = Self.model.preprocessor.outputSize!.height
        fastDecoder.configuration.minimumShortSide = inputs * crop
        let fast = try fastDecoder.decode(jpeg, path: nil)
        #expect(fast.reduction > 1, "the fast path should have been taken for \(width)x\(height)")
        #expect(min(fast.width, fast.height) >= inputs * crop)

        let images = try [full, fast].map { try RGBImage(width: $0.width, height: $0.height, pixels: $0.pixels) }
        let vectors = try Self.model.embed(images: images)
        let cosine = Self.cosine(vectors[0], vectors[1])
        #expect(cosine >= 0.995, "\(width)x\(height) at 1/\(fast.reduction): cosine \(cosine)")
        // And the model input itself: the resized crops differ by little more than JPEG noise.
        let crops = images.map { Self.model.preprocessor.resizedAndCropped($0).pixels }
        let difference = TestMedia.difference(crops[0], crops[1])
        #expect(difference.mean < 2.5, "crop mean byte difference \(difference.mean)")
        print("fast-path \(width)x\(height) 1/\(fast.reduction): cosine \(cosine), crop mean diff \(difference.mean)")
    }
}
