import ArgumentParser
import Foundation
import Loupe

struct IndexCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "index",
        abstract: "Index folders, files and URLs of images and videos.",
        discussion: """
            Unchanged files are skipped, moved or copied files are recognised by SHA-256, and rows of files \
            that disappeared from the given folders are removed. Ctrl-C stops after the current batch; \
            everything reported done is kept and the next run resumes.
            """)

    @Argument(help: "Folders, files or http(s) URLs.")
    var paths: [String]

    @OptionGroup var library: LibraryOptions

    @Option(name: .long, help: "Video segments: 'fixed' (every --segment-seconds) or 'scenes'.")
    var segments = "fixed"

    @Option(name: .long, help: "Length of fixed video segments, or the longest scene segment (Twelve Labs: a whole number, 2 to 10).")
    var segmentSeconds = 6.0

    @Option(name: .long, help: "Video frames sampled per second.")
    var fps = 1.0

    @Option(name: .long, help: "Seconds a keyframe may be from a sampling time to stand in for its frame (faster; fixed segments only).")
    var keyframeTolerance = 0.0

    @Option(name: .long, help: "Images per batch.")
    var batch = 32

    func validate() throws {
        guard ["fixed", "scenes"].contains(segments) else { throw ValidationError("--segments is 'fixed' or 'scenes'") }
        guard segmentSeconds > 0, fps > 0, batch >= 1 else { throw ValidationError("--segment-seconds, --fps and --batch must be positive") }
        guard segmentSeconds.isFinite, segmentSeconds <= 86_400 else { throw ValidationError("--segment-seconds \(segmentSeconds) must be at most 86400") }
        guard fps.isFinite, fps <= 1_000 else { throw ValidationError("--fps \(fps) must be at most 1000") }
        guard keyframeTolerance >= 0, keyframeTolerance <= 3_600 else { throw ValidationError("--keyframe-tolerance must be 0 to 3600 seconds") }
        guard keyframeTolerance == 0 || segments == "fixed" else {
            throw ValidationError("--keyframe-tolerance works with fixed segments; scene detection needs frames at their times")
        }
    }

    func run() async throws {
        try await reportingErrors {
            // Indexing embeds pictures and frames: the text tower is never read.
            let opened = try await library.open(.writer, towers: [.vision]) { configuration in
                configuration.batchSize = batch
                configuration.framesPerSecond = fps
                configuration.keyframeTolerance = keyframeTolerance
                configuration.segmentation = segments == "scenes" ? .scenes(maxSeconds: segmentSeconds) : .fixed(seconds: segmentSeconds)
                configuration.videosInFlight = library.embedConcurrency
            }
            let line = IngestProgressLine(terminal: isatty(STDERR_FILENO) != 0)
            let paths = self.paths
            let task = Task { try await opened.index(paths) { line.show($0) } }
            // Ctrl-C cancels the run at the next batch boundary instead of killing the process mid-write.
            signal(SIGINT, SIG_IGN)
            let interrupt = DispatchSource.makeSignalSource(signal: SIGINT, queue: .main)
            interrupt.setEventHandler {
                FileHandle.standardError.write(Data("\nstopping after the current batch...\n".utf8))
                task.cancel()
            }
            interrupt.resume()
            let report: IngestReport
            do {
                report = try await task.value
            } catch {
                try? await opened.close()
                throw error
            }
            interrupt.cancel()
            line.finish()
            // The graphs were built and saved when the run ended; this releases the lock.
            try await opened.close()
            let seconds = Double(report.elapsed.components.seconds) + Double(report.elapsed.components.attoseconds) * 1e-18
            print("""
                scanned \(report.scanned) files: \(report.added) new, \(report.updated) changed, \(report.unchanged) unchanged, \
                \(report.reused) reused by hash, \(report.removed) removed; \(report.embedded) pictures embedded, \
                \(report.moments) video moments, \(String(format: "%.1f", seconds)) s\(report.cancelled ? " (stopped early)" : "")
                """)
            if !report.failures.isEmpty {
                print("\(report.failures.count) file(s) could not be indexed:")
                for failure in report.failures { print("  \(failure.path): \(failure.message)") }
            }
        }
    }
}

/// The indexing progress bar (files/s, ETA) on a terminal, a line every 10% otherwise.
final class IngestProgressLine: @unchecked Sendable {
    private let terminal: Bool
    private let lock = NSLock()
    private var lastTenth = -1
    private var drawn = false

    init(terminal: Bool) { self.terminal = terminal }

    func show(_ progress: IngestProgress) {
        lock.withLock {
            let fraction = progress.filesTotal > 0 ? Double(progress.filesDone) / Double(progress.filesTotal) : 1
            let eta = progress.estimatedSecondsLeft.map { " ETA \(Int($0))s" } ?? ""
            let text = "\(progress.filesDone)/\(progress.filesTotal) files, \(progress.embedded) pictures embedded, "
                + String(format: "%.1f files/s", progress.rate) + eta + (progress.failed > 0 ? ", \(progress.failed) failed" : "")
                + Self.stage(progress)
            if terminal {
                let filled = Int(fraction * 30)
                let bar = String(repeating: "#", count: filled) + String(repeating: ".", count: 30 - filled)
                FileHandle.standardError.write(Data("\r[\(bar)] \(text)\u{1B}[K".utf8))
                drawn = true
            } else if Int(fraction * 10) > lastTenth {
                lastTenth = Int(fraction * 10)
                FileHandle.standardError.write(Data("index: \(text)\n".utf8))
            }
        }
    }

    /// Where a remote embedder stands with the current video ("; scenes.mp4: waiting"), or nothing.
    static func stage(_ progress: IngestProgress) -> String {
        guard let stage = progress.stage, let current = progress.current else { return "" }
        return "; \(URL(fileURLWithPath: current).lastPathComponent): \(stage)"
    }

    func finish() {
        lock.withLock { if drawn { FileHandle.standardError.write(Data("\n".utf8)) } }
    }
}
