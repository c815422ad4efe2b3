import Foundation
import LoupeFixtures
import LoupeMedia
import LoupeTensor
import Testing
@testable import Loupe

/// A shapes library indexed once with the trained shapes model and shared by the tests below; one per
/// precision the end-to-end tests run in.
actor ShapesLibrary {
    static let shared = ShapesLibrary(precision: .fp32)
    static let int8 = ShapesLibrary(precision: .int8)
    /// The precisions the end-to-end tests run in: fp32, and int8 where the CPU has VNNI.
    static let precisions: [Precision] = Precision.int8.isSupported ? [.fp32, .int8] : [.fp32]
    static func library(_ precision: Precision) -> ShapesLibrary { precision == .int8 ? int8 : shared }

    let precision: Precision
    init(precision: Precision) { self.precision = precision }

    static let modelDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/models/shapes-clip")

    private var opened: (MediaLibrary, [DemoLibrary.Picture], URL, IngestReport)?

    func get() async throws -> (library: MediaLibrary, pictures: [DemoLibrary.Picture], folder: URL, report: IngestReport) {
        if let opened { return opened }
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("loupe-e2e-\(UUID().uuidString)")
        let folder = root.appendingPathComponent("media")
        let pictures = try DemoLibrary.generate(into: folder, perClass: 3)
        let embedder = try CLIPEmbedder(directory: Self.modelDirectory, precision: precision)
        var configuration = MediaLibrary.Configuration()
        configuration.segmentation = .scenes(maxSeconds: 10)
        let library = try await MediaLibrary.open(at: root.appendingPathComponent("data"), embedder: embedder,
                                                  configuration: configuration)
        let report = try await library.index([folder.path])
        opened = (library, pictures, folder, report)
        return opened!
    }
}

@Suite("End to end with the shapes model", .serialized)
struct LibraryEndToEndTests {
    @Test("indexing finds every picture and the video, with moments", arguments: ShapesLibrary.precisions)
    func indexesEverything(precision: Precision) async throws {
        let (library, pictures, _, report) = try await ShapesLibrary.library(precision).get()
        #expect(report.failures.isEmpty, "\(report.failures)")
        #expect(report.added == pictures.count + 1)
        // Scene detection cuts the video at 4 s and 8 s.
        #expect(report.moments == 3)
        let counts = try await library.counts()
        #expect(counts.images == pictures.count && counts.videos == 1 && counts.moments == 3)
    }

    @Test("text queries for each colour and shape put matching pictures on top (precision@5 >= 0.8)", arguments: ShapesLibrary.precisions)
    func textPrecision(precision: Precision) async throws {
        let (library, pictures, _, _) = try await ShapesLibrary.library(precision).get()
        let truth = Dictionary(uniqueKeysWithValues: pictures.map { ($0.url.path, ($0.colour, $0.shape)) })
        var precisions: [Double] = []
        for colour in ShapeColour.allCases {
            for shape in ShapeKind.allCases {
                var request = SearchRequest(.text("a \(colour.rawValue) \(shape.rawValue)"), limit: 5)
                request.filter.kind = .image
                let results = try await library.search(request).results
                let hits = results.filter { truth[$0.item.path].map { $0 == (colour, shape) } ?? false }.count
                // Only three pictures per class exist, so precision counts against min(5, 3).
                precisions.append(Double(hits) / 3)
            }
        }
        let mean = precisions.reduce(0, +) / Double(precisions.count)
        #expect(mean >= 0.8, "\(precision): mean precision \(mean): \(precisions)")
    }

