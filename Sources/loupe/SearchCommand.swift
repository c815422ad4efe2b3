import ArgumentParser
import Foundation
import Loupe
import LoupeCLIP

struct SearchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "search",
        abstract: "Search the library by text, by example image, or both, with query arithmetic.",
        discussion: """
            Terms take an optional weight: --add 2:sunset --subtract 0.5:people. A term that is an existing \
            file or an http(s) URL is an image (or, with @START-END seconds after a video path, a video clip); \
            anything else is text. Video results are moments, grouped by video, best moment first \
            (--moments N shows up to N moments of one video). --autocut N ends the results at the N-th score \
            cliff (never below \(Autocut.minimumKept) results); --json gives each result's relevance group either way.
            """)

    @Argument(help: "The text to search for.")
    var text: String?

    @Option(name: [.customShort("k"), .long], help: "How many results.")
    var limit = 10

    @Option(name: .long, help: "Skip this many results first (the next page).")
    var offset = 0

    @Option(name: .long, help: "Moments of one video that may appear (1: each video once, at its best moment).")
    var moments = 1

    @Option(name: .long, help: "An example image (file or URL).")
    var image: String?

    @Option(name: .long, help: "A term to move toward (WEIGHT:TERM).")
    var add: [String] = []

    @Option(name: .long, help: "A term to move away from (WEIGHT:TERM).")
    var subtract: [String] = []

    @Option(name: .long, help: "A filter expression in Milvus syntax, e.g. 'width >= 1000'.")
    var filter = ""

    @Option(name: .long, help: "Only 'image' or 'video' results.")
    var type: String?

    @Option(name: .long, help: "Only files under this folder.")
    var folder: String?

    @Option(name: .long, help: "Only files modified at or after this date (2024-05-01, ISO 8601 or Unix seconds).")
    var after: String?

    @Option(name: .long, help: "Only files modified before this date.")
    var before: String?

    @Option(name: .long, help: "Drop results below this score.")
    var minScore: Float?

    @Option(name: .long, help: ArgumentHelp(
        "Drop results whose match probability is below P (0 < P < 1).",
        discussion: "For a search by one text with a SigLIP model, whose scores are calibrated probabilities."))
    var minProbability: Float?

    @Option(name: .long, help: "End the results at the N-th score cliff (0: off; at least \(Autocut.minimumKept) results are kept).")
    var autocut = 0

    @Flag(name: .long, help: "Print JSON (see README for the shape).")
    var json = false

    @Option(name: .long, help: "Write a contact sheet PNG of the results.")
    var grid: String?

    @OptionGroup var library: LibraryOptions

    func validate() throws {
        if text == nil && image == nil && add.isEmpty { throw ValidationError("give a text, --image or --add") }
        if let type, MediaKind(rawValue: type) == nil { throw ValidationError("--type is 'image' or 'video'") }
        if limit < 1 { throw ValidationError("-k must be at least 1") }
        if offset < 0 || limit > MediaLibrary.maxSearchDepth || offset > MediaLibrary.maxSearchDepth - limit {
            throw ValidationError("--offset must not be negative, and -k plus --offset at most \(MediaLibrary.maxSearchDepth)")
        }
        if let minScore, !(minScore >= -1 && minScore <= 1) {
            throw ValidationError("--min-score \(minScore) must be a number within -1...1")
        }
        if !(1...MediaLibrary.maxMomentsPerVideo).contains(moments) {
            throw ValidationError("--moments must be within 1...\(MediaLibrary.maxMomentsPerVideo)")
        }
        if let minScore, !minScore.isFinite { throw ValidationError("--min-score must be a finite number") }
        if let minProbability, !(minProbability > 0 && minProbability < 1) {
            throw ValidationError("--min-probability \(minProbability) must be a number strictly between 0 and 1")
        }
        if !(0...Autocut.maximum).contains(autocut) {
            throw ValidationError("--autocut \(autocut) must be within 0...\(Autocut.maximum) (0 keeps every result)")
        }
        for (name, value) in [("--after", after), ("--before", before)] {
            if let value, MediaFilter.date(value) == nil {
                throw ValidationError("\(name) '\(value)' is not a date (use 2024-05-01, ISO 8601 or Unix seconds)")
            }
        }
    }

    func run() async throws {
        try await reportingErrors {
            var terms: [(weight: Float, input: SearchInput)] = []
            if let text { terms.append((1, .text(text))) }
            if let image { terms.append((1, try SearchInput.parse(image, image: true))) }
            for term in add {
                let parsed = try WeightedTerm(parsing: term)
                terms.append((parsed.weight, try SearchInput.parse(parsed.term)))
            }
            for term in subtract {
                let parsed = try WeightedTerm(parsing: term)
                terms.append((-parsed.weight, try SearchInput.parse(parsed.term)))
            }
            var request = SearchRequest(terms: terms, limit: limit)
            request.filter = MediaFilter(kind: type.flatMap(MediaKind.init(rawValue:)), folder: folder,
                                         after: after.flatMap(MediaFilter.date), before: before.flatMap(MediaFilter.date),
                                         expression: filter)
            request.minScore = minScore
            request.minProbability = minProbability
            request.offset = offset
            request.momentsPerVideo = moments
            request.autocut = autocut
            let clock = ContinuousClock()
            let started = clock.now
            let library = self.library
            let opened: MediaLibrary, opening: LibraryOptions.OpenTimings
            // Only the towers the terms need are loaded: a text search never reads the vision weights.
            let towers = Set(terms.compactMap { Self.tower(for: $0.1) })
            if library.milvusURI == nil {
                // The model loads while the store opens.
                (opened, opening) = try await library.openLoadingModel(.reader, configuration: library.configuration(),
                                                                       towers: towers)
            } else {
                // On Milvus (and with a remote embedder) `open` loads or connects the embedder itself.
                opened = try await library.open(.reader, towers: towers)
                opening = .init(modelLoad: .zero, open: started.duration(to: clock.now))
            }
            try await opened.closing { opened in
                let response = try await opened.search(request)
                let results = response.results
                if json {
                    let timings = SearchJSON.Timings(modelLoad: opening.modelLoad, open: opening.open, search: response.timings,
                                                     total: started.duration(to: clock.now))
                    print(SearchJSON.render(results, firstRank: offset + 1, timings: timings))
                } else if results.isEmpty {
                    print("no results")
                } else {
                    for (rank, result) in results.enumerated() {
                        print(SearchCommand.describe(result, rank: offset + rank + 1))
                    }
                }
                if response.cutByAutocut > 0 {
                    FileHandle.standardError.write(Data("\(response.cutByAutocut) more below the score cliff (--autocut 0 shows them)\n".utf8))
                }
                if let grid {
                    try Data(try opened.contactSheet(results)).write(to: URL(fileURLWithPath: grid))
                    FileHandle.standardError.write(Data("wrote \(grid)\n".utf8))
                }
            }
        }
    }

    /// The model tower a term is embedded with; nil for terms that are vectors already.
    static func tower(for input: SearchInput) -> CLIPModel.Tower? {
        switch input {
        case .text: .text
        case .imageFile, .imageURL, .imageData, .videoClip, .itemClip: .vision
        case .item, .vector: nil
        }
    }

    static func describe(_ result: SearchResult, rank: Int) -> String {
        let item = result.item
        var line = String(format: "%2d  %.4f  ", rank, result.score)
        if let probability = result.probability { line += String(format: "p=%.3f  ", probability) }
        line += item.path
        if item.kind == .video, let start = item.start, let end = item.end {
            line += String(format: "  [%@ - %@]", clock(start), clock(end))
        }
        return line
    }

    static func clock(_ seconds: Double) -> String {
        // Times come from stored rows, which a Milvus client may have written: never trap on them.
        guard seconds.isFinite, abs(seconds) < 1e12 else { return "\(seconds)" }
        let total = Int(seconds.rounded(.down))
        return String(format: "%d:%02d.%d", total / 60, total % 60, Int((seconds - Double(total)) * 10))
    }
}

