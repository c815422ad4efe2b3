import Foundation
import LoupeMilvus

@available(LoupeMilvus 1.0, *)
extension MediaLibrary {
    /// Opens the library in a collection of a Milvus server or cluster (`MilvusMediaStore`); local state
    /// (downloads, thumbnails, the server's jobs) stays in `dataDirectory`, which is created when missing.
    ///
    /// Any number of writers may index into one collection at once, from any machine.
    ///
    /// ```swift
    /// let library = try await MediaLibrary.open(
    ///     milvus: "https://in03-xxxx.api.gcp-us-west1.zillizcloud.com", token: apiKey,
    ///     collection: "media", embedder: embedder, dataDirectory: URL(fileURLWithPath: "loupe-data"))
    /// ```
    /// - Parameters:
    ///   - uri: `http://host:19530`, `https://host[:port]` (TLS) or `host:port`.
    ///   - token: an API key, or `user:password`; nil or empty for a server without authentication.
    ///   - database: the Milvus database (nil: `default`).
    ///   - trustedCertificates: with an `https://` URI, a PEM file of the certificates to trust (a private
    ///     CA, a self-signed server) instead of the system's.
    /// - Throws: `MilvusError` when the server cannot be reached or refuses the token;
    ///   `LoupeError(.invalidArgument)` when the collection was built with another model;
    ///   `LoupeError(.notFound)` for a reader of a collection that does not exist.
    public static func open(milvus uri: String, token: String? = nil, database: String? = nil,
                            trustedCertificates: String? = nil,
                            collection: String = "media", mode: Mode = .writer, embedder: any Embedder,
                            dataDirectory: URL, configuration: Configuration = Configuration())
        async throws -> MediaLibrary
    {
        let credentials = token.flatMap { $0.isEmpty ? nil : MilvusConfiguration.Credentials.token($0) }
        var milvus = try MilvusConfiguration(uri: uri, credentials: credentials,
                                             database: database.flatMap { $0.isEmpty ? nil : $0 })
        if let trustedCertificates {
            guard milvus.useTLS else {
                throw LoupeError(.invalidArgument, "a trusted certificate file needs an https:// Milvus URI", input: uri)
            }
            milvus.trustedCertificates = trustedCertificates
        }
        do {
            try FileManager.default.createDirectory(at: dataDirectory, withIntermediateDirectories: true)
        } catch {
            throw LoupeError(.invalidArgument, "cannot create the data folder: \(error.localizedDescription)",
                             input: dataDirectory.path)
        }
        var settings = configuration
        settings.collection = collection
        let store = try MilvusMediaStore(configuration: milvus)
        return try await open(store: store, mode: mode, embedder: embedder, configuration: settings,
                              dataDirectory: dataDirectory)
    }
}