    @Test("int8 and fp32 agree on the shapes library: each colour-shape query's top 10 shares >= 9 items on average",
          .enabled(if: Precision.int8.isSupported, "int8 needs VNNI"))
    func int8TopTenOverlap() async throws {
        let fp32 = try await ShapesLibrary.shared.get().library
        let int8 = try await ShapesLibrary.int8.get().library
        var overlaps: [Int] = []
        for colour in ShapeColour.allCases {
            for shape in ShapeKind.allCases {
                let request = SearchRequest(.text("a \(colour.rawValue) \(shape.rawValue)"), limit: 10)
                // Items are matched by file name and moment: the two libraries index the same files in two
                // temporary folders.
                func keys(_ response: SearchResponse) -> Set<String> {
                    Set(response.results.map { "\(URL(fileURLWithPath: $0.item.path).lastPathComponent)|\($0.item.start ?? -1)" })
                }
                let a = keys(try await fp32.search(request))
                let b = keys(try await int8.search(request))
                overlaps.append(a.intersection(b).count)
            }
        }
        let mean = Double(overlaps.reduce(0, +)) / Double(overlaps.count)
        print("int8 vs fp32 top-10 overlap on \(overlaps.count) shapes queries: mean \(mean), each \(overlaps)")
        #expect(overlaps.count == 18)
        #expect(mean >= 9, "mean overlap \(mean) of 10: \(overlaps)")
    }

    @Test("searching by a new example picture finds the same shape and colour", arguments: ShapesLibrary.precisions)
    func imageToImage(precision: Precision) async throws {
        let (library, pictures, folder, _) = try await ShapesLibrary.library(precision).get()
        let queries = folder.deletingLastPathComponent().appendingPathComponent("queries")
        try FileManager.default.createDirectory(at: queries, withIntermediateDirectories: true)
        var agree = 0
        var misses: [String] = []
        for colour in ShapeColour.allCases {
            for shape in ShapeKind.allCases {
                // A picture the library does not contain: another size, position and background.
                let pixels = ShapePainter(width: 180, height: 140).paint(shape, colour, x: 0.55, y: 0.45, scale: 0.5,
                                                                          background: (210, 225, 200))
                let url = queries.appendingPathComponent("\(colour)-\(shape).png")
                try ImageEncoder.encode(pixels: pixels, width: 180, height: 140, as: .png).write(to: url)
                var request = SearchRequest(.imageFile(url), limit: 1)
                request.filter.kind = .image
                let top = try await library.search(request).results.first
                let match = pictures.first { $0.url.path == top?.item.path }
                if match?.shape == shape && match?.colour == colour { agree += 1 } else { misses.append("\(colour) \(shape)") }
            }
        }
        #expect(agree >= 15, "\(precision): only \(agree) of 18 example searches found their class; missed \(misses)")
    }

    @Test("'a blue square' finds the 4-8 s moment of the video", arguments: ShapesLibrary.precisions)
    func videoMoment(precision: Precision) async throws {
        let (library, _, _, _) = try await ShapesLibrary.library(precision).get()
        var request = SearchRequest(.text("a blue square"), limit: 1)
        request.filter.kind = .video
        let moment = try #require(try await library.search(request).results.first)
        #expect(moment.item.scope == .clip)
        let start = try #require(moment.item.start), end = try #require(moment.item.end)
        #expect(start < 8 && end > 4, "moment \(start)-\(end) s does not overlap 4-8 s")
        // With scene segmentation the moment is the blue-square scene itself.
        #expect(abs(start - 4) <= 1 && abs(end - 8) <= 1, "moment \(start)-\(end) s is not the 4-8 s scene")
    }

    @Test("every moment of a video on request, and pages that continue the ranking")
    func momentsAndPages() async throws {
        let (library, _, _, _) = try await ShapesLibrary.shared.get()
        var request = SearchRequest(.text("a blue square"), limit: 10)
        request.filter.kind = .video
        #expect(try await library.search(request).results.count == 1, "one result per video by default")
        request.momentsPerVideo = 5
        let moments = try await library.search(request).results
        #expect(moments.count == 3, "the video's three scenes: \(moments.map { ($0.item.start, $0.item.end) })")
        #expect(Set(moments.map(\.item.id)).count == 3 && moments.allSatisfy { $0.item.scope == .clip })
        #expect(zip(moments, moments.dropFirst()).allSatisfy { $0.score >= $1.score })
        request.momentsPerVideo = 2
        #expect(try await library.search(request).results.count == 2)

        // Page by page, the ranking is the same as one long list.
        var whole = SearchRequest(.text("a green triangle"), limit: 20)
        whole.momentsPerVideo = 3
        let all = try await library.search(whole).results.map(\.item.id)
        var paged: [Int64] = []
        for offset in stride(from: 0, to: 20, by: 7) {
            var page = whole
            page.offset = offset
            page.limit = min(7, 20 - offset)
            paged += try await library.search(page).results.map(\.item.id)
        }
        #expect(paged == all)
        whole.momentsPerVideo = 0
        await #expect(throws: LoupeError.self) { try await library.search(whole).results }
    }

