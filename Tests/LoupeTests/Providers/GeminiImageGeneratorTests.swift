import Foundation
import LoupeFixtures
import LoupeMedia
import NIOHTTP1
import LoupeTestSupport
import Testing
@testable import Loupe

/// A Gemini `generateContent` stand-in's answers, in the REST API's shapes.
enum GeminiAnswers {
    /// A small PNG "generated" picture.
    static let picture: Data = {
        let pixels = ShapePainter(width: 64, height: 48).paint(.square, .green)
        return (try? ImageEncoder.encode(pixels: pixels, width: 64, height: 48, as: .png)) ?? Data()
    }()

    /// An answer with text and one picture, with the REST API's camelCase keys or the snake_case ones.
    static func image(camelCase: Bool = true) -> [String: Any] {
        let inline: [String: Any] = camelCase
            ? ["inlineData": ["mimeType": "image/png", "data": picture.base64EncodedString()]]
            : ["inline_data": ["mime_type": "image/png", "data": picture.base64EncodedString()]]
        return ["candidates": [["content": ["role": "model", "parts": [["text": "Here is your picture."], inline]],
                                "finishReason": "STOP", "index": 0]],
                "usageMetadata": ["promptTokenCount": 1290, "candidatesTokenCount": 1290]]
    }

    /// A refusal: a blocked prompt, a candidate stopped for safety, or an answer with text only.
    static func refusal(_ name: String) -> [String: Any] {
        switch name {
        case "blocked": ["promptFeedback": ["blockReason": "SAFETY"]]
        case "safety": ["candidates": [["finishReason": "IMAGE_SAFETY", "index": 0]]]
        default: ["candidates": [["content": ["parts": [["text": "I can only describe it."]]], "finishReason": "STOP"]]]
        }
    }
}

@Suite("Gemini image generation", .stopsProviderStandIns, .serialized)
struct GeminiImageGeneratorTests {
    static let key = "AIza-test-key-0123456789"

    func generator(_ base: URL, timing: VirtualRetryTiming = VirtualRetryTiming()) throws -> GeminiImageGenerator {
        var generator = try GeminiImageGenerator.fromEnvironment(
            environment: ["GEMINI_BASE_URL": base.absoluteString, "GOOGLE_API_KEY": Self.key])
        generator.client.timing = timing.timing
        generator.client.metrics = ProviderMetrics()
        return generator
    }

    /// How much of the picture is a shape colour, and how fully that region fills its bounding box
    /// (a circle ≈ π/4, a square ≈ 1, a triangle ≈ 1/2).
    static func shape(in image: DecodedImage, colour: ShapeColour) -> (coverage: Double, fill: Double) {
        let target = colour.rgb
        var count = 0
        var minX = Int.max, minY = Int.max, maxX = -1, maxY = -1
        for y in 0..<image.height {
            for x in 0..<image.width {
                let offset = (y * image.width + x) * 3
                let distance = abs(Int(image.pixels[offset]) - Int(target.0)) + abs(Int(image.pixels[offset + 1]) - Int(target.1))
                    + abs(Int(image.pixels[offset + 2]) - Int(target.2))
                if distance < 60 {
                    count += 1
                    minX = min(minX, x); maxX = max(maxX, x); minY = min(minY, y); maxY = max(maxY, y)
                }
            }
        }
        guard count > 0 else { return (0, 0) }
        let box = Double((maxX - minX + 1) * (maxY - minY + 1))
        return (Double(count) / Double(image.width * image.height), Double(count) / box)
    }

    @Test("--refs \"a red circle\" sends the retrieved red circles, as JPEG inline_data after the prompt")
    func sendsRetrievedRedCircles() async throws {
        let (library, pictures, _, _) = try await ShapesLibrary.shared.get()
        let standIn = ProviderStandIn { _, _ in .json(GeminiAnswers.image()) }
        let gemini = try generator(try await standIn.start())
        let references = try await library.generationReferences(for: "a red circle", limit: 3)
        #expect(references.count == 3)
        let prompt = "A European male model wearing a suit, carrying a red ball."
        let result = try await gemini.generate(prompt: prompt, references: references.map(\.jpeg), aspectRatio: "1:1")
        #expect(result.images.count == 1 && result.images[0].data == GeminiAnswers.picture)
        #expect(result.text == "Here is your picture.")

        let received = try #require(standIn.requests.first)
        #expect(standIn.requests.count == 1)
        #expect(received.method == .POST)
        #expect(received.path == "/v1beta/models/gemini-2.5-flash-image:generateContent")
        #expect(received.header("x-goog-api-key") == Self.key)
        #expect(received.header("content-type") == "application/json")
        let body = try #require(received.json)
        let config = try #require(body["generationConfig"] as? [String: Any])
        #expect(config["responseModalities"] as? [String] == ["TEXT", "IMAGE"])
        #expect((config["imageConfig"] as? [String: Any])?["aspectRatio"] as? String == "1:1")
        let parts = try #require(((body["contents"] as? [[String: Any]])?.first)?["parts"] as? [[String: Any]])
        #expect(parts.count == 4)
        #expect(parts.first?["text"] as? String == prompt)
        let redCircles = Set(pictures.filter { $0.colour == .red && $0.shape == .circle }.map(\.url.path))
        #expect(Set(references.map(\.path)) == redCircles, "retrieved \(references.map(\.path))")
        for part in parts.dropFirst() {
            let inline = try #require(part["inline_data"] as? [String: Any])
            #expect(inline["mime_type"] as? String == "image/jpeg")
            let encoded = try #require(inline["data"] as? String)
            let data = try #require(Data(base64Encoded: encoded))
            #expect(data.starts(with: [0xFF, 0xD8]), "a reference is not a JPEG")
            let image = try ImageDecoder().decode(data, path: "reference")
            #expect(max(image.width, image.height) <= GenerationReference.longestSide)
            let red = Self.shape(in: image, colour: .red)
            #expect(red.coverage > 0.05, "the reference shows little red: \(red)")
            #expect(red.fill > 0.68 && red.fill < 0.88, "the red region is not a circle (fill of its box \(red.fill))")
            for other in ShapeColour.allCases where other != .red {
                #expect(Self.shape(in: image, colour: other).coverage < 0.01, "the reference shows \(other)")
            }
        }
    }

