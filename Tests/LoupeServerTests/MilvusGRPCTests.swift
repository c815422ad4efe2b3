import Foundation
import Testing
@testable import LoupeServer

/// Milvus's gRPC protocol (`serve --milvus-port`): pymilvus 3.0.2's `MilvusClient`, run as written by the
/// two seed tutorials and by a broader script of every call it makes (`pymilvus/*.py`), against a real
/// server on loopback ports. Python comes from `.build/milvus-lite-venv` (`scripts/milvus-test-server venv
/// lite` makes it; `make test` runs that first). A script's failure fails the test with its output.
@Suite("Milvus gRPC", .stopsTestServers)
struct MilvusGRPCTests {
    static let token = "grpc-test-token"
    static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    static let scripts = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("pymilvus")
    static let python = packageRoot.appendingPathComponent(".build/milvus-lite-venv/bin/python")

    static func start() async throws -> TestServer {
        try await TestServer.start(index: false, perClass: 1, video: false) {
            $0.milvusPort = 0
            $0.token = token
        }
    }

    /// Runs a Python script (on a thread of its own, not the cooperative pool the server answers on) and
    /// returns its exit status and combined output; a script running past `timeout` seconds is killed.
    /// Output goes through a file, not a pipe, so that nothing but the script's own exit ends the wait.
    static func run(_ arguments: [String], timeout: Double = 300) async throws -> (status: Int32, output: String) {
        guard FileManager.default.isExecutableFile(atPath: python.path) else {
            throw ServerError.configuration("\(python.path) is missing: run scripts/milvus-test-server venv lite")
        }
        return try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global().async {
                let process = Process()
                process.executableURL = python
                process.arguments = arguments
                let log = FileManager.default.temporaryDirectory.appendingPathComponent("loupe-grpc-\(UUID().uuidString).log")
                defer { try? FileManager.default.removeItem(at: log) }
                do {
                    FileManager.default.createFile(atPath: log.path, contents: nil)
                    let handle = try FileHandle(forWritingTo: log)
                    defer { try? handle.close() }
                    process.standardOutput = handle
                    process.standardError = handle
                    try process.run()
                } catch {
                    continuation.resume(throwing: error)
                    return
                }
                DispatchQueue.global().asyncAfter(deadline: .now() + timeout) {
                    if process.isRunning { process.terminate() }
                }
                process.waitUntilExit()
                let output = (try? Data(contentsOf: log)) ?? Data()
                continuation.resume(returning: (process.terminationStatus, String(decoding: output, as: UTF8.self)))
            }
        }
    }

    static func runScript(_ name: String, _ server: TestServer, _ extra: [String] = []) async throws -> String {
        let uri = "http://127.0.0.1:\(server.milvusPort ?? 0)"
        let (status, output) = try await run([scripts.appendingPathComponent(name).path, uri, "root:\(token)"] + extra)
        #expect(status == 0, "\(name) exited with \(status):\n\(output)")
        return output
    }

    /// The JSON line a tutorial script prints last.
    static func report(_ output: String) -> [String: Any] {
        let line = output.split(separator: "\n").last.map(String.init) ?? ""
        return (try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: Any] ?? [:]
    }

    @Test("the CLIP text-to-image tutorial's Milvus code runs unchanged and finds its picture")
    func clipTutorial() async throws {
        let server = try await Self.start()
        let output = try await Self.runScript("tutorial_clip_text_to_image.py", server)
        let hits = Self.report(output)["hits"] as? [[String: Any]] ?? []
        #expect(hits.count == 3, "\(output)")
        #expect(hits.first?["filepath"] as? String == "./images/train/dog/0003.JPEG", "\(output)")
    }

    @Test("the Twelve Labs video tutorial's Milvus code runs unchanged, filters included")
    func twelveLabsTutorial() async throws {
        let server = try await Self.start()
        let output = try await Self.runScript("tutorial_twelvelabs_video.py", server)
        let report = Self.report(output)
        #expect((report["hits"] as? [[String: Any]])?.count == 5, "\(output)")
        #expect((report["filtered"] as? [[String: Any]])?.first?["id"] as? Int == 7, "\(output)")
    }

    @Test("every MilvusClient call answers, and errors raise the exceptions and codes pymilvus expects")
    func everyCall() async throws {
        let server = try await Self.start()
        let output = try await Self.runScript("broad_client.py", server,
                                              ["--server", "loupe", "--protected", server.library.configuration.collection])
        #expect(output.contains("Loupe's answers as expected"), "\(output)")
    }

    @Test("the broad script's answers match milvus-lite's field by field, but for the documented differences")
    func matchesMilvusLite() async throws {
        let server = try await Self.start()
        let output = try await Self.runScript("compare_with_lite.py", server)
        #expect(output.contains(", 0 not"), "\(output)")
    }

    @Test("the gRPC listener stops with the server")
    func stopsWithServer() async throws {
        let server = try await Self.start()
        let port = try #require(server.milvusPort)
        let probe = "import socket, sys; socket.create_connection(('127.0.0.1', int(sys.argv[1])), timeout=5).close()"
        let before = try await Self.run(["-c", probe, String(port)])
        #expect(before.status == 0, "the gRPC port did not accept a connection: \(before.output)")
        await server.stopServing()
        let after = try await Self.run(["-c", probe, String(port)])
        #expect(after.status != 0, "the gRPC port still accepts connections after the server stopped")
    }
}