    @Test("a stretch of the video as the query finds pictures of what it shows")
    func videoClipQuery() async throws {
        let (library, pictures, folder, _) = try await ShapesLibrary.shared.get()
        var request = SearchRequest(.videoClip(folder.appendingPathComponent("scenes.mp4"), start: 4.5, end: 7.5), limit: 3)
        request.filter.kind = .image
        let results = try await library.search(request).results
        let classes = results.compactMap { result in pictures.first { $0.url.path == result.item.path } }
        #expect(classes.filter { $0.colour == .blue && $0.shape == .square }.count >= 2, "\(classes.map { "\($0.colour) \($0.shape)" })")
    }

    @Test("a contact sheet of results decodes back as a PNG of the grid's size")
    func contactSheet() async throws {
        let (library, _, _, _) = try await ShapesLibrary.shared.get()
        let results = try await library.search(.text("a green triangle"), limit: 5).results
        let png = Data(try library.contactSheet(results, columns: 4, cellSize: 120))
        let decoded = try ImageDecoder().decode(png, path: "sheet.png")
        let expected = ContactSheet(columns: 4, cellSize: 120).size(for: results.count)
        #expect(decoded.width == expected.width && decoded.height == expected.height)
    }

    @Test("query arithmetic: 'a red circle' - red + blue moves to blue circles", arguments: ShapesLibrary.precisions)
    func arithmetic(precision: Precision) async throws {
        let (library, pictures, _, _) = try await ShapesLibrary.library(precision).get()
        var request = SearchRequest(terms: [(1, .text("a red circle")), (-1, .text("red")), (1, .text("blue"))], limit: 3)
        request.filter.kind = .image
        let results = try await library.search(request).results
        let classes = results.compactMap { result in pictures.first { $0.url.path == result.item.path } }
        #expect(classes.filter { $0.colour == .blue && $0.shape == .circle }.count >= 2, "\(classes.map { "\($0.colour) \($0.shape)" })")
    }

    @Test("autocut 1 keeps each colour-shape query's class from the top 10 and drops at least 80% of the rest")
    func autocutKeepsTheClass() async throws {
        let (library, pictures, _, _) = try await ShapesLibrary.shared.get()
        let truth = Dictionary(uniqueKeysWithValues: pictures.map { ($0.url.path, ($0.colour, $0.shape)) })
        func shows(_ result: SearchResult, _ colour: ShapeColour, _ shape: ShapeKind) -> Bool {
            if result.item.scope == .clip, let start = result.item.start, let end = result.item.end {
                // A moment shows the scene it mostly covers.
                let middle = (start + end) / 2
                return DemoLibrary.videoScenes.contains { middle >= $0.0 && middle < $0.1 && $0.2 == shape && $0.3 == colour }
            }
            return truth[result.item.path].map { $0 == (colour, shape) } ?? false
        }
        var figures: [String] = []
        for colour in ShapeColour.allCases {
            for shape in ShapeKind.allCases {
                // Pictures and video moments in one ranking, as the page shows them.
                var request = SearchRequest(.text("a \(colour.rawValue) \(shape.rawValue)"), limit: 100)
                let all = try await library.search(request).results
                request.autocut = 1
                let response = try await library.search(request)
                let kept = Set(response.results.map(\.item.id))
                #expect(response.results.map(\.item.id) == Array(all.prefix(kept.count)).map(\.item.id), "autocut keeps a prefix")
                #expect(response.cutByAutocut == all.count - kept.count)
                let matchingTop = all.prefix(10).filter { shows($0, colour, shape) }
                let others = all.filter { !shows($0, colour, shape) }
                let keptMatching = matchingTop.filter { kept.contains($0.item.id) }.count
                let droppedOthers = others.filter { !kept.contains($0.item.id) }.count
                let topOthers = all.prefix(10).filter { !shows($0, colour, shape) }
                let droppedTopOthers = topOthers.filter { !kept.contains($0.item.id) }.count
                figures.append("\(colour.rawValue) \(shape.rawValue): kept \(keptMatching)/\(matchingTop.count) matching of the top 10, "
                               + "dropped \(droppedOthers)/\(others.count) others (\(droppedTopOthers)/\(topOthers.count) of the top 10's), "
                               + "\(kept.count) kept")
                #expect(keptMatching == matchingTop.count, "\(figures.last!): scores \(all.prefix(10).map(\.score))")
                #expect(Double(droppedOthers) >= 0.8 * Double(others.count), "\(figures.last!): scores \(all.prefix(10).map(\.score))")
            }
        }
        print("autocut 1 on the shapes library:\n" + figures.joined(separator: "\n"))
    }

