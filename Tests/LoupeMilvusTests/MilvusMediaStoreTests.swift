import Foundation
import LoupeFixtures
import LoupeMilvus
import LoupeStore
import Testing
@testable import Loupe

/// The whole library on Milvus 2.3.5 and on milvus-lite, against the embedded store: the same demo library
/// (pictures in two folders with different dates, and the scenes video) indexed with the shapes model into
/// both, then the same searches, filters, listings and removals on each.
@Suite("MediaLibrary on Milvus against the embedded store", .serialized, .timeLimit(.minutes(10)))
struct MilvusMediaStoreTests {
    static let modelDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/models/shapes-clip")

    /// Two libraries over the same files: one embedded, one on the server.
    struct Pair {
        var root: URL
        var media: URL
        /// `a_b` (pictures dated 2020) and `axb` (2024, with the video): an unescaped `_` in a folder filter
        /// would let `a_b/` match `axb/` too.
        var older: URL
        var newer: URL
        var embedded: MediaLibrary
        var milvus: MediaLibrary
        var embeddedReport: IngestReport
        var milvusReport: IngestReport

        func close() async {
            try? await embedded.close()
            try? await milvus.close()
            try? FileManager.default.removeItem(at: root)
        }
    }

    static func configuration() -> MediaLibrary.Configuration {
        var configuration = MediaLibrary.Configuration()
        configuration.segmentation = .scenes(maxSeconds: 10)
        return configuration
    }

    static func collection(_ kind: MilvusTestServer.Kind) -> String { "loupe_media_store_\(kind)" }

    static func token(_ server: MilvusTestServer) -> String? { server.authEnabled ? "root:Milvus" : nil }

    static func indexedPair(_ kind: MilvusTestServer.Kind) async throws -> Pair {
        let server = try MilvusTestServer.running(kind)
        let name = collection(kind)
        try await server.withClient { client in
            if try await client.hasCollection(name) { try await client.dropCollection(name) }
        }
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("loupe-milvus-\(kind)-\(UUID().uuidString)")
        let media = root.appendingPathComponent("media")
        let older = media.appendingPathComponent("a_b"), newer = media.appendingPathComponent("axb")
        try DemoLibrary.generate(into: older, perClass: 1, video: false)
        try DemoLibrary.generate(into: newer, perClass: 2, video: true)
        for (folder, date) in [(older, "2020-06-01T00:00:00Z"), (newer, "2024-06-01T00:00:00Z")] {
            let when = try Date(date, strategy: .iso8601)
            for file in try FileManager.default.contentsOfDirectory(atPath: folder.path) {
                try FileManager.default.setAttributes([.modificationDate: when],
                                                      ofItemAtPath: folder.appendingPathComponent(file).path)
            }
        }
        let embedder = try CLIPEmbedder(directory: modelDirectory)
        let embedded = try await MediaLibrary.open(at: root.appendingPathComponent("embedded"), embedder: embedder,
                                                   configuration: configuration())
        let milvus = try await MediaLibrary.open(milvus: server.uri, token: token(server), collection: name,
                                                 embedder: embedder, dataDirectory: root.appendingPathComponent("local"),
                                                 configuration: configuration())
        let embeddedReport = try await embedded.index([media.path])
        let milvusReport = try await milvus.index([media.path])
        return Pair(root: root, media: media, older: older, newer: newer, embedded: embedded, milvus: milvus,
                    embeddedReport: embeddedReport, milvusReport: milvusReport)
    }

    /// What identifies a result: the file and, for a moment, where it starts.
    static func key(_ result: SearchResult) -> String { "\(result.item.path)@\(result.item.start ?? -1)" }

    /// The same results in the same order, scores equal to 1e-4. Within a run of scores equal to 1e-5
    /// (exact ties, such as a moment and the whole video it spans) the order may differ; a run that the
    /// limit cuts off may hold different members.
    static func expectSameRanking(_ embedded: [SearchResult], _ milvus: [SearchResult], _ what: String) {
        #expect(!embedded.isEmpty, "\(what): the embedded store found nothing")
        #expect(embedded.count == milvus.count, "\(what): \(embedded.count) results embedded, \(milvus.count) on Milvus")
        guard embedded.count == milvus.count else { return }
        for (i, (e, m)) in zip(embedded, milvus).enumerated() {
            #expect(abs(e.score - m.score) < 1e-4, "\(what): result \(i) scores \(e.score) embedded, \(m.score) on Milvus")
        }
        var i = 0
        while i < embedded.count {
            var j = i + 1
            while j < embedded.count && abs(embedded[j].score - embedded[i].score) < 1e-5 { j += 1 }
            let e = embedded[i..<j].map(key), m = milvus[i..<j].map(key)
            if j < embedded.count || j - i == 1 {
                #expect(Set(e) == Set(m), "\(what): results \(i)..<\(j) are \(e) embedded, \(m) on Milvus")
            }
            i = j
        }
    }

