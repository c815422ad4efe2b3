import Foundation
import Hummingbird
import Logging
import Loupe
import NIOCore

/// `POST /api/generate` (retrieval-augmented image generation with Gemini, as a job) and
/// `GET /api/generated/{name}` (the pictures and sidecars it saved).
struct GenerateRoutes {
    let server: LoupeServer

    /// Most references one generation may send (retrieved and selected together).
    static let maxReferences = 16
    /// Longest prompt and retrieval query accepted, in characters.
    static let maxPromptLength = 10_000
    static let maxQueryLength = 1_000

    func register(on router: Router<LoupeRequestContext>) {
        let api = router.group("api")
        api.post("generate") { request, _ in try await startGeneration(request) }
        api.get("generated/:name") { _, context in try generatedFile(try context.parameters.require("name")) }
    }

    private struct GenerateBody: Decodable {
        var prompt: String?
        var refs: String?
        var k: Int?
        var items: [Int64]?
        var model: String?
        var aspectRatio: String?
    }

    private func startGeneration(_ request: Request) async throws -> Response {
        guard server.generator != nil else {
            throw APIError(.serviceUnavailable, "generation_unavailable", server.generationProblem ?? "image generation is off")
        }
        let configuration = server.configuration
        let data = try await APIRoutes.collect(request, limit: configuration.maxBodyBytes, what: "request body")
        let body = try APIRoutes.decode(GenerateBody.self, from: data, what: "the request body")
        guard let prompt = body.prompt else { throw APIError.badRequest("'prompt' is missing: say what to generate") }
        guard !prompt.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
            throw APIError.badRequest("'prompt' is empty: say what to generate")
        }
        guard prompt.count <= Self.maxPromptLength else {
            throw APIError.badRequest("'prompt' is \(prompt.count) characters long; the limit is \(Self.maxPromptLength)")
        }
        if let refs = body.refs {
            guard !refs.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
                throw APIError.badRequest("'refs' is empty: give a text query for reference pictures, or leave it out")
            }
            guard refs.count <= Self.maxQueryLength else {
                throw APIError.badRequest("'refs' is \(refs.count) characters long; the limit is \(Self.maxQueryLength)")
            }
        }
        let k = body.k ?? 3
        guard (0...Self.maxReferences).contains(k) else {
            throw APIError.badRequest("'k' is \(k); it must be within 0...\(Self.maxReferences)")
        }
        // An item named twice is sent once, where it first appears.
        var named = Set<Int64>()
        let items = (body.items ?? []).filter { named.insert($0).inserted }
        let retrieves = k > 0 && (body.refs != nil || items.isEmpty)
        let count = items.count + (retrieves ? k : 0)
        guard count <= Self.maxReferences else {
            throw APIError.badRequest("the request asks for \(count) references ('k' plus 'items'); the limit is \(Self.maxReferences)")
        }
        for id in items {
            guard try await server.library.item(id) != nil else { throw APIError.notFound("item \(id) in 'items' does not exist") }
        }
        let model = body.model ?? GeminiImageGenerator.defaultModel
        guard Self.isModelName(model) else {
            throw APIError.badRequest("'model' '\(model.prefix(100))' is not a model name (letters, digits, '.', '-' and '_', e.g. \(GeminiImageGenerator.defaultModel))")
        }
        if let ratio = body.aspectRatio, !Self.isAspectRatio(ratio) {
            throw APIError.badRequest("'aspectRatio' '\(ratio.prefix(20))' must be WIDTH:HEIGHT, e.g. 1:1 or 16:9")
        }
        // With no references named, the prompt itself finds them (as `loupe generate` does).
        let query = retrieves ? body.refs ?? prompt : nil
        let limit = configuration.limits.maxActiveGenerations
        guard let record = await server.generations.submit(JobRecord.Generation(
            prompt: prompt, model: model, aspectRatio: body.aspectRatio, refs: query, k: retrieves ? k : 0, items: items),
                                                           limit: limit)
        else {
            var busy = APIError(.tooManyRequests, "busy",
                                "\(limit) generations are already queued or running on this server; wait for one to finish")
            busy.headers[.retryAfter] = "10"
            throw busy
        }
        var response = try JSONBody.response(encoding: record, status: .accepted)
        response.headers[.location] = "/api/jobs/\(record.id)"
        return response
    }

    static func isModelName(_ name: String) -> Bool { name.count <= 100 && isPlainName(name) }

    /// Letters, digits, '.', '-' and '_', starting with a letter or digit (so never `..` or a path).
    static func isPlainName(_ name: String) -> Bool {
        guard let first = name.unicodeScalars.first, first.isASCII, first.properties.isAlphabetic || ("0"..."9").contains(first)
        else { return false }
        return name.unicodeScalars.allSatisfy { scalar in
            scalar.isASCII && (scalar.properties.isAlphabetic || ("0"..."9").contains(scalar) || ".-_".unicodeScalars.contains(scalar))
        }
    }

    /// `W:H` with one or two digits each.
    static func isAspectRatio(_ text: String) -> Bool {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        return parts.count == 2 && parts.allSatisfy { (1...2).contains($0.count) && $0.allSatisfy(\.isASCII) && $0.allSatisfy(\.isNumber) }
    }

    /// A file the generation jobs saved: only plain names in the output folder, only regular files.
    private func generatedFile(_ name: String) throws -> Response {
        let types = ["png": "image/png", "jpg": "image/jpeg", "webp": "image/webp", "gif": "image/gif", "json": "application/json"]
        guard name.count <= 200, Self.isPlainName(name),
              let type = types[(name as NSString).pathExtension.lowercased()]
        else { throw APIError.notFound("no generated file '\(name.prefix(200))'") }
        let url = server.generatedDirectory.appendingPathComponent(name)
        guard let attributes = try? FileManager.default.attributesOfItem(atPath: url.path),
              attributes[.type] as? FileAttributeType == .typeRegular, let data = FileManager.default.contents(atPath: url.path)
        else { throw APIError.notFound("no generated file '\(name)'") }
        return Response(status: .ok,
                        headers: [.contentType: type, .cacheControl: "private, max-age=86400",
                                  .init("X-Content-Type-Options")!: "nosniff"],
                        body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}

extension GenerationJobs {
    /// Jobs that gather references from `library`, call `generator` and save into `directory`.
    convenience init(library: MediaLibrary, generator: GeminiImageGenerator?, directory: URL, logger: Logger) {
        self.init(logger: logger) { request, stage in
            guard var generator else {
                throw ProviderError(.missingKey, provider: GeminiImageGenerator.provider, message: "image generation is off")
            }
            generator.model = request.model
            await stage(.retrieving)
            let references = try await library.generationReferences(query: request.refs, limit: request.k, items: request.items)
            await stage(.generating)
            let result = try await generator.generate(prompt: request.prompt, references: references.map(\.jpeg),
                                                      aspectRatio: request.aspectRatio)
            await stage(.saving)
            let output = try GenerationOutput.save(result, prompt: request.prompt, model: request.model,
                                                   references: references, to: directory)
            var done = request
            done.images = zip(result.images, output.images).map { image, url in
                let name = url.lastPathComponent
                return JobRecord.Generation.Image(url: "/api/generated/\(name)", sidecarURL: "/api/generated/\(name).json", name: name,
                             path: url.path, mimeType: image.mimeType)
            }
            done.text = output.text
            done.references = references.map { reference in
                JobRecord.Generation.Reference(path: reference.path, score: reference.score, itemID: reference.itemID, timeSeconds: reference.time,
                      thumbnailURL: reference.itemID.map { "/api/items/\($0)/thumbnail" })
            }
            return done
        }
    }
}
