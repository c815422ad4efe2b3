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

    /// Opens a library that must already exist (commands that only read or remove): a missing `--data` folder
    /// is an error naming it, rather than a new empty database and "no results".
    func openExisting() async throws -> MediaLibrary {
        let database = URL(fileURLWithPath: data).appendingPathComponent("loupe.sqlite").path
        guard FileManager.default.fileExists(atPath: database) else {
            throw ValidationError("no library at '\(data)' (no loupe.sqlite there): run 'loupe index' first, or pass --data DIR")
        }
        return try await open()
    }

    func open(configure: (inout MediaLibrary.Configuration) -> Void = { _ in }) async throws -> MediaLibrary {
        let directory = try ModelLocator.directory(for: model)
        let embedder = try CLIPEmbedder(directory: directory, precision: precision, threads: threads)
        var configuration = MediaLibrary.Configuration()
        configuration.collection = collection
        configure(&configuration)
        return try await MediaLibrary.open(at: URL(fileURLWithPath: data), embedder: embedder, configuration: configuration)
    }
}