    @Test("indexing, searching, filtering and removing give what the embedded store gives",
          arguments: MilvusTestServer.Kind.allCases)
    func sameAsEmbedded(kind: MilvusTestServer.Kind) async throws {
        let pair = try await Self.indexedPair(kind)
        do {
            try await check(pair, kind: kind)
        } catch {
            await pair.close()
            throw error
        }
        await pair.close()
    }

    private func check(_ pair: Pair, kind: MilvusTestServer.Kind) async throws {
        let (embedded, milvus) = (pair.embedded, pair.milvus)
        #expect(pair.milvusReport.failures.isEmpty, "\(pair.milvusReport.failures)")
        #expect(pair.milvusReport.added == pair.embeddedReport.added && pair.milvusReport.added == 18 + 36 + 1)
        #expect(pair.milvusReport.moments == pair.embeddedReport.moments && pair.milvusReport.moments == 3)
        let counts = try await milvus.counts(), expectedCounts = try await embedded.counts()
        #expect(counts.images == expectedCounts.images && counts.videos == expectedCounts.videos
                && counts.moments == expectedCounts.moments, "images, videos, moments on \(kind): \(counts)")

        // Every row reads back as the embedded store holds it, in the same (insertion) order: nullable
        // fields as null, metadata and file identity in the dynamic field.
        func rows(_ library: MediaLibrary) async throws -> [Row] {
            try await library.store.query(library.configuration.collection, matching: nil, fields: ["*"], limit: nil,
                                          offset: 0).map { row in
                var row = row
                row[MediaSchema.id] = nil
                return row
            }
        }
        let embeddedRows = try await rows(embedded), milvusRows = try await rows(milvus)
        #expect(embeddedRows.count == 58)
        let difference = zip(embeddedRows, milvusRows).first { $0 != $1 }.map { "\($0) vs \($1)" } ?? "in count"
        #expect(milvusRows == embeddedRows, "rows differ on \(kind): first difference \(difference)")
        let paged = try await milvus.items(limit: 7, offset: 3).map(\.path)
        #expect(paged == Array(try await embedded.items().map(\.path)[3..<10]))
        // Read in pages of 5 rows: the same rows, in the same order, and the same windows.
        let server = try MilvusTestServer.running(kind)
        let smallPages = try MilvusMediaStore(
            configuration: try MilvusConfiguration(uri: server.uri, credentials: Self.token(server).map { .token($0) }),
            pageRows: 5)
        let reader = try await MediaLibrary.open(store: smallPages, mode: .reader,
                                                 embedder: try CLIPEmbedder(directory: Self.modelDirectory),
                                                 configuration: { var c = Self.configuration(); c.collection = Self.collection(kind); return c }(),
                                                 dataDirectory: pair.root.appendingPathComponent("local"))
        #expect(try await rows(reader) == embeddedRows, "12 pages of 5 rows read back every row in order on \(kind)")
        #expect(try await reader.files(limit: 9, offset: 6).map(\.path) == (try await embedded.files(limit: 9, offset: 6).map(\.path)))
        try await reader.close()

        // Text searches: one per colour and shape, images and moments, each video once.
        for colour in ShapeColour.allCases {
            for shape in ShapeKind.allCases {
                let request = SearchRequest(.text("a \(colour.rawValue) \(shape.rawValue)"), limit: 12)
                Self.expectSameRanking(try await embedded.search(request).results, try await milvus.search(request).results,
                                       "text '\(colour) \(shape)' on \(kind)")
            }
        }
        // Picture searches: a few indexed pictures as queries; each finds itself first.
        let pictures = try FileManager.default.contentsOfDirectory(atPath: pair.older.path).sorted().prefix(4)
        for picture in pictures {
            let url = pair.older.appendingPathComponent(picture)
            let request = SearchRequest(.imageFile(url), limit: 8)
            let found = try await milvus.search(request).results
            #expect(found.first?.item.path == url.path, "\(picture) finds itself first on \(kind)")
            Self.expectSameRanking(try await embedded.search(request).results, found, "picture \(picture) on \(kind)")
        }

