import Foundation

/// Which embedder a library uses, as `--embedder` names it: `clip` (local, the default), `jina:MODEL`
/// (optionally `jina:MODEL@DIMS` for truncated vectors) or `twelvelabs:MODEL`.
public enum EmbedderSpec: Sendable, Hashable, CustomStringConvertible {
    case clip
    case jina(model: String, dimensions: Int?)
    case twelveLabs(model: String)

    /// Parses `--embedder`'s value.
    public init(parsing text: String) throws {
        let value = text.trimmingCharacters(in: .whitespaces)
        if value.lowercased() == "clip" {
            self = .clip
            return
        }
        guard let colon = value.firstIndex(of: ":") else {
            throw LoupeError(.invalidArgument, "an embedder is clip, jina:MODEL or twelvelabs:MODEL", input: text)
        }
        let provider = value[..<colon].lowercased()
        let model = String(value[value.index(after: colon)...])
        guard !model.isEmpty, !model.contains("/"), !model.contains(where: \.isWhitespace) else {
            throw LoupeError(.invalidArgument, "the model after '\(provider):' is missing or not a model id", input: text)
        }
        switch provider {
        case "jina":
            if let at = model.firstIndex(of: "@") {
                guard let dimensions = Int(model[model.index(after: at)...]), dimensions >= 1 else {
                    throw LoupeError(.invalidArgument, "the dimensions after '@' must be a positive integer", input: text)
                }
                self = .jina(model: String(model[..<at]), dimensions: dimensions)
            } else {
                self = .jina(model: model, dimensions: nil)
            }
        case "twelvelabs", "twelve-labs", "twelve_labs":
            self = .twelveLabs(model: model)
        default:
            throw LoupeError(.invalidArgument, "unknown embedder provider '\(provider)': use clip, jina:MODEL or twelvelabs:MODEL",
                             input: text)
        }
    }

    /// The name stored with the library (`Embedder.modelName` of a remote embedder).
    public var description: String {
        switch self {
        case .clip: "clip"
        case .jina(let model, let dimensions): "jina:\(model)" + (dimensions.map { "@\($0)" } ?? "")
        case .twelveLabs(let model): "twelvelabs:\(model)"
        }
    }

    public var isRemote: Bool { self != .clip }
}

/// The remote embedder each collection of a data folder was built with, in `embedder.json`, so later
/// commands use it without `--embedder` (the collection's schema records it too, and refuses others).
public enum EmbedderRecord {
    static func url(_ data: URL) -> URL { data.appendingPathComponent("embedder.json") }

    /// The recorded embedder of `collection`, or nil (a CLIP library, or none yet).
    public static func read(data: URL, collection: String) -> EmbedderSpec? {
        guard let bytes = try? Data(contentsOf: url(data)),
              let object = try? JSONSerialization.jsonObject(with: bytes) as? [String: Any],
              let entry = object[collection] as? [String: Any], let name = entry["embedder"] as? String
        else { return nil }
        return try? EmbedderSpec(parsing: name)
    }

    /// Records `embedder` (its name and dimension) for `collection`.
    public static func write(data: URL, collection: String, embedder: any Embedder) throws {
        var object = (try? Data(contentsOf: url(data))).flatMap { try? JSONSerialization.jsonObject(with: $0) as? [String: Any] } ?? [:]
        object[collection] = ["embedder": embedder.modelName, "dimension": embedder.dimension]
        try FileManager.default.createDirectory(at: data, withIntermediateDirectories: true)
        try JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys]).write(to: url(data), options: .atomic)
    }
}

/// Settings for the remote embedders `--embedder` can name.
public struct RemoteEmbedderSettings: Sendable {
    /// The key from the command line (else the provider's environment variable).
    public var key: String?
    public var jina = JinaEmbedder.Options()
    public var twelveLabs = TwelveLabsEmbedder.Options()
    public var environment = ProcessInfo.processInfo.environment
    public var policy = RemoteCallPolicy()
    /// The clock and waits of retries and of polling video tasks (a virtual one in tests).
    public var timing = RetryTiming.system
    public init() {}
}

extension EmbedderSpec {
    /// The remote embedder this names, with its cache in `data`; nil for `clip`.
    public func remoteEmbedder(data: URL, settings: RemoteEmbedderSettings = RemoteEmbedderSettings()) async throws
        -> (any Embedder)?
    {
        let cache = RemoteEmbeddingCache.inDataDirectory(data)
        switch self {
        case .clip:
            return nil
        case .jina(let model, let dimensions):
            var options = settings.jina
            options.dimensions = dimensions ?? options.dimensions
            return try await JinaEmbedder.fromEnvironment(model: model, options: options, key: settings.key, cache: cache,
                                                          environment: settings.environment, policy: settings.policy)
        case .twelveLabs(let model):
            return try await TwelveLabsEmbedder.fromEnvironment(model: model, options: settings.twelveLabs, key: settings.key,
                                                                cache: cache, environment: settings.environment,
                                                                policy: settings.policy, timing: settings.timing)
        }
    }
}

extension TableClient {
    /// Connects the remote embedders a table's sources name (`jina:MODEL`, `twelvelabs:MODEL`) when first
    /// used, their calls cached in `data`; other names (`clip` included) are left to the given embedders.
    public static func remoteConnector(data: URL, settings: RemoteEmbedderSettings) -> Connector {
        { name in
            guard let spec = try? EmbedderSpec(parsing: name), spec != .clip else { return nil }
            return try await spec.remoteEmbedder(data: data, settings: settings)
        }
    }
}
