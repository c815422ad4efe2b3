import Foundation
import LoupeMilvus

/// A Milvus server started by `scripts/milvus-test-server` (which `make test` runs around the suite),
/// read from the state file the script writes.
///
/// The suite never skips: a server that is not running makes the tests that need it fail with the
/// script's message and the tail of the server's log.
struct MilvusTestServer: Sendable, CustomStringConvertible {
    enum Kind: String, Sendable, CaseIterable, CustomStringConvertible {
        /// Milvus 2.3.5 standalone, auth on (root:Milvus).
        case milvus
        /// milvus-lite (Python, ignores auth).
        case lite
        var description: String { rawValue }
    }

    struct Unavailable: Error, CustomStringConvertible {
        var description: String
    }

    let kind: Kind
    let grpcPort: Int
    let version: String
    let authEnabled: Bool

    var description: String { "\(kind) \(version) on 127.0.0.1:\(grpcPort)" }
    var uri: String { "http://127.0.0.1:\(grpcPort)" }

    /// The default credentials of a fresh Milvus (the only account the test server has).
    static let rootCredentials = MilvusConfiguration.Credentials.userPassword(user: "root", password: "Milvus")

    static var stateDirectory: URL {
        if let dir = ProcessInfo.processInfo.environment["LOUPE_MILVUS_TEST_STATE"], !dir.isEmpty {
            return URL(fileURLWithPath: dir)
        }
        // Tests/LoupeMilvusTests/MilvusTestServer.swift -> the package root.
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        return root.appendingPathComponent(".build/milvus-test")
    }

    /// The running server of `kind`, or an error that says why there is none, with its log's tail.
    static func running(_ kind: Kind) throws -> MilvusTestServer {
        let file = stateDirectory.appendingPathComponent(kind.rawValue).appendingPathComponent("state")
        guard let text = try? String(contentsOf: file, encoding: .utf8) else {
            throw Unavailable(description: """
                no \(kind) test server: \(file.path) is missing. `make test` starts the servers; by hand run \
                `scripts/milvus-test-server start` before `swift test` and `scripts/milvus-test-server stop` after.
                """)
        }
        var state: [String: String] = [:]
        for line in text.split(separator: "\n") {
            guard let eq = line.firstIndex(of: "=") else { continue }
            state[String(line[..<eq])] = String(line[line.index(after: eq)...])
        }
        guard state["status"] == "running", let port = state["grpc_port"].flatMap({ Int($0) }) else {
            let logs = (state["logs"] ?? "").split(separator: " ").map(String.init)
            throw Unavailable(description: """
                the \(kind) test server did not start: \(state["message"] ?? "no message")
                \(logs.map(tail).joined(separator: "\n"))
                """)
        }
        return MilvusTestServer(kind: kind, grpcPort: port, version: state["version"] ?? "?",
                                authEnabled: state["auth"] == "true")
    }

    /// A loopback port nothing listens on: one that was free a moment ago (bound, read, closed).
    static func closedLoopbackPort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw MilvusError(.server, "socket() failed") }
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        addr.sin_port = 0
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, len) == 0 && getsockname(fd, $0, &len) == 0 }
        }
        guard bound else { throw MilvusError(.server, "bind() failed") }
        return Int(UInt16(bigEndian: addr.sin_port))
    }

    /// The last 40 lines of a log file, headed by its path.
    private static func tail(_ path: String) -> String {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return "(\(path): unreadable)" }
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).suffix(40)
        return "--- \(path) (last \(lines.count) lines)\n" + lines.joined(separator: "\n")
    }

    /// Runs `body` with a client of this server (root credentials unless given), closed afterwards
    /// whether `body` throws or not.
    func withClient<T: Sendable>(credentials: MilvusConfiguration.Credentials? = rootCredentials,
                                 _ body: (MilvusClient) async throws -> T) async throws -> T {
        var config = try MilvusConfiguration(uri: uri, credentials: credentials)
        config.timeout = .seconds(30)
        config.longTimeout = .seconds(120)
        let client = try MilvusClient(configuration: config)
        do {
            let result = try await body(client)
            await client.close()
            return result
        } catch {
            await client.close()
            throw error
        }
    }
}

/// Deterministic pseudo-random numbers (SplitMix64), so vectors are the same in every run.
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A unit vector of `dimension` components.
    mutating func unitVector(_ dimension: Int) -> [Float] {
        let v = (0..<dimension).map { _ in Float.random(in: -1...1, using: &self) }
        let norm = v.reduce(0) { $0 + $1 * $1 }.squareRoot()
        return v.map { $0 / norm }
    }
}