    @Test("re-indexing an unchanged folder embeds nothing")
    func reindexUnchanged() async throws {
        let (library, pictures, folder, _) = try await ShapesLibrary.shared.get()
        let report = try await library.index([folder.path])
        #expect(report.embedded == 0 && report.unchanged == pictures.count + 1 && report.added == 0)
    }
}

@Suite("Ingest bookkeeping with the shapes model", .serialized)
struct IngestBookkeepingTests {
    func openLibrary(_ root: URL) async throws -> MediaLibrary {
        try await MediaLibrary.open(at: root.appendingPathComponent("data"),
                                    embedder: try CLIPEmbedder(directory: ShapesLibrary.modelDirectory))
    }

    @Test("items page through the library with a total, and a removed file leaves with all its rows")
    func pagesAndRemoval() async throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("loupe-remove-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: root) }
        let folder = root.appendingPathComponent("media")
        let pictures = try DemoLibrary.generate(into: folder, perClass: 1, video: true)
        let library = try await openLibrary(root)
        _ = try await library.index([folder.path])
        let listed = "scope in [\"image\", \"video\"]"
        #expect(try await library.count(filter: listed) == pictures.count + 1)
        let all = try await library.items(filter: listed)
        let pages = try await library.items(filter: listed, limit: 5, offset: 0) + library.items(filter: listed, limit: 50, offset: 5)
        #expect(pages.map(\.id) == all.map(\.id))

        let video = try #require(all.first { $0.kind == .video })
        let rows = try await library.count(filter: "path == \"\(video.path)\"")
        #expect(rows >= 2, "the video and its moments")
        #expect(try await library.remove(path: video.path) == rows)
        #expect(try await library.count(filter: "kind == \"video\"") == 0)
        #expect(FileManager.default.fileExists(atPath: video.path), "the file itself stays")
        #expect(try await library.remove(path: video.path) == 0)
        // Indexing the folder again brings it back.
        let again = try await library.index([folder.path])
        #expect(again.added == 1)
        #expect(try await library.count(filter: "path == \"\(video.path)\"") == rows)
    }

