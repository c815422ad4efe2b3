import ArgumentParser
import Foundation
import Loupe
import LoupeCLIP
import LoupeTensor

/// Options every library command shares: where the data lives and which model embeds it.
struct LibraryOptions: ParsableArguments {
    @Option(name: .long, help: "The database folder (with --milvus: the folder for local state only).")
    var data = "loupe-data"

    @Option(name: .long, help: ArgumentHelp(
        "Keep the library on a Milvus server or cluster (default: $LOUPE_MILVUS_URI).",
        discussion: "http://host:19530, https://host[:port] (TLS) or host:port.", valueName: "uri"))
    var milvus: String?

    @Option(name: .customLong("milvus-token"), help: ArgumentHelp(
        "Milvus API key or user:password (default: $MILVUS_TOKEN).", valueName: "token"))
    var milvusToken: String?

    @Option(name: .customLong("milvus-db"), help: ArgumentHelp("The Milvus database (default: default).", valueName: "name"))
    var milvusDatabase: String?

    @Option(name: .customLong("milvus-ca"), help: ArgumentHelp(
        "With an https:// Milvus URI: trust the certificates in this PEM file (a private CA) instead of the system's.",
        valueName: "file"))
    var milvusCertificates: String?

    @Option(name: .long, help: "A CLIP or SigLIP model folder, or owner/name of a pulled model.")
    var model = HubRepository.defaultCLIP.id

    @Option(name: .long, help: "The collection inside the database (or on the Milvus server).")
    var collection = "media"

    @Option(name: .long, help: PrecisionChoice.help)
    var precision: Precision?

    @Option(name: .long, help: "Threads for the CLIP engine (default: all cores).")
    var threads: Int?

    @Option(name: .customLong("embedder"), help: ArgumentHelp(
        "clip (local, the default), jina:MODEL[@DIMS] or twelvelabs:MODEL; a library keeps the one it was built with.",
        valueName: "name"))
    var embedderName: String?

    @Option(name: .customLong("embedder-key"), help: ArgumentHelp(
        "The remote embedder's API key (default: $JINA_API_KEY or $TWELVE_LABS_API_KEY).", valueName: "key"))
    var embedderKey: String?

    @Option(name: .customLong("embed-batch"), help: "Inputs per request to a remote embedder.")
    var embedBatch = 16

    @Option(name: .customLong("embed-concurrency"), help: "Requests (and, for Twelve Labs, videos) in flight at once to a remote embedder.")
    var embedConcurrency = 4

    /// The model `--model` names, loaded with `--precision` and `--threads`, with `towers` read and packed
    /// now (a damaged checkpoint fails here); any other tower loads at its first use. A text search needs
    /// only the text tower, indexing the vision tower first.
    func embedder(loading towers: Set<CLIPModel.Tower> = Set(CLIPModel.Tower.allCases)) throws -> CLIPEmbedder {
        let embedder = try CLIPEmbedder(directory: try ModelLocator.directory(for: model), precision: PrecisionChoice.resolve(precision), threads: threads)
        try embedder.model.load(towers)
        return embedder
    }

    /// Opens the library: read-only commands as `.reader` (they work beside a running `loupe serve`),
    /// the others as the one `.writer`.
    /// - Parameter mustExist: refuse a `--data` folder without a library (readers always do), rather than
    ///   creating an empty one.
    /// - Parameter towers: the CLIP towers to load now when no `embedder` is given (see `embedder(loading:)`).
    func open(_ mode: MediaLibrary.Mode, embedder: CLIPEmbedder? = nil, towers: Set<CLIPModel.Tower> = Set(CLIPModel.Tower.allCases),
              mustExist: Bool = false,
              configure: (inout MediaLibrary.Configuration) -> Void = { _ in }) async throws -> MediaLibrary {
        if embedder == nil, let remote = try await remoteEmbedder() {
            return try await open(mode, remote: remote, mustExist: mustExist, configuration: configuration(configure))
        }
        if let milvus = milvusURI {
            var configuration = MediaLibrary.Configuration()
            configure(&configuration)
            // The token is a secret: it goes to the server only, never into a message or a log. On Milvus the
            // mode only decides whether a missing collection is created, so `mustExist` opens as a reader would.
            return try await MediaLibrary.open(
                milvus: milvus, token: milvusToken ?? Self.environment("MILVUS_TOKEN"), database: milvusDatabase, trustedCertificates: milvusCertificates,
                collection: collection, mode: mustExist ? .reader : mode,
                embedder: try embedder ?? self.embedder(loading: towers), dataDirectory: URL(fileURLWithPath: data),
                configuration: configuration)
        }
        if mustExist && !FileManager.default.fileExists(atPath: URL(fileURLWithPath: data).appendingPathComponent("loupe.sqlite").path) {
            throw ValidationError("no library at '\(data)' (no loupe.sqlite there): run 'loupe index' first, or pass --data DIR")
        }
        let configuration = self.configuration(configure)
        guard let embedder else { return try await openLoadingModel(mode, configuration: configuration, towers: towers).library }
        return try await MediaLibrary.open(at: URL(fileURLWithPath: data), mode: mode, embedder: embedder,
                                           configuration: configuration)
    }