        // Video moments: every moment of the video, best first; and one per video by default.
        var moments = SearchRequest(.text("a blue square"), limit: 10)
        moments.filter.kind = .video
        #expect(try await milvus.search(moments).results.count == 1, "one result per video by default on \(kind)")
        moments.momentsPerVideo = 5
        let scenes = try await milvus.search(moments).results
        #expect(scenes.count == 3 && scenes.allSatisfy { $0.item.scope == .clip }, "three scenes on \(kind): \(scenes.map(Self.key))")
        #expect(scenes.first.map { abs(($0.item.start ?? -1) - 4) <= 1 } == true, "the blue-square scene first on \(kind)")
        Self.expectSameRanking(try await embedded.search(moments).results, scenes, "moments on \(kind)")
        var mixed = SearchRequest(.text("a green triangle"), limit: 30)
        mixed.momentsPerVideo = 2
        Self.expectSameRanking(try await embedded.search(mixed).results, try await milvus.search(mixed).results,
                               "two moments per video among pictures on \(kind)")

        // Filters: kind, folder (with an underscore that must not act as a wildcard), dates, an expression.
        var filters: [(String, MediaFilter)] = []
        filters.append(("kind image", MediaFilter(kind: .image)))
        filters.append(("folder a_b", MediaFilter(folder: pair.older.path)))
        filters.append(("folder axb", MediaFilter(folder: pair.newer.path)))
        filters.append(("after 2023", MediaFilter(after: MediaFilter.date("2023-01-01"))))
        filters.append(("before 2023", MediaFilter(before: MediaFilter.date("2023-01-01"))))
        filters.append(("width expression", MediaFilter(expression: "width >= 128 and name like \"red%\"")))
        filters.append(("video in folder", MediaFilter(kind: .video, folder: pair.media.path)))
        for (label, filter) in filters {
            let expected = try await embedded.fileCount(matching: filter)
            #expect(try await milvus.fileCount(matching: filter) == expected, "\(label) on \(kind)")
            #expect(try await milvus.files(matching: filter).map(\.path) == (try await embedded.files(matching: filter).map(\.path)),
                    "\(label) lists the same files on \(kind)")
            var request = SearchRequest(.text("a yellow circle"), limit: 10)
            request.filter = filter
            let found = try await milvus.search(request).results
            Self.expectSameRanking(try await embedded.search(request).results, found, "search with \(label) on \(kind)")
        }
        #expect(try await milvus.fileCount(matching: MediaFilter(folder: pair.older.path)) == 18)
        #expect(try await milvus.fileCount(matching: MediaFilter(after: MediaFilter.date("2023-01-01"))) == 37)

        // Indexing again embeds nothing.
        let again = try await milvus.index([pair.media.path])
        #expect(again.embedded == 0 && again.added == 0 && again.unchanged == 55, "second run on \(kind): \(again)")
        #expect(try await milvus.count() == 58)

        // Removing a video takes its moments with it; removing a folder takes its files.
        let video = pair.newer.appendingPathComponent("scenes.mp4").path
        #expect(try await milvus.remove(path: video) == 4)
        #expect(try await milvus.count(filter: "kind == \"video\"") == 0)
        let removed = try await milvus.remove(under: pair.older.path)
        #expect(removed.files == 18 && removed.rows == 18, "removed \(removed) on \(kind)")
        #expect(try await milvus.fileCount() == 36)
        #expect(try await milvus.fileCount(matching: MediaFilter(folder: pair.newer.path)) == 36)
        let statistics = try await milvus.statistics()
        #expect(statistics.rows == 36 && statistics.indexedRows <= 36, "\(statistics) on \(kind)")
    }

    @Test("a wrong token is refused with an authentication error that does not show the token")
    func wrongToken() async throws {
        let server = try MilvusTestServer.running(.milvus)
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("loupe-milvus-token-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: root) }
        let embedder = try CLIPEmbedder(directory: Self.modelDirectory)
        let error = try await #require(throws: MilvusError.self) {
            _ = try await MediaLibrary.open(milvus: server.uri, token: "root:not-the-password", collection: "anything",
                                            embedder: embedder, dataDirectory: root)
        }
        #expect(error.code == .authentication, "got \(error)")
        #expect(!error.description.contains("not-the-password"), "the token is not in the message: \(error)")
    }

    @Test("a reader of a collection that does not exist is told to index first", arguments: MilvusTestServer.Kind.allCases)
    func missingCollection(kind: MilvusTestServer.Kind) async throws {
        let server = try MilvusTestServer.running(kind)
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("loupe-milvus-missing-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: root) }
        let error = try await #require(throws: LoupeError.self) {
            _ = try await MediaLibrary.open(milvus: server.uri, token: Self.token(server), collection: "loupe_never_made",
                                            mode: .reader, embedder: try CLIPEmbedder(directory: Self.modelDirectory),
                                            dataDirectory: root)
        }
        #expect(error.code == .notFound && error.message.contains("loupe index"), "got \(error)")
    }
}
