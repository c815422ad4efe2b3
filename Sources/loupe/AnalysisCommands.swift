import ArgumentParser
import Foundation
import Loupe

struct DedupCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "dedup", abstract: "List groups of near-duplicate files.")

    @Option(name: .long, help: "Cosine similarity at or above which two files are copies.")
    var threshold: Float = 0.95

    @OptionGroup var library: LibraryOptions

    func validate() throws {
        guard threshold >= -1 && threshold <= 1 else { throw ValidationError("--threshold \(threshold) must be a number within -1...1") }
    }

    func run() async throws {
        try await reportingErrors {
            let groups = try await library.withLibrary(.reader) { try await $0.duplicates(threshold: threshold) }
            if groups.isEmpty { print("no near-duplicates at threshold \(threshold)") }
            for (index, group) in groups.enumerated() {
                print("group \(index + 1) (\(group.count) files)")
                for item in group { print("  \(item.path)") }
            }
        }
    }
}

struct ClusterCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "cluster", abstract: "Group the library into k themes (k-means++).")

    @Option(name: .customShort("k"), help: "Number of clusters.")
    var count = 8

    @Option(name: .long, help: "Representative files shown per cluster.")
    var show = 5

    @OptionGroup var library: LibraryOptions

    func run() async throws {
        try await reportingErrors {
            let themes = try await library.withLibrary(.reader) { try await $0.clusters(count: count) }
            for (index, theme) in themes.enumerated() {
                print("cluster \(index + 1): \(theme.items.count) files")
                for (item, similarity) in zip(theme.items, theme.similarities).prefix(show) {
                    print(String(format: "  %.3f  ", similarity) + item.path)
                }
            }
        }
    }
}

struct OutliersCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "outliers", abstract: "The files least like the rest.")

    @Option(name: [.customShort("k"), .long], help: "How many to list.")
    var limit = 10

    @OptionGroup var library: LibraryOptions

    func run() async throws {
        try await reportingErrors {
            for (item, score) in try await library.withLibrary(.reader) { try await $0.outliers(count: limit) } {
                print(String(format: "%.3f  ", score) + item.path)
            }
        }
    }
}
