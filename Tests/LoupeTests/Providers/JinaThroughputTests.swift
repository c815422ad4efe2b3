import Foundation
import LoupeCLIP
import LoupeFixtures
import LoupeMedia
import LoupeTestSupport
import Testing
@testable import Loupe

/// The batching benchmark: 50 pictures indexed through the Jina stand-in answering after 50 ms, one
/// picture per request against batches with several requests in flight. Prints both rates; the figures
/// in the hand-over note come from this test.
@Suite("Jina throughput", .stopsProviderStandIns, .serialized)
struct JinaThroughputTests {
    static func index(_ folder: URL, batch: Int, concurrency: Int) async throws -> (seconds: Double, requests: Int) {
        let data = folder.deletingLastPathComponent().appendingPathComponent("data-\(batch)-\(concurrency)")
        defer { try? FileManager.default.removeItem(at: data) }
        let standIn = ProviderStandIn { request, _ in JinaStandIn.reply(request, latency: 0.05, cheap: true) }
        let base = try await standIn.start()
        var options = JinaEmbedder.Options()
        options.batchSize = batch
        options.concurrency = concurrency
        // No cache: every run pays for every picture.
        let jina = try await JinaEmbedder.fromEnvironment(
            model: "jina-clip-v2", options: options, cache: nil,
            environment: ["JINA_BASE_URL": base.absoluteString, "JINA_API_KEY": "k"])
        let probe = standIn.requests.count
        let clock = ContinuousClock()
        let started = clock.now
        let report = try await MediaLibrary.withLibrary(at: data, mode: .writer, embedder: jina) { try await $0.index([folder.path]) }
        let seconds = started.duration(to: clock.now).seconds
        #expect(report.added == 50 && report.failures.isEmpty)
        return (seconds, standIn.requests.count - probe)
    }

    /// Only the embedding stage: 50 decoded pictures through `embed(images:)`.
    static func embed(_ images: [RGBImage], batch: Int, concurrency: Int) async throws -> Double {
        let standIn = ProviderStandIn { request, _ in JinaStandIn.reply(request, latency: 0.05, cheap: true) }
        var options = JinaEmbedder.Options()
        options.batchSize = batch
        options.concurrency = concurrency
        let jina = try await JinaEmbedder.fromEnvironment(
            model: "jina-clip-v2", options: options, cache: nil,
            environment: ["JINA_BASE_URL": try await standIn.start().absoluteString, "JINA_API_KEY": "k"])
        let clock = ContinuousClock()
        let started = clock.now
        let vectors = try await jina.embed(images: images)
        #expect(vectors.count == images.count)
        return started.duration(to: clock.now).seconds
    }

    @Test("50 pictures go in 4 batched requests instead of 50, and the rates of both are printed")
    func batchingPaysOff() async throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("loupe-jina-bench-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: root) }
        let folder = root.appendingPathComponent("media")
        let pictures = try DemoLibrary.generate(into: folder, perClass: 3, video: false)
        for picture in pictures.dropFirst(50) { try FileManager.default.removeItem(at: picture.url) }

        let images = try pictures.prefix(50).map { try RGBImage(try ImageDecoder().decode(contentsOf: $0.url)) }
        let embedSingle = try await Self.embed(images, batch: 1, concurrency: 1)
        let embedBatched = try await Self.embed(images, batch: 16, concurrency: 4)
        print(String(format: "jina stand-in, 50 ms a request, embedding 50 decoded pictures: one per request %.2f s (%.1f pictures/s); "
                     + "batches of 16 x 4 in flight %.3f s (%.1f pictures/s); %.1fx",
                     embedSingle, 50 / embedSingle, embedBatched, 50 / embedBatched, embedSingle / embedBatched))
        // The rates are printed for the closing note (target 10x), not asserted: wall-clock ratios are a
        // benchmark's, and a full parallel suite on 2 cores moves them (1.99x once against a bound of 2).
        // What batching must do, it is asserted on below: the number of requests.

        let single = try await Self.index(folder, batch: 1, concurrency: 1)
        let batched = try await Self.index(folder, batch: 16, concurrency: 4)
        let speedup = single.seconds / batched.seconds
        print(String(format: "jina stand-in, 50 ms a request, 50 pictures: one per request %.2f s (%.1f pictures/s, %d requests); "
                     + "batches of 16 x 4 in flight %.2f s (%.1f pictures/s, %d requests); %.1fx",
                     single.seconds, 50 / single.seconds, single.requests, batched.seconds, 50 / batched.seconds,
                     batched.requests, speedup))
        #expect(single.requests == 50)
        #expect(batched.requests == 4, "50 pictures in batches of 16 are 4 requests, not \(batched.requests)")
    }
}
