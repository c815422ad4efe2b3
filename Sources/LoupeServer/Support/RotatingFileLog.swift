import Foundation
import Logging
import NIOConcurrencyHelpers

/// A log file that is renamed to `.1` (and older ones shifted up to `.keep`) once it reaches `maxBytes`.
public final class RotatingFileLog: Sendable {
    private struct State {
        var handle: FileHandle
        var size: Int
    }

    public let path: String
    private let maxBytes: Int
    private let keep: Int
    private let state: NIOLockedValueBox<State>

    public init(path: String, maxBytes: Int, keep: Int) throws {
        guard maxBytes > 0, keep >= 1 else {
            throw ServerError.configuration("log rotation needs a positive size and at least one old file")
        }
        self.path = path
        self.maxBytes = maxBytes
        self.keep = keep
        state = NIOLockedValueBox(try Self.open(path))
    }

    private static func open(_ path: String) throws -> State {
        let manager = FileManager.default
        if !manager.fileExists(atPath: path) {
            guard manager.createFile(atPath: path, contents: nil) else {
                throw ServerError.configuration("cannot create the log file \(path)")
            }
        }
        guard let handle = FileHandle(forWritingAtPath: path) else {
            throw ServerError.configuration("cannot open the log file \(path) for writing")
        }
        let size = Int(try handle.seekToEnd())
        return State(handle: handle, size: size)
    }

    func write(_ line: String) {
        let data = Data(line.utf8)
        state.withLockedValue { state in
            if state.size + data.count > maxBytes && state.size > 0 {
                try? state.handle.close()
                let manager = FileManager.default
                try? manager.removeItem(atPath: "\(path).\(keep)")
                for index in stride(from: keep - 1, through: 1, by: -1) {
                    try? manager.moveItem(atPath: "\(path).\(index)", toPath: "\(path).\(index + 1)")
                }
                try? manager.moveItem(atPath: path, toPath: "\(path).1")
                if let reopened = try? Self.open(path) { state = reopened }
            }
            state.handle.write(data)
            state.size += data.count
        }
    }
}

/// Writes log lines (`time level label: message key=value [request]`) to a `RotatingFileLog`.
public struct RotatingFileLogHandler: LogHandler {
    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level = .info
    private let label: String
    private let file: RotatingFileLog

    public init(label: String, file: RotatingFileLog) {
        self.label = label
        self.file = file
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var merged = self.metadata
        for (key, value) in event.metadata ?? [:] { merged[key] = value }
        let fields = merged.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
        let stamp = ISO8601DateFormatter().string(from: Date())
        file.write("\(stamp) \(event.level) \(label): \(event.message)\(fields.isEmpty ? "" : " " + fields)\n")
    }
}
