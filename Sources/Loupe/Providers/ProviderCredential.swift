import Foundation

/// An API key and the header that carries it. Its description never shows the key, so it can appear in
/// logs and messages without leaking it.
public struct ProviderCredential: Sendable, CustomStringConvertible, CustomDebugStringConvertible {
    /// The header, e.g. `Authorization`, `x-api-key`, `x-goog-api-key`.
    public let header: String
    /// The header's value, e.g. `Bearer <key>`.
    let value: String
    /// The key itself, so messages can be scrubbed of it.
    let secret: String

    /// A key sent as `header: prefix + key`.
    public init(header: String, key: String, prefix: String = "") {
        self.header = header
        self.secret = key
        self.value = prefix + key
    }

    public var description: String { "\(header): <redacted>" }
    public var debugDescription: String { description }

    /// The key from `flag` when given, else from the first of `variables` set in `environment`.
    /// - Throws: `ProviderError(.missingKey)` naming the variables, when none is set.
    public static func resolve(provider: String, flag: String?, variables: [String], header: String, prefix: String = "",
                               environment: [String: String] = ProcessInfo.processInfo.environment) throws
        -> ProviderCredential
    {
        if let flag, !flag.isEmpty { return ProviderCredential(header: header, key: flag, prefix: prefix) }
        for name in variables {
            if let key = environment[name]?.trimmingCharacters(in: .whitespacesAndNewlines), !key.isEmpty {
                return ProviderCredential(header: header, key: key, prefix: prefix)
            }
        }
        throw ProviderError(.missingKey, provider: provider,
                            message: "set \(variables.joined(separator: " or ")) (or pass the key with its flag)")
    }

    /// `text` with every occurrence of the key replaced, for messages that quote a provider's answer.
    func scrub(_ text: String) -> String {
        secret.count < 4 ? text : text.replacingOccurrences(of: secret, with: "<redacted>")
    }
}
