import Foundation
import LoupeFixtures
import LoupeMedia
import Testing
@testable import Loupe

/// What the scanner picks up is what the decoders read: `MediaFormat` decides for both.
@Suite("Library scanner")
struct LibraryScannerTests {
    /// A folder with one red circle in each of `formats`, plus a HEIC header and a text file.
    static func mixedFolder(_ formats: [(ImageEncoder.Format, String)]) throws -> URL {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("loupe-scan-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let pixels = ShapePainter(width: 160, height: 120).paint(.circle, .red, background: (235, 235, 230))
        for (format, ext) in formats {
            try ImageEncoder.encode(pixels: pixels, width: 160, height: 120, as: format)
                .write(to: folder.appendingPathComponent("red-circle.\(ext)"))
        }
        let heic = [0, 0, 0, 0x18] + Array("ftypheic".utf8) + [0, 0, 0, 0] + Array("mif1heic".utf8)
        try Data(heic + [UInt8](repeating: 0, count: 200)).write(to: folder.appendingPathComponent("IMG_0001.HEIC"))
        try Data("not a picture\n".utf8).write(to: folder.appendingPathComponent("notes.jpg"))
        return folder
    }

    static let decodable: [(ImageEncoder.Format, String)] = [
        (.qoi, "qoi"), (.jpeg2000, "jp2"), (.png, "png"), (.pcx, "pcx"), (.sgi, "sgi"), (.sunRaster, "ras"),
    ]

    @Test("QOI, JPEG 2000 and every other decodable format are found; HEIC is reported, text skipped")
    func scan() throws {
        let folder = try Self.mixedFolder(Self.decodable)
        defer { try? FileManager.default.removeItem(at: folder) }
        let (files, problems) = LibraryScanner().scan([folder])
        #expect(Set(files.map { $0.url.pathExtension }) == Set(Self.decodable.map(\.1)))
        #expect(files.allSatisfy { $0.kind == .image })
        #expect(problems.count == 1, "\(problems)")
        #expect(problems.first?.path.hasSuffix("IMG_0001.HEIC") == true)
        #expect(problems.first?.message.contains("HEIC pictures are not decoded") == true)
    }

    @Test("QOI and JPEG 2000 pictures are indexed like any other")
    func indexesQOIAndJPEG2000() async throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("loupe-qoi-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: root) }
        let folder = try Self.mixedFolder([(.qoi, "qoi"), (.jpeg2000, "jp2")])
        defer { try? FileManager.default.removeItem(at: folder) }
        let library = try await MediaLibrary.open(at: root.appendingPathComponent("data"),
                                                  embedder: try CLIPEmbedder(directory: ShapesLibrary.modelDirectory))
        let report = try await library.index([folder.path])
        #expect(report.added == 2)
        #expect(report.embedded == 2)
        #expect(report.failures.map(\.path).map { URL(fileURLWithPath: $0).lastPathComponent } == ["IMG_0001.HEIC"])
        let names = try await library.items().map { URL(fileURLWithPath: $0.path).lastPathComponent }.sorted()
        #expect(names == ["red-circle.jp2", "red-circle.qoi"])
    }
}
