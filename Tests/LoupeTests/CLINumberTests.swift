import Foundation
import Testing
@testable import Loupe

/// The CLI refuses non-finite and out-of-range numbers and a missing library with a message, never a trap
/// or a silently empty answer (issue 19, rows 1 and 12).
@Suite struct CLINumberTests {
    /// Runs `loupe` with `arguments`; returns the exit status and stderr.
    func run(_ arguments: [String]) throws -> (status: Int32, reason: Process.TerminationReason, errors: String) {
        let process = Process()
        process.executableURL = try loupeExecutable()
        process.arguments = arguments
        let errors = Pipe()
        process.standardError = errors
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        let text = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, process.terminationReason, String(decoding: text, as: UTF8.self))
    }

    @Test func readOnlyCommandsRefuseAMissingLibrary() throws {
        let missing = FileManager.default.temporaryDirectory.appendingPathComponent("loupe-missing-\(UUID().uuidString)")
        let model = ShapesLibrary.modelDirectory.path
        for command in [["search", "red"], ["dedup"], ["outliers"]] {
            let answer = try run(command + ["--data", missing.path, "--model", model])
            #expect(answer.reason == .exit && answer.status != 0, "\(command)")
            #expect(answer.errors.contains("no library"), "\(command): \(answer.errors)")
        }
        #expect(!FileManager.default.fileExists(atPath: missing.path), "a read-only command created a database")
    }

    @Test("--tls-cert without --tls-key is refused before any library is opened")
    func halfATLSPairIsRefused() throws {
        let missing = FileManager.default.temporaryDirectory.appendingPathComponent("loupe-tls-\(UUID().uuidString)")
        let answer = try run(["serve", "--tls-cert", "server.pem", "--data", missing.path,
                              "--model", ShapesLibrary.modelDirectory.path, "--port", "0"])
        #expect(answer.reason == .exit && answer.status != 0)
        #expect(answer.errors.contains("--tls-key"), "\(answer.errors)")
        #expect(!FileManager.default.fileExists(atPath: missing.path), "serve created a library before refusing")
    }

    @Test func nonFiniteNumbersAreRefused() throws {
        let video = FileManager.default.temporaryDirectory.appendingPathComponent("loupe-cli-\(UUID().uuidString).mp4")
        try Data("not really a video".utf8).write(to: video)
        defer { try? FileManager.default.removeItem(at: video) }
        let cases: [([String], String)] = [
            (["search", "red", "--min-score", "nan"], "--min-score"), (["search", "red", "--min-score", "2"], "--min-score"),
            (["search", "--add", "inf:blue"], "not a finite positive weight"), (["search", "--add", "nan:blue"], "not a finite positive weight"),
            (["search", "--add", "1:\(video.path)@1e300-1e301"], "1e9"), (["search", "--add", "1:\(video.path)@5-inf"], "1e9"),
            (["dedup", "--threshold", "nan"], "--threshold"), (["index", "/nonexistent", "--fps", "inf"], "--fps"),
            (["index", "/nonexistent", "--segment-seconds", "inf"], "--segment-seconds"),
            (["search", "red", "--autocut=-1"], "--autocut -1"), (["search", "red", "--autocut", "64"], "--autocut 64"),
            (["search", "red", "--autocut", "99999999999999999999"], "--autocut"),
        ]
        for (arguments, expected) in cases {
            let answer = try run(arguments)
            #expect(answer.reason == .exit, "\(arguments) died by a signal")
            #expect(answer.status != 0, "\(arguments) was accepted")
            #expect(answer.errors.contains(expected), "\(arguments): \(answer.errors)")
        }
    }

    @Test func weightsThatSwiftReadsAsNumbersAreRefused() {
        for text in ["inf:blue", "NaN:blue", "infinity:x"] {
            #expect(throws: LoupeError.self) { _ = try WeightedTerm(parsing: text) }
        }
        #expect((try? WeightedTerm(parsing: "note: a cat"))?.term == "note: a cat")
    }
}
