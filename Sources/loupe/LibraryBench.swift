import ArgumentParser
import Foundation
import Loupe
import LoupeMedia
import LoupeStore
import LoupeTensor

/// How the library behaves at scale: a cold search after indexing, and whether indexing slows as it grows.
struct LibraryBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "library",
        abstract: "Build a large library without a real model, and measure indexing as it grows.",
        discussion: """
            --make-model DIR writes a loadable CLIP folder with random weights and --dim output values (the \
            tokenizer and shape of --from, by default the tiny test model), so `loupe search --model DIR` runs \
            as a fresh process on a library of that dimension.
            --rows N --data DIR fills a library with N random unit vectors (rows as pictures under /bench/), \
            through MediaLibrary as `loupe index` writes them, and closes it (graph built and saved). Then time \
            `loupe search TEXT --data DIR --model DIR --json`: its timings_ms name model_load and the rest.
            --pictures N --dir DIR writes N small distinct pictures (once) and, with --model, indexes them, \
            printing files/s for each tenth of the run: the cost per file should not grow with the library.
            """)

    @Option(name: .long, help: "Write a random-weight model folder here.")
    var makeModel: String?

    @Option(name: .long, help: "The model to copy the tokenizer and shape from.")
    var from = "Tests/Fixtures/clip-tiny"

    @Option(name: .long, help: "Output dimension of the model written with --make-model.")
    var dim = 512

    @Option(name: .long, help: "Rows of random vectors to store.")
    var rows: Int?

    @Option(name: .long, help: "Small pictures to write and index.")
    var pictures: Int?

    @Option(name: .long, help: "Folder for the pictures.")
    var dir = "/tmp/loupe-bench-pictures"

    @Option(name: .long, help: "The database folder.")
    var data = "/tmp/loupe-bench-library"

    @Option(name: .long, help: "The model folder (for --rows and --pictures).")
    var model: String?

    func run() async throws {
        try await reportingErrors {
            if let makeModel { try Self.writeModel(to: URL(fileURLWithPath: makeModel), from: URL(fileURLWithPath: from), dimension: dim) }
            if let rows { try await fillRows(rows) }
            if let pictures { try await indexPictures(pictures) }
        }
    }

    private func embedder() throws -> CLIPEmbedder {
        guard let model else { throw ValidationError("--model DIR is needed (make one with --make-model)") }
        return try CLIPEmbedder(directory: URL(fileURLWithPath: model))
    }

    /// Copies `source` with new random projections of `dimension` outputs.
    static func writeModel(to folder: URL, from source: URL, dimension: Int) throws {
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let weights = try SafetensorsFile(contentsOf: source.appendingPathComponent("model.safetensors"))
        var generator = SplitMix64(seed: 3)
        var entries: [SafetensorsWriter.Entry] = []
        for name in weights.names {
            let info = try weights.info(name)
            if name == "text_projection.weight" || name == "visual_projection.weight" {
                let inputs = info.shape[1]
                let scale = Float(1 / Double(inputs).squareRoot())
                let values = (0..<(dimension * inputs)).map { _ in (Float(generator.nextUnit()) * 2 - 1) * scale }
                entries.append(.init(name: name, shape: [dimension, inputs], values: values))
            } else {
                entries.append(.init(name: name, shape: info.shape, values: try weights.floats(name)))
            }
        }
        try SafetensorsWriter.write(entries, to: folder.appendingPathComponent("model.safetensors"))
        var config = try JSONSerialization.jsonObject(with: Data(contentsOf: source.appendingPathComponent("config.json"))) as! [String: Any]
        config["projection_dim"] = dimension
        for key in ["text_config", "vision_config"] {
            if var part = config[key] as? [String: Any] {
                part["projection_dim"] = dimension
                config[key] = part
            }
        }
        try JSONSerialization.data(withJSONObject: config, options: [.prettyPrinted, .sortedKeys])
            .write(to: folder.appendingPathComponent("config.json"))
        for file in ["preprocessor_config.json", "vocab.json", "merges.txt", "tokenizer.json"] {
            let from = source.appendingPathComponent(file)
            guard FileManager.default.fileExists(atPath: from.path) else { continue }
            let to = folder.appendingPathComponent(file)
            try? FileManager.default.removeItem(at: to)
            try FileManager.default.copyItem(at: from, to: to)
        }
        print("wrote \(folder.path) (\(dimension)-d random projections)")
    }

    private func fillRows(_ count: Int) async throws {
        let embedder = try embedder()
        let directory = URL(fileURLWithPath: data)
        try? FileManager.default.removeItem(at: directory)
        let library = try await MediaLibrary.open(at: directory, mode: .writer, embedder: embedder)
        var generator = SplitMix64(seed: 5)
        let clock = ContinuousClock()
        let started = clock.now
        let dimension = embedder.dimension
        let batch = 1000
        for start in stride(from: 0, to: count, by: batch) {
            let rows: [Row] = (start..<min(start + batch, count)).map { index in
                var vector = (0..<dimension).map { _ in Float(generator.nextUnit()) * 2 - 1 }
                let norm = vector.reduce(0) { $0 + $1 * $1 }.squareRoot()
                for k in vector.indices { vector[k] /= norm }
                return ["path": .string("/bench/\(index).jpg"), "name": .string("\(index).jpg"), "kind": "image",
                        "scope": "image", "mtime": .double(1.7e9), "size": 1000, "sha256": .string(String(index)),
                        "width": 64, "height": 64, "vector": .vector(vector)]
            }
            try await library.store.insert(library.configuration.collection, rows: rows)
        }
        let inserted = clock.now
        try await library.close()
        let closed = clock.now
        func seconds(_ d: Duration) -> Double { Double(d.components.seconds) + Double(d.components.attoseconds) * 1e-18 }
        print(String(format: "rows=%d dim=%d insert_s=%.2f build_and_save_s=%.2f", count, dimension,
                     seconds(inserted - started), seconds(closed - inserted)))
    }

    private func indexPictures(_ count: Int) async throws {
        let folder = URL(fileURLWithPath: dir)
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let existing = (try? FileManager.default.contentsOfDirectory(atPath: folder.path).count) ?? 0
        if existing < count {
            var generator = SplitMix64(seed: 9)
            for index in 0..<count {
                // 24 x 24 pixels of noise: every picture has its own bytes, so none is reused by hash.
                let pixels = (0..<(24 * 24 * 3)).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
                let name = String(format: "%06d.png", index)
                try ImageEncoder.encode(pixels: pixels, width: 24, height: 24, as: .png).write(to: folder.appendingPathComponent(name))
            }
        }
        guard model != nil else {
            print("wrote \(count) pictures to \(folder.path) (no --model: nothing indexed)")
            return
        }
        let embedder = try embedder()
        let directory = URL(fileURLWithPath: data)
        try? FileManager.default.removeItem(at: directory)
        let marks = ProgressMarks()
        let library = try await MediaLibrary.open(at: directory, mode: .writer, embedder: embedder)
        let report = try await library.index([folder.path]) { marks.record($0) }
        try await library.close()
        let samples = marks.samples
        guard let total = samples.last?.done, total > 0 else { throw ValidationError("nothing was indexed from \(dir)") }
        var rates: [Double] = []
        for tenth in 0..<10 {
            let from = samples.last { $0.done <= total * tenth / 10 } ?? (0, 0)
            let to = samples.first { $0.done >= total * (tenth + 1) / 10 } ?? samples.last!
            rates.append(Double(to.done - from.done) / max(1e-9, to.seconds - from.seconds))
        }
        print("files/s by tenth: " + rates.map { String(format: "%.0f", $0) }.joined(separator: " "))
        print(String(format: "pictures=%d embedded=%d first_tenth_files_per_s=%.0f last_tenth_files_per_s=%.0f ratio=%.2f",
                     report.scanned, report.embedded, rates[0], rates[9], rates[9] / rates[0]))
    }
}

/// Progress samples of an indexing run: files done and seconds since the start.
final class ProgressMarks: @unchecked Sendable {
    private let lock = NSLock()
    private var list: [(done: Int, seconds: Double)] = []

    func record(_ progress: IngestProgress) {
        let seconds = Double(progress.elapsed.components.seconds) + Double(progress.elapsed.components.attoseconds) * 1e-18
        lock.withLock { list.append((progress.filesDone, seconds)) }
    }

    var samples: [(done: Int, seconds: Double)] { lock.withLock { list } }
}