    @Test("a video moment given by id sends its thumbnail frame")
    func videoMomentReference() async throws {
        let (library, _, _, _) = try await ShapesLibrary.shared.get()
        let moments = try await library.items(filter: "scope == \"clip\"")
        let blue = try #require(moments.first { ($0.start ?? -1) >= 4 && ($0.end ?? 0) <= 8.01 })
        let reference = try await library.generationReference(item: blue.id)
        #expect(reference.itemID == blue.id && reference.time != nil)
        let image = try ImageDecoder().decode(reference.jpeg, path: "moment")
        #expect(Self.shape(in: image, colour: .blue).coverage > 0.05, "the 4-8 s moment shows a blue square")
    }

    @Test("a 429 with Retry-After is waited out, and inline_data answers are read too")
    func retriesA429() async throws {
        let standIn = ProviderStandIn { _, number in
            number == 0
                ? .json(["error": ["code": 429, "message": "Resource has been exhausted", "status": "RESOURCE_EXHAUSTED"]],
                        status: .tooManyRequests, headers: [("Retry-After", "2")])
                : .json(GeminiAnswers.image(camelCase: false))
        }
        let timing = VirtualRetryTiming()
        let result = try await generator(try await standIn.start(), timing: timing).generate(prompt: "a cat", references: [])
        #expect(result.images.count == 1)
        #expect(standIn.requests.count == 2)
        #expect(timing.sleeps == [.seconds(2)])
    }

    @Test("a blocked prompt, a safety stop and a text-only answer are refusals, not crashes",
          arguments: ["blocked", "safety", "text"])
    func refusals(name: String) async throws {
        let standIn = ProviderStandIn { _, _ in .json(GeminiAnswers.refusal(name)) }
        do {
            _ = try await generator(try await standIn.start()).generate(prompt: "something", references: [])
            Issue.record("\(name) must be refused")
        } catch let error as ProviderError {
            #expect(error.code == .refused)
            let text = "\(error)"
            switch name {
            case "blocked": #expect(text.contains("blocked (SAFETY)"), "\(text)")
            case "safety": #expect(text.contains("stopped (IMAGE_SAFETY)"), "\(text)")
            default: #expect(text.contains("text only") && text.contains("I can only describe it."), "\(text)")
            }
            #expect(!text.contains(Self.key))
        }
    }

    @Test("a bad key is a 400/403 with Google's message, not retried")
    func badKey() async throws {
        let standIn = ProviderStandIn { _, _ in
            .json(["error": ["code": 400, "message": "API key not valid. Please pass a valid API key.", "status": "INVALID_ARGUMENT"]],
                  status: .badRequest)
        }
        await #expect {
            _ = try await generator(try await standIn.start()).generate(prompt: "a cat", references: [])
        } throws: { error in
            "\(error)".contains("Gemini: request rejected (HTTP 400): API key not valid") && !"\(error)".contains(Self.key)
        }
        #expect(standIn.requests.count == 1)
    }

    @Test("the output is saved with a sidecar naming the prompt, model, references and text")
    func savesWithSidecar() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("loupe-gen-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        let result = try GeminiImageGenerator.parse(GeminiAnswers.image(), requestID: "r1")
        let reference = GenerationReference(path: "/pictures/red.png", score: 0.5, itemID: 7, jpeg: Data([0xFF, 0xD8]))
        let first = try GenerationOutput.save(result, prompt: "p", model: "m", references: [reference], to: folder)
        let second = try GenerationOutput.save(result, prompt: "p", model: "m", references: [reference], to: folder)
        #expect(first.images.count == 1 && second.images.count == 1 && first.images[0] != second.images[0],
                "a second run in the same second must not overwrite the first")
        #expect(try Data(contentsOf: first.images[0]) == GeminiAnswers.picture)
        #expect(first.images[0].pathExtension == "png")
        let sidecar = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: first.sidecars[0])) as? [String: Any])
        #expect(sidecar["prompt"] as? String == "p" && sidecar["model"] as? String == "m")
        #expect(sidecar["text"] as? String == "Here is your picture.")
        let references = try #require(sidecar["references"] as? [[String: Any]])
        #expect(references.first?["path"] as? String == "/pictures/red.png")
        #expect(references.first?["score"] as? Double == 0.5)
        #expect(sidecar["created"] as? String != nil)
    }
}
