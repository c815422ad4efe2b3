import ArgumentParser
import Foundation
import Loupe
import LoupeCLIP
import LoupeFixtures
import LoupeMedia
import LoupeStore
import LoupeTensor

struct TableBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tables",
        abstract: "Inserts of sourced rows (vectors computed from image_uri) against precomputed vectors plus the embed time.",
        discussion: """
            Inserts --rows rows that give only image_uri (local JPEGs) into a sourced table, in calls of --batch \
            rows; then, as a caller would without sourced fields, decodes and embeds the same pictures (decoding \
            on the executor's CPU slots, one embed call a batch) and inserts the rows with those vectors into a \
            plain table. Each is run --repeats times, alternating, and the fastest kept. Ends with \
            `sourced_rows_per_s=X embed_s=E plain_insert_s=P sourced_s=S overhead=O` (O = S / (E + P) - 1).
            """)

    @Option(name: .long, help: "A folder of JPEGs (default: --rows generated 640x480 JPEGs).")
    var dir: String?

    @Option(name: .long, help: "Rows to insert.")
    var rows = 256

    @Option(name: .long, help: "Rows per insert call.")
    var batch = 64

    @Option(name: .long, help: "A CLIP model folder (else --arch with --random-weights).")
    var model: String?

    @Option(name: .long, help: "ViT-B-32, ViT-B-16, ViT-L-14 (with --random-weights).")
    var arch = "ViT-B-32"

    @Flag(name: .long, help: "Use seeded random weights of --arch.")
    var randomWeights = false

    @Option(name: .long, help: "fp32, bf16 or int8.")
    var precision: Precision = .fp32

    @Option(name: .long, help: "Timed runs of each side.")
    var repeats = 2

    func validate() throws {
        guard model != nil || randomWeights else { throw ValidationError("pass --model DIR or --random-weights") }
        guard rows >= 1, batch >= 1, repeats >= 1 else { throw ValidationError("--rows, --batch and --repeats must be at least 1") }
    }

    func run() async throws {
        try await reportingErrors {
            let embedder: CLIPEmbedder = try model.map { try CLIPEmbedder(directory: try ModelLocator.directory(for: $0), precision: precision) }
                ?? CLIPEmbedder(model: try CLIPModel.randomWeights(architecture: arch, precision: precision, batchSize: batch),
                                name: "\(arch)-random")
            let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("loupe-tables-bench-\(UUID().uuidString)")
            defer { try? FileManager.default.removeItem(at: scratch) }
            let files = try pictures(scratch.appendingPathComponent("pictures"))
            let uris = (0..<rows).map { files[$0 % files.count] }
            let executor = ComputeExecutor.shared
            // Warm-up: oneDNN primitives and file pages, outside the timings.
            _ = try await embedVectors(Array(uris.prefix(batch)), embedder: embedder, executor: executor)

            var sourced = Duration.seconds(1e9), embed = Duration.seconds(1e9), plain = Duration.seconds(1e9)
            let clock = ContinuousClock()
            for round in 0..<repeats {
                let store = try LoupeClient(path: scratch.appendingPathComponent("data-\(round)").path)
                let tables = TableClient(store: store, embedder: embedder)
                let table = try await tables.createTable("sourced", schema: CollectionSchema(fields: [
                    .int64Primary("id", autoID: true), .scalar("image_uri", .string), .sourcedVector("image_vec", from: "image_uri"),
                ]))
                let started = clock.now
                for start in stride(from: 0, to: rows, by: batch) {
                    try await table.insert(uris[start..<min(start + batch, rows)].map { ["image_uri": .string($0)] })
                }
                sourced = min(sourced, started.duration(to: clock.now))

                try await store.createCollection("plain", schema: CollectionSchema(fields: [
                    .int64Primary("id", autoID: true), .scalar("image_uri", .string),
                    .vector("image_vec", dimension: embedder.dimension),
                ]))
                var embedTime = Duration.zero, insertTime = Duration.zero
                for start in stride(from: 0, to: rows, by: batch) {
                    let chunk = Array(uris[start..<min(start + batch, rows)])
                    let embedStarted = clock.now
                    let vectors = try await embedVectors(chunk, embedder: embedder, executor: executor)
                    let insertStarted = clock.now
                    try await store.insert("plain", zip(chunk, vectors).map { ["image_uri": .string($0), "image_vec": .vector($1)] })
                    embedTime += insertStarted - embedStarted
                    insertTime += insertStarted.duration(to: clock.now)
                }
                if embedTime + insertTime < embed + plain { (embed, plain) = (embedTime, insertTime) }
                try await store.close()
            }
            let overhead = sourced.seconds / (embed.seconds + plain.seconds) - 1
            print("rows=\(rows) batch=\(batch) model=\(embedder.modelName) dim=\(embedder.dimension) repeats=\(repeats)")
            print(String(format: "sourced_rows_per_s=%.2f precomputed_rows_per_s=%.2f embed_s=%.3f plain_insert_s=%.3f sourced_s=%.3f overhead=%.3f",
                         Double(rows) / sourced.seconds, Double(rows) / (embed.seconds + plain.seconds), embed.seconds, plain.seconds,
                         sourced.seconds, overhead))
        }
    }

    /// What a caller does without sourced fields: decode the files on the CPU slots, embed them in one call.
    private func embedVectors(_ paths: [String], embedder: CLIPEmbedder, executor: ComputeExecutor) async throws -> [[Float]] {
        var decoder = ImageDecoder()
        if let side = embedder.inputSize { decoder.configuration.minimumShortSide = side }
        let reader = decoder
        let images = try await withThrowingTaskGroup(of: (Int, RGBImage).self) { group in
            for (index, path) in paths.enumerated() {
                group.addTask {
                    (index, try await executor.run(.cpu) {
                        embedder.prepare(try RGBImage(try reader.decode(contentsOf: URL(fileURLWithPath: path))))
                    })
                }
            }
            var out = [RGBImage?](repeating: nil, count: paths.count)
            for try await (index, image) in group { out[index] = image }
            return out.compactMap { $0 }
        }
        return try await ComputeExecutor.$lane.withValue(.bulk) { try await embedder.embed(images: images) }
    }

    /// The JPEGs of --dir, or generated ones.
    private func pictures(_ folder: URL) throws -> [String] {
        if let dir {
            let names = try FileManager.default.contentsOfDirectory(atPath: dir)
                .filter { ["jpg", "jpeg"].contains(($0 as NSString).pathExtension.lowercased()) }.sorted()
            guard !names.isEmpty else { throw ValidationError("no JPEGs in \(dir)") }
            return names.map { (dir as NSString).appendingPathComponent($0) }
        }
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let painter = ShapePainter(width: 640, height: 480)
        var paths: [String] = []
        for index in 0..<rows {
            let colour = ShapeColour.allCases[index % ShapeColour.allCases.count]
            let shape = ShapeKind.allCases[(index / ShapeColour.allCases.count) % ShapeKind.allCases.count]
            let pixels = painter.paint(shape, colour, x: 0.3 + 0.4 * Double(index % 7) / 7, y: 0.5, scale: 0.5,
                                       background: (UInt8(100 + index % 100), 200, 220))
            let url = folder.appendingPathComponent("\(index).jpg")
            try ImageEncoder.encode(pixels: pixels, width: 640, height: 480, as: .jpeg(quality: 90)).write(to: url)
            paths.append(url.path)
        }
        return paths
    }
}
