import Foundation
import LoupeFixtures
import Testing
@testable import Loupe

/// Runs the `loupe` binary and returns its exit status, standard output and standard error.
func runLoupe(_ arguments: [String]) throws -> (status: Int32, output: String, errors: String) {
    let process = Process()
    process.executableURL = try loupeExecutable()
    process.arguments = arguments
    let output = Pipe()
    let errors = Pipe()
    process.standardOutput = output
    process.standardError = errors
    try process.run()
    // Read both pipes to the end before waiting, so a full pipe cannot stall the child.
    nonisolated(unsafe) var errorText = Data()
    let drain = Thread { errorText = errors.fileHandleForReading.readDataToEndOfFile() }
    drain.start()
    let outputText = output.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    while drain.isExecuting || !drain.isFinished { Thread.sleep(forTimeInterval: 0.001) }
    return (process.terminationStatus, String(decoding: outputText, as: UTF8.self), String(decoding: errorText, as: UTF8.self))
}

@Suite("Readers beside a writer, with the shapes model", .serialized)
struct LibraryReaderTests {
    let model = ShapesLibrary.modelDirectory

    func scratch(_ name: String) -> URL {
        FileManager.default.temporaryDirectory.appendingPathComponent("loupe-\(name)-\(UUID().uuidString)")
    }

    @Test("`loupe index` leaves its graph on disk, and a fresh reader uses it instead of building one")
    func indexFilesOutliveTheIndexer() async throws {
        let root = scratch("index-file")
        defer { try? FileManager.default.removeItem(at: root) }
        let pictures = try DemoLibrary.generate(into: root.appendingPathComponent("media"), perClass: 1, video: false)
        let data = root.appendingPathComponent("data")
        let indexed = try runLoupe(["index", root.appendingPathComponent("media").path, "--data", data.path, "--model", model.path])
        #expect(indexed.status == 0, "\(indexed.errors)")
        let files = try FileManager.default.contentsOfDirectory(atPath: data.appendingPathComponent("index").path)
        #expect(files.contains { $0.hasSuffix(".hnsw") }, "index/ holds \(files)")
        let statistics = try await MediaLibrary.withLibrary(at: data, mode: .reader, embedder: try CLIPEmbedder(directory: model)) {
            try await $0.statistics()
        }
        #expect(statistics.rows == pictures.count)
        #expect(statistics.indexedRows == pictures.count, "the reader loaded a graph covering every row")
        let searched = try runLoupe(["search", "a red circle", "--data", data.path, "--model", model.path, "--json", "-k", "3"])
        #expect(searched.status == 0, "\(searched.errors)")
        #expect(searched.output.contains("\"timings_ms\""), "\(searched.output)")
        #expect(searched.output.contains("red-circle") || searched.output.contains("red_circle"), "\(searched.output)")
    }

    @Test("a reader opened beside a writer sees what the writer indexes afterwards, without reopening")
    func readersSeeNewRows() async throws {
        let root = scratch("reader")
        defer { try? FileManager.default.removeItem(at: root) }
        let first = try DemoLibrary.generate(into: root.appendingPathComponent("a"), perClass: 1, video: false)
        let second = try DemoLibrary.generate(into: root.appendingPathComponent("b"), perClass: 1, video: false)
        let data = root.appendingPathComponent("data")
        let embedder = try CLIPEmbedder(directory: model)
        let writer = try await MediaLibrary.open(at: data, mode: .writer, embedder: embedder)
        _ = try await writer.index([root.appendingPathComponent("a").path])
        let reader = try await MediaLibrary.open(at: data, mode: .reader, embedder: embedder)
        #expect(try await reader.fileCount() == first.count)
        _ = try await writer.index([root.appendingPathComponent("b").path])
        #expect(try await reader.fileCount() == first.count + second.count, "the reader sees the second folder")
        var request = SearchRequest(.text("a blue square"), limit: 50)
        request.filter.folder = root.appendingPathComponent("b").path
        let results = try await reader.search(request).results
        #expect(!results.isEmpty && results.allSatisfy { $0.item.path.hasPrefix(root.appendingPathComponent("b").path + "/") })
        // A second writer is refused while the first holds the library; the reader keeps working.
        await #expect(throws: (any Error).self) { _ = try await MediaLibrary.open(at: data, mode: .writer, embedder: embedder) }
        // `loupe search` in another process works beside this writer too.
        let cli = try runLoupe(["search", "a blue square", "--data", data.path, "--model", model.path, "--folder",
                                root.appendingPathComponent("a").path, "--json"])
        #expect(cli.status == 0, "\(cli.errors)")
        #expect(cli.output.contains(root.appendingPathComponent("a").path) && !cli.output.contains(root.appendingPathComponent("b").path + "/"))
        try await reader.close()
        try await writer.close()
    }

    @Test("a reader of a folder without a library is refused with a clear message, and creates nothing")
    func readersNeedALibrary() async throws {
        let root = scratch("no-library")
        defer { try? FileManager.default.removeItem(at: root) }
        let error = await #expect(throws: LoupeError.self) {
            _ = try await MediaLibrary.open(at: root, mode: .reader, embedder: try CLIPEmbedder(directory: model))
        }
        #expect(error?.code == .notFound)
        #expect(!FileManager.default.fileExists(atPath: root.path))
        let cli = try runLoupe(["search", "x", "--data", root.path, "--model", model.path])
        #expect(cli.status != 0 && cli.errors.contains("no library here"), "\(cli.errors)")
    }

    @Test("dates and folders filter searches and listings")
    func datesAndFolders() async throws {
        let root = scratch("dates")
        defer { try? FileManager.default.removeItem(at: root) }
        let pictures = try DemoLibrary.generate(into: root.appendingPathComponent("media"), perClass: 1, video: false)
        let old = pictures[0].url
        try FileManager.default.setAttributes([.modificationDate: Date(timeIntervalSince1970: 1_000_000_000)], ofItemAtPath: old.path)
        let library = try await MediaLibrary.open(at: root.appendingPathComponent("data"), embedder: try CLIPEmbedder(directory: model))
        _ = try await library.index([root.appendingPathComponent("media").path])
        let before = try await library.files(matching: MediaFilter(before: MediaFilter.date("2002-01-01")))
        #expect(before.map(\.path) == [old.path])
        #expect(try await library.fileCount(matching: MediaFilter(after: MediaFilter.date("2002-01-01"))) == pictures.count - 1)
        #expect(try await library.fileCount(matching: MediaFilter(folder: root.path + "/elsewhere")) == 0)
        await #expect(throws: LoupeError.self) { try await library.fileCount(matching: MediaFilter(expression: "width >")) }
        try await library.close()
    }
}
