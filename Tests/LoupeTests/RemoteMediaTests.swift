import Foundation
import LoupeFixtures
import LoupeMedia
import Testing
@testable import Loupe

@Suite("Media from URLs")
struct RemoteMediaTests {
    @Test("only http(s) URLs are fetched, and private hosts can be refused")
    func urlChecks() throws {
        var limits = RemoteFetcher.Limits()
        limits.refusesPrivateAddresses = true
        let fetcher = RemoteFetcher(limits: limits)
        for bad in ["file:///etc/passwd", "ftp://example.com/a.jpg", "http://127.0.0.1/a.jpg", "http://localhost:8080/a",
                    "http://10.1.2.3/a", "http://192.168.0.1/a", "http://[::1]/a", "http://169.254.169.254/latest"] {
            #expect(throws: LoupeError.self, "\(bad)") { try fetcher.check(URL(string: bad)!) }
        }
        // A public address passes (a literal: no DNS in tests).
        try fetcher.check(URL(string: "https://93.184.215.14/cat.jpg")!)
        #expect(!RemoteFetcher.isPrivate(host: "8.8.8.8") && RemoteFetcher.isPrivate(host: "172.20.0.1"))
    }

    @Test("a picture indexed from a URL keeps its source and is found by searching with the same URL")
    func indexAndSearchByURL() async throws {
        let pixels = ShapePainter(width: 160, height: 120).paint(.square, .purple, background: (235, 235, 230))
        let png = try ImageEncoder.encode(pixels: pixels, width: 160, height: 120, as: .png)
        let server = HubTestServer(repository: "x/y", files: ["purple.png": .init(data: png, lfs: false)])
        let endpoint = try await server.start()
        defer { Task { await server.stop() } }
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("loupe-url-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: root) }
        let library = try await MediaLibrary.open(at: root, embedder: try CLIPEmbedder(directory: ShapesLibrary.modelDirectory))
        let url = endpoint.appendingPathComponent("cdn/purple.png")
        let report = try await library.index([url.absoluteString, endpoint.appendingPathComponent("cdn/missing.png").absoluteString])
        #expect(report.added == 1 && report.failures.count == 1, "\(report.failures)")
        let top = try #require(try await library.search(.imageURL(url), limit: 1).results.first)
        #expect(top.item.source == url.absoluteString)
        #expect(top.score > 0.999)
        // A second run reuses the downloaded copy: nothing is embedded again.
        #expect(try await library.index([url.absoluteString]).embedded == 0)
    }
}
