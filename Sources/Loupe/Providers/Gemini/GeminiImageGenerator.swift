import Foundation
import Logging

/// Gemini's image model ("Nano Banana", `gemini-2.5-flash-image`) through `generateContent`: a prompt
/// and reference pictures in, generated pictures and text out.
///
/// ```swift
/// let gemini = try GeminiImageGenerator.fromEnvironment()
/// let result = try await gemini.generate(prompt: "A model wearing a suit, carrying a gold watch",
///                                        references: references)
/// ```
public struct GeminiImageGenerator: Sendable {
    public static let provider = "Gemini"
    public static let defaultModel = "gemini-2.5-flash-image"
    public static let defaultBaseURL = URL(string: "https://generativelanguage.googleapis.com")!

    public var client: ProviderClient
    public var model: String

    public init(client: ProviderClient, model: String = Self.defaultModel) {
        self.client = client
        self.model = model
    }

    /// A generator for `$GEMINI_BASE_URL` (default Google's endpoint) with the key from `key`, else
    /// `$GEMINI_API_KEY`, else `$GOOGLE_API_KEY`.
    public static func fromEnvironment(model: String = Self.defaultModel, key: String? = nil,
                                       environment: [String: String] = ProcessInfo.processInfo.environment,
                                       policy: RemoteCallPolicy = RemoteCallPolicy(),
                                       logger: Logger = Logger(label: "loupe.providers.gemini")) throws -> GeminiImageGenerator {
        let credential = try ProviderCredential.resolve(provider: provider, flag: key, variables: ["GEMINI_API_KEY", "GOOGLE_API_KEY"],
                                                        header: "x-goog-api-key", environment: environment)
        let base = try ProviderEnvironment.baseURL(environment["GEMINI_BASE_URL"], default: defaultBaseURL,
                                                   variable: "GEMINI_BASE_URL")
        return GeminiImageGenerator(client: ProviderClient(provider: provider, baseURL: base, credential: credential,
                                                           policy: policy, logger: logger),
                                    model: model)
    }

    /// One generated picture.
    public struct Image: Sendable {
        public var mimeType: String
        public var data: Data
    }

    /// What the model answered.
    public struct Result: Sendable {
        public var images: [Image]
        /// The text parts, joined.
        public var text: String
        public var requestID: String
    }

    /// The request body `generate` sends: the prompt, then each reference as inline JPEG data.
    static func body(prompt: String, references: [Data], aspectRatio: String?) -> [String: Any] {
        var parts: [[String: Any]] = [["text": prompt]]
        for jpeg in references {
            parts.append(["inline_data": ["mime_type": "image/jpeg", "data": jpeg.base64EncodedString()]])
        }
        var generationConfig: [String: Any] = ["responseModalities": ["TEXT", "IMAGE"]]
        if let aspectRatio { generationConfig["imageConfig"] = ["aspectRatio": aspectRatio] }
        return ["contents": [["parts": parts]], "generationConfig": generationConfig]
    }

    /// Generates from `prompt` and JPEG `references`.
    /// - Throws: `ProviderError(.refused)` for a blocked prompt, a candidate stopped for safety or an
    ///   answer without a picture; the errors of `ProviderClient.send` otherwise.
    public func generate(prompt: String, references: [Data], aspectRatio: String? = nil) async throws -> Result {
        guard !prompt.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
            throw ProviderError(.rejected, provider: Self.provider, message: "the prompt is empty")
        }
        let path = "/v1beta/models/\(model.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed) ?? model):generateContent"
        let request = try ProviderClient.Request(path: path, json: Self.body(prompt: prompt, references: references,
                                                                             aspectRatio: aspectRatio),
                                                 operation: "generate")
        let response = try await client.send(request)
        return try Self.parse(try response.jsonObject(provider: Self.provider), requestID: response.requestID)
    }

    /// Reads a `generateContent` answer; both `inlineData`/`mimeType` (the REST API's JSON) and
    /// `inline_data`/`mime_type` are accepted.
    static func parse(_ object: [String: Any], requestID: String) throws -> Result {
        func refused(_ message: String) -> ProviderError {
            ProviderError(.refused, provider: provider, status: 200, message: message, requestID: requestID)
        }
        if let feedback = object["promptFeedback"] as? [String: Any], let reason = feedback["blockReason"] as? String {
            let detail = (feedback["blockReasonMessage"] as? String).map { ": \($0)" } ?? ""
            throw refused("the prompt was blocked (\(reason))\(detail); rephrase it or change the references")
        }
        let candidates = object["candidates"] as? [[String: Any]] ?? []
        var images: [Image] = []
        var texts: [String] = []
        var stops: [String] = []
        for candidate in candidates {
            if let reason = candidate["finishReason"] as? String { stops.append(reason) }
            let content = candidate["content"] as? [String: Any]
            for part in content?["parts"] as? [[String: Any]] ?? [] {
                if let text = part["text"] as? String { texts.append(text) }
                if let inline = (part["inlineData"] ?? part["inline_data"]) as? [String: Any],
                   let encoded = inline["data"] as? String
                {
                    guard let data = Data(base64Encoded: encoded, options: .ignoreUnknownCharacters), !data.isEmpty else {
                        throw ProviderError(.badResponse, provider: provider, status: 200,
                                            message: "an image part's data is not base64", requestID: requestID)
                    }
                    let mime = (inline["mimeType"] ?? inline["mime_type"]) as? String ?? "image/png"
                    images.append(Image(mimeType: mime, data: data))
                }
            }
        }
        let text = texts.joined(separator: "\n")
        if images.isEmpty {
            let safety: Set<String> = ["SAFETY", "IMAGE_SAFETY", "PROHIBITED_CONTENT", "BLOCKLIST", "SPII", "RECITATION", "IMAGE_PROHIBITED_CONTENT"]
            if let stop = stops.first(where: safety.contains) {
                throw refused("generation was stopped (\(stop)); no image was returned")
            }
            if candidates.isEmpty { throw refused("the answer has no candidates") }
            let said = text.isEmpty ? "" : "; it said: \(text.prefix(500))"
            throw refused("the model answered with text only, no image\(said)")
        }
        return Result(images: images, text: text, requestID: requestID)
    }
}

/// Reading provider settings from the environment.
enum ProviderEnvironment {
    /// `value` as a base URL (http or https), or `fallback` when unset or empty.
    static func baseURL(_ value: String?, default fallback: URL, variable: String) throws -> URL {
        guard let value = value?.trimmingCharacters(in: .whitespaces), !value.isEmpty else { return fallback }
        guard let url = URL(string: value), let scheme = url.scheme?.lowercased(), scheme == "http" || scheme == "https",
              url.host != nil
        else {
            throw LoupeError(.invalidArgument, "\(variable) must be an http(s) URL", input: value)
        }
        return url
    }
}
