import Foundation
import Logging
import Testing
@testable import LoupeServer

@Suite("Server logs")
struct LoggingTests {
    @Test("the log file rotates at its size limit and keeps the configured number of old files")
    func rotation() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("loupe-logs-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("loupe.log").path
        let file = try RotatingFileLog(path: path, maxBytes: 1000, keep: 2)
        var logger = Logger(label: "test") { label in RotatingFileLogHandler(label: label, file: file) }
        logger.logLevel = .info
        logger.debug("below the level")
        for index in 0..<100 {
            logger.info("line \(index)", metadata: ["request": "r\(index)"])
        }
        let names = try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted()
        #expect(names == ["loupe.log", "loupe.log.1", "loupe.log.2"])
        for name in names {
            let size = try FileManager.default.attributesOfItem(atPath: folder.appendingPathComponent(name).path)[.size] as? Int
            #expect((size ?? 0) <= 1000)
        }
        let current = try String(contentsOfFile: path, encoding: .utf8)
        #expect(current.contains("info test: line 99 request=r99"))
        #expect(!current.contains("below the level"))
        #expect(throws: ServerError.self) { try RotatingFileLog(path: path, maxBytes: 0, keep: 1) }
        #expect(throws: ServerError.self) { try RotatingFileLog(path: "/no/such/dir/x.log", maxBytes: 10, keep: 1) }
    }
}