    @Test("a large indexed photo as the query decodes like it did when indexed: it finds itself at score 1")
    func queryDecodesLikeIndexing() async throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("loupe-query-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: root) }
        let folder = root.appendingPathComponent("media")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        // 1200 x 960: large enough for a reduced-size JPEG decode (short side >= 2 x 224).
        let (width, height) = (1200, 960)
        var pixels = [UInt8](repeating: 0, count: width * height * 3)
        for y in 0..<height {
            for x in 0..<width {
                let i = (y * width + x) * 3
                let inside = (x - 600) * (x - 600) + (y - 480) * (y - 480) < 300 * 300
                pixels[i] = inside ? 220 : UInt8(x * 255 / width)
                pixels[i + 1] = inside ? 30 : UInt8(y * 255 / height)
                pixels[i + 2] = UInt8((x ^ y) & 0x3F)
            }
        }
        let url = folder.appendingPathComponent("large.jpg")
        try ImageEncoder.encode(pixels: pixels, width: width, height: height, as: .jpeg(quality: 90)).write(to: url)
        let library = try await openLibrary(root)
        _ = try await library.index([folder.path])
        let top = try #require(try await library.search(.imageFile(url), limit: 1).results.first)
        #expect(top.item.path == url.path)
        #expect(top.score >= 0.99999, "score \(top.score)")
    }

    @Test("indexing and searches by picture decode within the library's memory budget, one picture at a time when it is tiny")
    func decodesWithinTheBudget() async throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("loupe-budget-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: root) }
        let folder = root.appendingPathComponent("media")
        let pictures = try DemoLibrary.generate(into: folder, perClass: 1, video: false)
        // A budget of one byte admits one decode at a time: the peak is then a single picture's cost.
        let budget = DecodeBudget(capacity: 1)
        var configuration = MediaLibrary.Configuration()
        configuration.decodeBudget = budget
        let library = try await MediaLibrary.open(at: root.appendingPathComponent("data"),
                                                  embedder: try CLIPEmbedder(directory: ShapesLibrary.modelDirectory),
                                                  configuration: configuration)
        let report = try await library.index([folder.path])
        #expect(report.added == pictures.count)
        let costs = try pictures.map { ImageDecoder.decodingCost(of: try Data(contentsOf: $0.url)) }
        #expect(budget.reservationsGranted == pictures.count, "every indexed picture decoded within the budget")
        #expect(budget.peakReserved == costs.max(), "one at a time: peak \(budget.peakReserved), largest \(costs.max() ?? 0)")

        let red = try #require(pictures.first { $0.colour == .red && $0.shape == .circle })
        let byFile = try await library.search(.imageFile(red.url), limit: 1)
        let byBytes = try await library.search(.imageData(try Data(contentsOf: red.url)), limit: 1)
        #expect(byFile.results.first?.item.path == red.url.path && byBytes.results.first?.item.path == red.url.path)
        #expect(budget.reservationsGranted == pictures.count + 2, "query pictures decode within the budget too")
    }

    @Test("with a keyframe tolerance, a video is indexed from nearby keyframes and its moments still find their scene")
    func keyframeTolerance() async throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("loupe-tolerance-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: root) }
        let folder = root.appendingPathComponent("media")
        _ = try DemoLibrary.generate(into: folder, perClass: 1, video: true)
        var configuration = MediaLibrary.Configuration()
        configuration.segmentation = .fixed(seconds: 4)
        configuration.keyframeTolerance = 0.5
        let library = try await MediaLibrary.open(at: root.appendingPathComponent("data"),
                                                  embedder: try CLIPEmbedder(directory: ShapesLibrary.modelDirectory),
                                                  configuration: configuration)
        let report = try await library.index([folder.path])
        #expect(report.failures.isEmpty && report.moments == 3, "\(report.failures), \(report.moments) moments")
        var request = SearchRequest(.text("a blue square"), limit: 1)
        request.filter.kind = .video
        let moment = try #require(try await library.search(request).results.first)
        #expect(moment.item.start == 4 && moment.item.end == 8, "\(String(describing: moment.item.start))-\(String(describing: moment.item.end))")
    }

