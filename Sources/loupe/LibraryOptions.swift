import ArgumentParser
import Foundation
import Loupe
import LoupeTensor

/// Options every library command shares: where the data lives and which model embeds it.
struct LibraryOptions: ParsableArguments {
    @Option(name: .long, help: "The database folder.")
    var data = "loupe-data"

    @Option(name: .long, help: "A CLIP model folder, or owner/name of a pulled model.")
    var model = HubRepository.defaultCLIP.id

    @Option(name: .long, help: "The collection inside the database.")
    var collection = "media"

    @Option(name: .long, help: "fp32 (reference-exact) or bf16 (faster).")
    var precision: Precision = .fp32

    @Option(name: .long, help: "Threads for the CLIP engine (default: all cores).")
    var threads: Int?

    /// The model `--model` names, loaded with `--precision` and `--threads`.
    func embedder() throws -> CLIPEmbedder {
        try CLIPEmbedder(directory: try ModelLocator.directory(for: model), precision: precision, threads: threads)
    }

    /// Opens the library: read-only commands as `.reader` (they work beside a running `loupe serve`),
    /// the others as the one `.writer`.
    /// - Parameter mustExist: refuse a `--data` folder without a library (readers always do), rather than
    ///   creating an empty one.
    func open(_ mode: MediaLibrary.Mode, embedder: CLIPEmbedder? = nil, mustExist: Bool = false,
              configure: (inout MediaLibrary.Configuration) -> Void = { _ in }) async throws -> MediaLibrary {
        if mustExist && !FileManager.default.fileExists(atPath: URL(fileURLWithPath: data).appendingPathComponent("loupe.sqlite").path) {
            throw ValidationError("no library at '\(data)' (no loupe.sqlite there): run 'loupe index' first, or pass --data DIR")
        }
        var configuration = MediaLibrary.Configuration()
        configuration.collection = collection
        configure(&configuration)
        return try await MediaLibrary.open(at: URL(fileURLWithPath: data), mode: mode, embedder: try embedder ?? self.embedder(),
                                           configuration: configuration)
    }

    /// Opens the library, runs `body`, and closes it however `body` ends.
    func withLibrary<T: Sendable>(_ mode: MediaLibrary.Mode, embedder: CLIPEmbedder? = nil, mustExist: Bool = false,
                                  configure: (inout MediaLibrary.Configuration) -> Void = { _ in },
                                  _ body: (MediaLibrary) async throws -> T) async throws -> T {
        try await open(mode, embedder: embedder, mustExist: mustExist, configure: configure).closing(body)
    }
}
