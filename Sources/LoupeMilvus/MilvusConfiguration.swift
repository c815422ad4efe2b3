import Foundation

/// How to reach a Milvus server and how patient to be with it.
///
/// ```swift
/// var config = try MilvusConfiguration(uri: "http://127.0.0.1:19530")
/// config.credentials = .userPassword(user: "root", password: "Milvus")
/// config.database = "media"
/// let client = try MilvusClient(configuration: config)
/// ```
public struct MilvusConfiguration: Sendable {
    /// Credentials sent with every call as `authorization` metadata (base64, as every Milvus SDK sends).
    public enum Credentials: Sendable, CustomStringConvertible {
        /// A token: an API key, or `user:password` in one string (Zilliz Cloud style).
        case token(String)
        case userPassword(user: String, password: String)

        /// Never prints the secret.
        public var description: String {
            switch self {
            case .token: return "token(…)"
            case .userPassword(let user, _): return "user \(user) with a password"
            }
        }

        var headerValue: String {
            switch self {
            case .token(let t): return Data(t.utf8).base64EncodedString()
            case .userPassword(let u, let p): return Data("\(u):\(p)".utf8).base64EncodedString()
            }
        }

        /// The user name the credentials carry, if any (for `Connect`'s client info).
        var user: String {
            switch self {
            case .token(let t):
                if let colon = t.firstIndex(of: ":") { return String(t[..<colon]) }
                return ""
            case .userPassword(let u, _): return u
            }
        }
    }

    /// How failed calls are retried: only when the server is unavailable or throttles.
    public struct RetryPolicy: Sendable {
        /// Attempts in all, the first included (1 means no retry).
        public var maxAttempts: Int = 5
        public var initialBackoff: Duration = .milliseconds(100)
        public var maxBackoff: Duration = .seconds(3)
        public var multiplier: Double = 2
        public init() {}
    }

    /// The host name or address.
    public var host: String
    public var port: Int
    /// TLS (the URI was `https://`).
    public var useTLS: Bool
    /// With TLS: trust the certificates in this PEM file (a private CA, or a self-signed server) instead
    /// of the system's trust roots; nil: the system's.
    public var trustedCertificates: String?
    public var credentials: Credentials?
    /// The database every call addresses (Milvus's `dbname` metadata); nil means `default`.
    public var database: String?
    /// How long one call may take, retries and their backoff included.
    public var timeout: Duration = .seconds(30)
    /// How long one call of the long kind may take (`CreateIndex`, `LoadCollection`, `Flush` and the
    /// waits for them).
    public var longTimeout: Duration = .seconds(300)
    public var retry = RetryPolicy()
    /// The largest answer accepted (search results with many output fields can be large).
    public var maxResponseBytes: Int = 64 << 20

    /// Configuration for `uri`: `http://host:port`, `https://host[:port]` (TLS, default port 443),
    /// `tcp://host:port` or `host:port`; the default port is 19530.
    public init(uri: String, credentials: Credentials? = nil, database: String? = nil) throws {
        var rest = Substring(uri.trimmingCharacters(in: .whitespaces))
        var tls = false
        var defaultPort = 19530
        if let scheme = rest.range(of: "://") {
            switch rest[..<scheme.lowerBound].lowercased() {
            case "http", "tcp", "grpc": break
            case "https", "grpcs":
                tls = true
                defaultPort = 443
            default:
                throw MilvusError(.invalidArgument, "URI '\(uri)' must start with http://, https:// or tcp://")
            }
            rest = rest[scheme.upperBound...]
        }
        if let slash = rest.firstIndex(of: "/") { rest = rest[..<slash] }
        if rest.contains("@") {
            throw MilvusError(.invalidArgument,
                              "URI must not carry credentials; pass them as credentials (token or user and password)")
        }
        var host = String(rest)
        var port = defaultPort
        if rest.hasPrefix("["), let close = rest.firstIndex(of: "]") {
            host = String(rest[rest.index(after: rest.startIndex)..<close])
            let after = rest[rest.index(after: close)...]
            if after.hasPrefix(":") {
                guard let p = Int(after.dropFirst()) else { throw Self.badPort(uri) }
                port = p
            }
        } else if let colon = rest.lastIndex(of: ":") {
            host = String(rest[..<colon])
            guard let p = Int(rest[rest.index(after: colon)...]) else { throw Self.badPort(uri) }
            port = p
        }
        guard !host.isEmpty else { throw MilvusError(.invalidArgument, "URI '\(uri)' has no host") }
        guard (1...65535).contains(port) else { throw Self.badPort(uri) }
        self.host = host
        self.port = port
        self.useTLS = tls
        self.credentials = credentials
        self.database = database
    }

    private static func badPort(_ uri: String) -> MilvusError {
        MilvusError(.invalidArgument, "URI '\(uri)' has a port that is not a number in 1...65535")
    }

    /// `host:port`, for messages.
    public var address: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
}
