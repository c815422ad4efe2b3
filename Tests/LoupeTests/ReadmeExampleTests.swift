import Foundation
import Testing
@testable import Loupe

/// The README's "Your own tables" walkthrough, run as written: its two shell blocks, pulled out of
/// README.md at test time (so the test follows the README, not a copy of it), run by bash in a scratch
/// directory with the built `loupe` first on `PATH`. The server block's port (8080, the default) is the
/// only edit: a free port, given to `loupe serve` and the curl calls, so the test cannot meet another server.
@Suite("README examples", .serialized)
struct ReadmeExampleTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    /// The ```sh blocks of the README section headed `heading`, in order.
    static func shellBlocks(under heading: String) throws -> [String] {
        let readme = try String(contentsOf: root.appendingPathComponent("README.md"), encoding: .utf8)
        guard let start = readme.range(of: "\n## " + heading + "\n") else {
            throw LoupeError(.notFound, "README.md has no section '\(heading)'")
        }
        let rest = readme[start.upperBound...]
        let section = rest.range(of: "\n## ").map { rest[..<$0.lowerBound] } ?? rest
        return section.components(separatedBy: "```sh\n").dropFirst().compactMap { $0.components(separatedBy: "\n```").first }
    }

    /// Runs bash's `command` (with `$0` = `argument`) in `directory`; returns status, output and errors.
    static func bash(_ command: String, argument: String, in directory: URL) throws
        -> (status: Int32, output: String, errors: String)
    {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/bash")
        process.arguments = ["-c", command, argument]
        process.currentDirectoryURL = directory
        var environment = ProcessInfo.processInfo.environment
        environment["PATH"] = try loupeExecutable().deletingLastPathComponent().path + ":" + (environment["PATH"] ?? "/usr/bin:/bin")
        process.environment = environment
        let output = Pipe()
        let errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        nonisolated(unsafe) var errorText = Data()
        let drain = Thread { errorText = errors.fileHandleForReading.readDataToEndOfFile() }
        drain.start()
        let outputText = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        while !drain.isFinished { Thread.sleep(forTimeInterval: 0.001) }
        return (process.terminationStatus, String(decoding: outputText, as: UTF8.self), String(decoding: errorText, as: UTF8.self))
    }

    /// A loopback port nothing listens on now.
    static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0 else { throw LoupeError(.invalidArgument, "cannot bind a loopback port") }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        withUnsafeMutablePointer(to: &address) {
            _ = $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    @Test("the pytidb walkthrough with the CLI, then over HTTP, runs as written and finds what the README says")
    func tablesWalkthrough() throws {
        let blocks = try Self.shellBlocks(under: "Your own tables: vectors that fill themselves")
        try #require(blocks.count == 2, "the section has a CLI block and a server block")
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("loupe-readme-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: scratch) }
        // The walkthrough runs "from the repository's root": its model path is under Tests/.
        try FileManager.default.createSymbolicLink(at: scratch.appendingPathComponent("Tests"),
                                                   withDestinationURL: Self.root.appendingPathComponent("Tests"))

        // One shell, as a reader runs them (the server block uses the first block's $MODEL); bash's own
        // `timeout` bounds the server block's wait for /healthz should the server not start.
        let marker = "--- the server block ---"
        let port = try Self.freePort()
        let serverBlock = blocks[1].replacingOccurrences(of: "localhost:8080", with: "localhost:\(port)")
            .replacingOccurrences(of: "loupe serve ", with: "loupe serve --port \(port) ")
        let script = blocks[0] + "\necho '\(marker)'\n" + serverBlock
        let run = try Self.bash("timeout 300 bash -c \"$0\"", argument: script, in: scratch)
        let parts = run.output.components(separatedBy: marker + "\n")
        try #require(parts.count == 2, "the CLI block ran to its end: \(run.output) \(run.errors)")
        let cli = parts[0]
        let lines = cli.split(separator: "\n").map(String.init)
        // The first search: the README says the two red circles come first.
        let first = lines.filter { $0.contains("image_uri=") }.prefix(3)
        #expect(first.count == 3, "\(cli) \(run.errors)")
        #expect(first.prefix(2).allSatisfy { $0.contains("shapes/red-circle-") }, "\(first)")
        #expect(cli.contains("\"image_uri\""), "the --json search prints JSON: \(cli)")
        #expect(cli.contains("green-square"), "the picture query finds its class: \(cli)")
        #expect(cli.contains("image_vec"), "describe shows the sourced field: \(cli)")

        let server = (output: parts[1], errors: run.errors)
        let answers = server.output.split(separator: "\n").compactMap {
            try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
        }
        try #require(answers.count == 4, "one JSON answer per curl call: \(server.output) \(server.errors)")
        for answer in answers.prefix(3) { #expect(answer["code"] as? Int == 0, "\(answer)") }
        let hits = answers[2]["data"] as? [[String: Any]] ?? []
        #expect(hits.first?["name"] as? String == "red ball", "the Milvus search with text finds the red ball: \(answers[2])")
        let tableHits = (answers[3]["results"] ?? answers[3]["hits"]) as? [[String: Any]] ?? []
        #expect(!tableHits.isEmpty, "the JSON API search answers: \(answers[3])")
    }
}
