import Foundation
import LoupeFixtures
import LoupeMedia
import LoupeTestSupport
import Synchronization

/// Gemini's `generateContent` on a loopback port for the server's tests: a `ProviderStandIn` (every request
/// logged, answered by the test's `respond`, which may await a gate the test opens once it has seen the
/// job's progress) with Gemini's answers and request accessors.
final class GeminiStandIn: Sendable {
    typealias Received = ProviderStandIn.Received
    typealias Reply = ProviderStandIn.Reply

    private let server: ProviderStandIn

    init(_ respond: @escaping @Sendable (Received) async -> Reply) {
        server = .answeringInTasks { request, _ in await respond(request) }
    }

    var requests: [Received] { server.requests }

    /// Binds an ephemeral loopback port and returns its base URL.
    func start() async throws -> URL { try await server.start() }

    func stop() async { await server.stop() }

    /// The server environment pointing `POST /api/generate` here.
    func environment(_ base: URL, key: String = GenerateAPITests.key) -> [String: String] {
        ["GEMINI_BASE_URL": base.absoluteString, "GEMINI_API_KEY": key]
    }

    /// A small PNG, the "generated" picture: a green square on 64 × 48.
    static let picture: Data = {
        let pixels = ShapePainter(width: 64, height: 48).paint(.square, .green)
        return (try? ImageEncoder.encode(pixels: pixels, width: 64, height: 48, as: .png)) ?? Data()
    }()

    /// Text and one picture, in the REST API's camelCase.
    static var imageAnswer: [String: Any] { [
        "candidates": [["content": ["role": "model", "parts": [
            ["text": "Here is your picture."],
            ["inlineData": ["mimeType": "image/png", "data": picture.base64EncodedString()]],
        ]], "finishReason": "STOP", "index": 0]],
    ] }
    static var blockedAnswer: [String: Any] { ["promptFeedback": ["blockReason": "SAFETY"]] }
    static var textOnlyAnswer: [String: Any] { [
        "candidates": [["content": ["parts": [["text": "I can only describe it."]]], "finishReason": "STOP"]],
    ] }
}

extension ProviderStandIn.Received {
    /// The parts of a Gemini request's first content: the prompt, then the references.
    var parts: [[String: Any]] {
        let contents = json?["contents"] as? [[String: Any]] ?? []
        return contents.first?["parts"] as? [[String: Any]] ?? []
    }
    var prompt: String? { parts.first?["text"] as? String }
    /// The inline pictures sent, decoded from base64, with their MIME types.
    var pictures: [(mimeType: String, data: Data)] {
        parts.compactMap { part in
            guard let inline = part["inline_data"] as? [String: Any], let encoded = inline["data"] as? String,
                  let data = Data(base64Encoded: encoded) else { return nil }
            return (inline["mime_type"] as? String ?? "", data)
        }
    }
    var generationConfig: [String: Any] { json?["generationConfig"] as? [String: Any] ?? [:] }
}

/// A one-shot gate: `wait()` returns once `open()` has been called (before or after).
final class Gate: Sendable {
    private let state = Mutex<(open: Bool, waiters: [CheckedContinuation<Void, Never>])>((false, []))

    func open() {
        let waiters = state.withLock { state in
            state.open = true
            defer { state.waiters = [] }
            return state.waiters
        }
        for waiter in waiters { waiter.resume() }
    }

    func wait() async {
        await withCheckedContinuation { continuation in
            let resumeNow = state.withLock { state in
                if state.open { return true }
                state.waiters.append(continuation)
                return false
            }
            if resumeNow { continuation.resume() }
        }
    }
}