    @Test("resized and re-encoded copies are found as near-duplicates of their original")
    func dedup() async throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("loupe-dedup-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: root) }
        let folder = root.appendingPathComponent("media")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let painter = ShapePainter(width: 200, height: 160)
        let original = painter.paint(.circle, .orange, x: 0.45, y: 0.55, scale: 0.6, background: (30, 30, 35))
        try ImageEncoder.encode(pixels: original, width: 200, height: 160, as: .png).write(to: folder.appendingPathComponent("a.png"))
        let half = try ImageResizer.resize(pixels: original, width: 200, height: 160, toWidth: 100, height: 80)
        try ImageEncoder.encode(pixels: half, width: 100, height: 80, as: .png).write(to: folder.appendingPathComponent("a-small.png"))
        try ImageEncoder.encode(pixels: original, width: 200, height: 160, as: .jpeg(quality: 60))
            .write(to: folder.appendingPathComponent("a-q60.jpg"))
        let other = ShapePainter(width: 160, height: 160).paint(.triangle, .green, background: (235, 235, 230))
        try ImageEncoder.encode(pixels: other, width: 160, height: 160, as: .png).write(to: folder.appendingPathComponent("b.png"))
        let library = try await openLibrary(root)
        _ = try await library.index([folder.path])
        let groups = try await library.duplicates(threshold: 0.95)
        let group = try #require(groups.first { $0.contains { $0.name == "a.png" } })
        #expect(Set(group.map(\.name)).isSuperset(of: ["a.png", "a-small.png", "a-q60.jpg"]))
        #expect(!group.contains { $0.name == "b.png" })
    }

    @Test("moved and copied files reuse their vectors; deleted files leave the index")
    func movesAndDeletes() async throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("loupe-moves-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: root) }
        let folder = root.appendingPathComponent("media")
        let pictures = try DemoLibrary.generate(into: folder, perClass: 1, video: false)
        let library = try await openLibrary(root)
        let first = try await library.index([folder.path])
        #expect(first.embedded == pictures.count)
        let fm = FileManager.default
        try fm.moveItem(at: pictures[0].url, to: folder.appendingPathComponent("moved-\(pictures[0].url.lastPathComponent)"))
        try fm.copyItem(at: pictures[1].url, to: folder.appendingPathComponent("copy-\(pictures[1].url.lastPathComponent)"))
        try fm.removeItem(at: pictures[2].url)
        let second = try await library.index([folder.path])
        #expect(second.embedded == 0, "moves and copies must not be embedded again")
        #expect(second.reused == 2 && second.removed == 2)
        let items = try await library.items()
        #expect(items.count == pictures.count)
        #expect(Set(items.map(\.path)).count == items.count)
        #expect(!items.contains { $0.path == pictures[2].url.path || $0.path == pictures[0].url.path })
    }

    @Test("an ingest killed with SIGKILL resumes without duplicates")
    func killedIngestResumes() async throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("loupe-kill-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: root) }
        let folder = root.appendingPathComponent("media")
        let pictures = try DemoLibrary.generate(into: folder, perClass: 4, video: false)
        let process = Process()
        process.executableURL = try loupeExecutable()
        process.arguments = ["index", folder.path, "--data", root.appendingPathComponent("data").path,
                             "--model", ShapesLibrary.modelDirectory.path, "--batch", "4"]
        let errors = Pipe()
        process.standardError = errors
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        // Wait for the first progress line (a batch is stored), then kill mid-run.
        var seen = Data()
        let deadline = Date().addingTimeInterval(60)
        while process.isRunning, !String(decoding: seen, as: UTF8.self).contains("index:"), Date() < deadline {
            seen.append(errors.fileHandleForReading.availableData)
        }
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()

        let library = try await openLibrary(root)
        let before = try await library.items().count
        let report = try await library.index([folder.path])
        let items = try await library.items()
        #expect(items.count == pictures.count)
        #expect(Set(items.map(\.path)).count == pictures.count, "a path was indexed twice")
        #expect(report.unchanged == before, "files stored before the kill must not be embedded again")
        #expect(report.embedded == pictures.count - before)
    }
}

/// The `loupe` binary built next to the test bundle.
func loupeExecutable() throws -> URL {
    var directory = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
    for _ in 0..<4 {
        let candidate = directory.appendingPathComponent("loupe")
        if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
        directory = directory.deletingLastPathComponent()
    }
    throw LoupeError(.notFound, "the loupe binary was not built next to the tests (run swift build --build-tests)")
}
