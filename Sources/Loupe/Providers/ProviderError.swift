/// An error from a cloud provider (Jina, Twelve Labs, Gemini) or from reaching it: it names the provider,
/// the HTTP status when there was one, and the API's own message, never the API key.
public struct ProviderError: Error, CustomStringConvertible, Sendable {
    /// What kind of problem this is. New codes may be added.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        let name: String
        public var description: String { name }

        /// The provider refused the request (a 4xx other than 429): not retried.
        public static let rejected = Code(name: "request rejected")
        /// The provider kept failing (429 or 5xx) until the attempts or the deadline ran out.
        public static let unavailable = Code(name: "provider unavailable")
        /// The provider could not be reached, or one attempt took longer than its timeout.
        public static let unreachable = Code(name: "provider unreachable")
        /// The answer was not what the provider's API documents.
        public static let badResponse = Code(name: "unexpected response")
        /// No API key in the environment or on the command line.
        public static let missingKey = Code(name: "missing API key")
        /// The provider declined to generate (a blocked prompt, a safety stop, no image in the answer).
        public static let refused = Code(name: "generation refused")
        /// A remote task (a Twelve Labs embedding task) ended as failed.
        public static let taskFailed = Code(name: "task failed")
    }

    public var code: Code
    /// "Jina", "Twelve Labs", "Gemini".
    public var provider: String
    /// The HTTP status of the last answer, when there was one.
    public var status: Int?
    /// What went wrong, with the API's own message when it gave one.
    public var message: String
    /// The provider's request id, for its support.
    public var requestID: String?
    /// Attempts made (1 when nothing was retried).
    public var attempts: Int

    public init(_ code: Code, provider: String, status: Int? = nil, message: String, requestID: String? = nil,
                attempts: Int = 1) {
        self.code = code
        self.provider = provider
        self.status = status
        self.message = message
        self.requestID = requestID
        self.attempts = attempts
    }

    public var description: String {
        var text = "\(provider): \(code)"
        if let status { text += " (HTTP \(status))" }
        text += ": \(message)"
        if attempts > 1 { text += " (after \(attempts) attempts)" }
        if let requestID { text += " [request id \(requestID)]" }
        return text
    }
}