    /// The embedder `--embedder` names, else the one the library recorded: nil for CLIP.
    /// - Throws: a `ValidationError` when `--embedder` differs from the recorded one.
    func embedderSpec() throws -> EmbedderSpec {
        let folder = URL(fileURLWithPath: data)
        let recorded = EmbedderRecord.read(data: folder, collection: collection)
        guard let embedderName, !embedderName.isEmpty else { return recorded ?? .clip }
        let chosen = try EmbedderSpec(parsing: embedderName)
        let database = folder.appendingPathComponent("loupe.sqlite").path
        // An embedded library without a record was built with CLIP.
        let built = recorded ?? (milvusURI == nil && FileManager.default.fileExists(atPath: database) ? .clip : chosen)
        if built != chosen {
            throw ValidationError("the library at '\(data)' (collection '\(collection)') was built with --embedder \(built), "
                                  + "so it cannot use \(chosen): its vectors are not comparable; drop --embedder, or use "
                                  + "another --data or --collection")
        }
        return chosen
    }

    /// The remote embedder in use (connected, its dimension known), or nil for CLIP.
    func remoteEmbedder() async throws -> (any Embedder)? {
        var settings = RemoteEmbedderSettings()
        settings.key = embedderKey
        settings.jina.batchSize = embedBatch
        settings.jina.concurrency = embedConcurrency
        settings.twelveLabs.concurrency = embedConcurrency
        return try await embedderSpec().remoteEmbedder(data: URL(fileURLWithPath: data), settings: settings)
    }

    /// Opens the library with a remote embedder, and records it for later commands.
    private func open(_ mode: MediaLibrary.Mode, remote: any Embedder, mustExist: Bool,
                      configuration: MediaLibrary.Configuration) async throws -> MediaLibrary {
        let folder = URL(fileURLWithPath: data)
        let library: MediaLibrary
        if let milvus = milvusURI {
            library = try await MediaLibrary.open(
                milvus: milvus, token: milvusToken ?? Self.environment("MILVUS_TOKEN"), database: milvusDatabase, trustedCertificates: milvusCertificates,
                collection: collection, mode: mustExist ? .reader : mode, embedder: remote, dataDirectory: folder,
                configuration: configuration)
        } else {
            if mustExist && !FileManager.default.fileExists(atPath: folder.appendingPathComponent("loupe.sqlite").path) {
                throw ValidationError("no library at '\(data)' (no loupe.sqlite there): run 'loupe index' first, or pass --data DIR")
            }
            library = try await MediaLibrary.open(at: folder, mode: mode, embedder: remote, configuration: configuration)
        }
        if mode == .writer { try EmbedderRecord.write(data: folder, collection: collection, embedder: remote) }
        return library
    }

    /// The library configuration for `--collection`, adjusted by `configure`.
    func configuration(_ configure: (inout MediaLibrary.Configuration) -> Void = { _ in }) -> MediaLibrary.Configuration {
        var configuration = MediaLibrary.Configuration()
        configuration.collection = collection
        configure(&configuration)
        return configuration
    }

    /// How long the two halves of opening took; they overlap, so the command waited for the longer.
    struct OpenTimings {
        var modelLoad: Duration
        var open: Duration
    }

    /// Opens the embedded store while the model loads on another thread: on a 100k-row library opening
    /// takes a few hundred milliseconds, about what loading ViT-B/32 does, and a one-shot command like
    /// `loupe search` waits for the longer of the two instead of their sum.
    func openLoadingModel(_ mode: MediaLibrary.Mode, configuration: MediaLibrary.Configuration,
                          towers: Set<CLIPModel.Tower> = Set(CLIPModel.Tower.allCases)) async throws
        -> (library: MediaLibrary, timings: OpenTimings)
    {
        let clock = ContinuousClock()
        let connecting = clock.now
        if let remote = try await remoteEmbedder() {
            let connected = clock.now
            let library = try await open(mode, remote: remote, mustExist: mode == .reader, configuration: configuration)
            return (library, OpenTimings(modelLoad: connecting.duration(to: connected), open: connected.duration(to: clock.now)))
        }
        let loading = Task.detached { [self] () throws -> (CLIPEmbedder, Duration) in
            let started = clock.now
            let embedder = try self.embedder(loading: towers)
            return (embedder, started.duration(to: clock.now))
        }
        let started = clock.now
        let store: EmbeddedMediaStore
        do {
            store = try MediaLibrary.openStore(at: URL(fileURLWithPath: data), mode: mode)
        } catch {
            _ = try? await loading.value
            throw error
        }
        let opening = started.duration(to: clock.now)
        let embedder: CLIPEmbedder, modelLoad: Duration
        do {
            (embedder, modelLoad) = try await loading.value
        } catch {
            try? await store.close()
            throw error
        }
        let library = try await MediaLibrary.open(store: store, mode: mode, embedder: embedder, configuration: configuration,
                                                  dataDirectory: URL(fileURLWithPath: data))
        return (library, OpenTimings(modelLoad: modelLoad, open: opening))
    }

    /// The Milvus server the library lives on: `--milvus`, else `$LOUPE_MILVUS_URI`; nil for the embedded store.
    var milvusURI: String? { milvus.flatMap { $0.isEmpty ? nil : $0 } ?? Self.environment("LOUPE_MILVUS_URI") }

    private static func environment(_ name: String) -> String? {
        ProcessInfo.processInfo.environment[name].flatMap { $0.isEmpty ? nil : $0 }
    }

    /// Opens the library, runs `body`, and closes it however `body` ends.
    func withLibrary<T: Sendable>(_ mode: MediaLibrary.Mode, embedder: CLIPEmbedder? = nil, mustExist: Bool = false,
                                  configure: (inout MediaLibrary.Configuration) -> Void = { _ in },
                                  _ body: (MediaLibrary) async throws -> T) async throws -> T {
        try await open(mode, embedder: embedder, mustExist: mustExist, configure: configure).closing(body)
    }
}
