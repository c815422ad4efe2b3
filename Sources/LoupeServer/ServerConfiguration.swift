import Foundation
import Logging

/// How `loupe serve` listens and what it lets through.
public struct ServerConfiguration: Sendable {
    /// Interface to bind; loopback unless the user asks otherwise.
    public var host = "127.0.0.1"
    /// TCP port; 0 picks a free one (tests).
    public var port = 8080
    /// Bearer token clients must send. Required when `host` is not a loopback address.
    public var token: String?
    /// Largest request body accepted, in bytes (JSON and Milvus requests).
    public var maxBodyBytes = 8 << 20
    /// Largest uploaded picture accepted, in bytes.
    public var maxUploadBytes = 32 << 20
    /// Origins allowed by CORS; empty turns CORS off.
    public var corsOrigins: [String] = []
    /// Most results one search may ask for.
    public var maxResults = 500
    /// Folders `POST /api/index` may index (with everything under them); empty allows any path the
    /// server's user can read.
    public var indexRoots: [String] = []
    /// Where job records live so they resume after a restart; nil keeps them in memory only.
    public var jobsDirectory: URL?
    /// Bounds on what one request or client can cost (see `RequestLimits`).
    public var limits = RequestLimits()
    /// `--allow-library-admin`: lets Milvus REST drop, release or write to the library's own collection.
    public var allowsLibraryAdmin = false
    /// `--milvus-port`: also answer Milvus's gRPC protocol on this port (0 picks a free one); nil: off.
    public var milvusPort: Int?
    /// `--tls-cert` and `--tls-key`: serve HTTPS (and gRPC over TLS on `milvusPort`) with these files; nil:
    /// plain HTTP, for loopback or behind a reverse proxy.
    public var tls: TLSFiles?
    /// `--allow-table-files`: lets table rows and searches (`/api/tables`, Milvus function fields) name
    /// pictures by a path on this machine; otherwise only http(s) URLs and base64 are read.
    public var allowsTableFiles = false
    /// Where the providers' settings are read: for `POST /api/generate`, `GEMINI_API_KEY` (else
    /// `GOOGLE_API_KEY`) and `GEMINI_BASE_URL` (without a key the endpoint answers 503 and the page hides
    /// "Generate with these"); for tables whose vectors name `jina:MODEL` or `twelvelabs:MODEL`,
    /// `JINA_API_KEY` and `JINA_BASE_URL`, `TWELVE_LABS_API_KEY` and `TWELVE_LABS_BASE_URL`.
    public var providerEnvironment: [String: String] = ProcessInfo.processInfo.environment
    /// Where generated pictures and their sidecars are saved; nil: `generated/` in the library's data folder.
    public var generatedDirectory: URL?

    public init() {}

    /// Whether `host` only accepts connections from this machine.
    public var isLoopback: Bool {
        ["127.0.0.1", "::1", "localhost"].contains(host) || host.hasPrefix("127.")
    }

    /// Checks the combination before anything binds.
    public func validate() throws {
        guard (0...65535).contains(port) else {
            throw ServerError.configuration("port \(port) is outside 0-65535")
        }
        if let milvusPort, !(0...65535).contains(milvusPort) {
            throw ServerError.configuration("--milvus-port \(milvusPort) is outside 0-65535")
        }
        if !isLoopback && (token ?? "").isEmpty {
            throw ServerError.configuration(
                "listening on \(host) needs --token (or LOUPE_TOKEN): anyone who can reach the port could read your library")
        }
        if let token, token.count < 8 {
            throw ServerError.configuration("the token is \(token.count) characters long; use at least 8")
        }
        guard maxBodyBytes > 0, maxUploadBytes > 0 else {
            throw ServerError.configuration("body and upload limits must be positive")
        }
        guard limits.maxConnections > 0, limits.maxConnectionsPerAddress > 0, (0.001...86_400).contains(limits.headerTimeout),
            (0.001...86_400).contains(limits.idleTimeout), (0...3_600).contains(limits.shutdownDeadline), limits.decodeBudgetBytes > 0
        else {
            throw ServerError.configuration("connection limits and the decode budget must be positive, and timeouts within 0.001-86400 s")
        }
    }
}

/// Errors raised while configuring or starting the server (request errors are `APIError`).
public enum ServerError: Error, CustomStringConvertible {
    case configuration(String)

    public var description: String {
        switch self {
        case .configuration(let message): "server configuration: \(message)"
        }
    }
}
