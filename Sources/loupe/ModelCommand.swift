import ArgumentParser
import Foundation
import Loupe

struct ModelCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "model",
        abstract: "Download, list and remove CLIP models (Hugging Face hub cache layout).",
        subcommands: [Pull.self, List.self, Remove.self])

    struct Pull: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Download a CLIP model repository (resumable, checksum-verified).",
            discussion: "Honours HF_ENDPOINT (a mirror) and HF_TOKEN (gated or private models); the cache is "
                + "$HF_HUB_CACHE, $HF_HOME/hub or ~/.cache/huggingface/hub.")

        @Argument(help: "owner/name on the hub.")
        var repository = HubRepository.defaultCLIP.id

        @Option(help: "Branch, tag or commit.")
        var revision = "main"

        func run() async throws {
            try await reportingErrors {
                let repository = try HubRepository(self.repository)
                let downloader = ModelDownloader(cache: .standard())
                let bar = ProgressLine(enabled: isatty(STDERR_FILENO) != 0)
                let directory = try await downloader.pull(repository, revision: revision) { progress in
                    bar.update(progress)
                }
                bar.finish()
                print(directory.path)
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List cached models.")

        func run() async throws {
            let cache = ModelCache.standard()
            let entries = cache.entries()
            if entries.isEmpty {
                print("no models in \(cache.root.path); try `loupe model pull \(HubRepository.defaultCLIP.id)`")
            }
            for entry in entries {
                print("\(entry.repository.id)\t\(formatBytes(entry.byteCount))\t\(entry.snapshot.path)")
            }
        }
    }

    struct Remove: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "rm", abstract: "Remove a cached model.")

        @Argument(help: "owner/name of a cached model.")
        var repository: String

        func run() async throws {
            try await reportingErrors {
                let freed = try ModelCache.standard().remove(try HubRepository(repository))
                print("removed \(repository), freed \(formatBytes(freed))")
            }
        }
    }
}

/// One self-rewriting line on a terminal, or a line per finished file otherwise.
final class ProgressLine: @unchecked Sendable {
    private let enabled: Bool
    private let lock = NSLock()
    private var lastDraw = ContinuousClock.now
    private var start = ContinuousClock.now

    init(enabled: Bool) { self.enabled = enabled }

    func update(_ progress: DownloadProgress) {
        lock.withLock {
            let now = ContinuousClock.now
            if progress.fileBytes == progress.resumedBytes && !progress.finished { start = now }
            guard progress.finished || now - lastDraw > .milliseconds(100) else { return }
            lastDraw = now
            let counter = "[\(progress.fileIndex + 1)/\(progress.fileCount)] \(progress.file)"
            if !enabled {
                if progress.finished { FileHandle.standardError.write(Data("\(counter) \(formatBytes(progress.fileBytes))\n".utf8)) }
                return
            }
            var line = "\r\(counter) \(formatBytes(progress.fileBytes))"
            if let total = progress.fileTotalBytes, total > 0 {
                let fraction = Double(progress.fileBytes) / Double(total)
                let filled = Int(fraction * 24)
                line += " / \(formatBytes(total)) [\(String(repeating: "=", count: filled))\(String(repeating: " ", count: 24 - filled))]"
                let seconds = Double((now - start).components.seconds) + Double((now - start).components.attoseconds) * 1e-18
                if seconds > 0.5, !progress.finished {
                    let rate = Double(progress.fileBytes - progress.resumedBytes) / seconds
                    line += " \(formatBytes(Int64(rate)))/s"
                    if rate > 0 { line += " ETA \(Int(Double(total - progress.fileBytes) / rate))s" }
                }
            }
            FileHandle.standardError.write(Data((line + "\u{1B}[K" + (progress.finished ? "\n" : "")).utf8))
        }
    }

    func finish() {}
}

func formatBytes(_ bytes: Int64) -> String {
    let units = ["B", "KB", "MB", "GB", "TB"]
    var value = Double(bytes)
    var unit = 0
    while value >= 1000 && unit < units.count - 1 {
        value /= 1000
        unit += 1
    }
    return unit == 0 ? "\(bytes) B" : String(format: "%.1f %@", value, units[unit])
}