/// The stable JSON of `loupe search --json`:
/// `{"results": [{"rank", "score", "relevance", "id", "path", "name", "kind", "scope", "start_s", "end_s", "thumb_s",
/// "width", "height", "duration_s", "metadata": {...}}], "timings_ms": {"model_load", "open", "embed",
/// "search", "total"}}` with nulls where a value does not apply. `score` is the raw cosine; `relevance` is the
/// result's autocut group (0 before the first score cliff, see `Autocut`); `probability` (after `score`, only
/// when the search has one: one text, a SigLIP model) is the calibrated match probability.
enum SearchJSON {
    /// Where a search command's time went.
    struct Timings {
        var modelLoad: Duration
        var open: Duration
        var search: SearchTimings
        var total: Duration

        var json: String {
            func ms(_ d: Duration) -> String { String(format: "%.2f", Double(d.components.seconds) * 1e3 + Double(d.components.attoseconds) * 1e-15) }
            return "{\"model_load\": \(ms(modelLoad)), \"open\": \(ms(open)), \"embed\": \(ms(search.embedding)), "
                + "\"search\": \(ms(search.search)), \"total\": \(ms(total))}"
        }
    }

    static func render(_ results: [SearchResult], firstRank: Int = 1, timings: Timings? = nil) -> String {
        let entries = results.enumerated().map { rank, result -> String in
            let item = result.item
            func number(_ value: Double?) -> String { value.map { "\($0)" } ?? "null" }
            func integer(_ value: Int?) -> String { value.map { "\($0)" } ?? "null" }
            let metadata = item.metadata.keys.sorted().map { "\(EmbeddingJSON.quote($0)): \(EmbeddingJSON.quote(item.metadata[$0]!))" }
            let probability = result.probability.map { ", \"probability\": \($0)" } ?? ""
            return "{\"rank\": \(firstRank + rank), \"score\": \(result.score)\(probability), \"relevance\": \(result.relevance), \"id\": \(item.id), \"path\": \(EmbeddingJSON.quote(item.path)), "
                + "\"name\": \(EmbeddingJSON.quote(item.name)), \"kind\": \"\(item.kind.rawValue)\", \"scope\": \"\(item.scope.rawValue)\", "
                + "\"start_s\": \(number(item.start)), \"end_s\": \(number(item.end)), \"thumb_s\": \(number(item.thumbnailTime)), "
                + "\"width\": \(integer(item.width)), \"height\": \(integer(item.height)), \"duration_s\": \(number(item.duration)), "
                + "\"metadata\": {\(metadata.joined(separator: ", "))}}"
        }
        return "{\"results\": [\(entries.joined(separator: ", "))]" + (timings.map { ", \"timings_ms\": \($0.json)" } ?? "") + "}"
    }
}
