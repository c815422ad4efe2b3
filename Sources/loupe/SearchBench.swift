import ArgumentParser
import Foundation
import Loupe

/// Text searches against an indexed library, in one process, on either store: where a query's time goes.
struct SearchBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "search",
        abstract: "Time text searches on an indexed library (embedded, or on Milvus with --milvus).",
        discussion: """
            Opens the library as a reader and runs --queries searches one after another, cycling through the \
            18 colour-shape queries of the demo library ("a red circle", ...), after one warm-up round. Prints \
            searches/s and the p50 and p99 of the whole search, of embedding the text, and of the store's part \
            (the vector search and loading the results), in milliseconds.
            """)

    @OptionGroup var library: LibraryOptions

    @Option(name: .long, help: "Searches to time.")
    var queries = 1000

    @Option(name: .short, help: "Results per search.")
    var k = 24

    func validate() throws {
        if queries < 1 { throw ValidationError("--queries must be at least 1") }
        if !(1...MediaLibrary.maxSearchDepth).contains(k) { throw ValidationError("-k must be within 1...\(MediaLibrary.maxSearchDepth)") }
    }

    static let texts: [String] = ["red", "green", "blue", "yellow", "purple", "orange"].flatMap { colour in
        ["circle", "square", "triangle"].map { "a \(colour) \($0)" }
    }

    func run() async throws {
        try await reportingErrors {
            let embedder = try library.embedder()
            try await library.withLibrary(.reader, embedder: embedder, mustExist: true) { opened in
                for text in Self.texts { _ = try await opened.search(SearchRequest(terms: [(1, .text(text))], limit: k)) }
                var whole: [Double] = [], embedding: [Double] = [], storePart: [Double] = []
                var results = 0
                let clock = ContinuousClock()
                let started = clock.now
                for i in 0..<queries {
                    let response = try await opened.search(SearchRequest(terms: [(1, .text(Self.texts[i % Self.texts.count]))], limit: k))
                    whole.append(response.timings.total.seconds * 1e3)
                    embedding.append(response.timings.embedding.seconds * 1e3)
                    storePart.append(response.timings.search.seconds * 1e3)
                    results += response.results.count
                }
                let elapsed = started.duration(to: clock.now).seconds
                func percentiles(_ values: [Double]) -> String {
                    let sorted = values.sorted()
                    func at(_ p: Double) -> Double { sorted[min(sorted.count - 1, Int((p * Double(sorted.count)).rounded(.up)) - 1)] }
                    return String(format: "p50=%.2f p99=%.2f", at(0.5), at(0.99))
                }
                let store = library.milvusURI == nil ? "embedded" : "milvus"
                print("store=\(store) " + String(format: "searches=%d searches_per_s=%.1f mean_results=%.1f",
                                                  queries, Double(queries) / elapsed, Double(results) / Double(queries)))
                print("total_ms \(percentiles(whole))")
                print("embed_ms \(percentiles(embedding))")
                print("store_ms \(percentiles(storePart))")
            }
        }
    }
}
