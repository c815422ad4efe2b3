import AsyncHTTPClient
import Crypto
import Foundation
import NIOCore
import NIOHTTP1

/// Progress of a model download, reported after every received chunk and when each file finishes.
public struct DownloadProgress: Sendable {
    public var file: String
    public var fileIndex: Int
    public var fileCount: Int
    public var fileBytes: Int64
    public var fileTotalBytes: Int64?
    /// Bytes already present before this run (a resumed download or a cached file).
    public var resumedBytes: Int64
    public var finished: Bool
}

/// Downloads CLIP model repositories from a Hugging Face-compatible hub into a `ModelCache`.
///
/// Files are fetched with resume (an interrupted download continues from its `.incomplete` part),
/// verified against the hash the hub announces (SHA-256 for large files, the git blob SHA-1 for small
/// ones), then moved into the cache's blob store and linked into the snapshot. `HF_ENDPOINT` and
/// `HF_TOKEN` are honoured through `Configuration.fromEnvironment()`.
///
/// ```swift
/// let downloader = ModelDownloader(cache: .standard())
/// let directory = try await downloader.pull(.defaultCLIP) { print($0.file, $0.fileBytes) }
/// let model = try CLIPModel(directory: directory)
/// ```
public struct ModelDownloader: Sendable {
    public struct Configuration: Sendable {
        public var endpoint = URL(string: "https://huggingface.co")!
        public var token: String?
        /// Attempts per file when the connection drops mid-transfer; each retry resumes.
        public var attempts = 3
        public var connectTimeout: Duration = .seconds(15)
        /// Longest silence allowed while a body is streaming.
        public var readTimeout: Duration = .seconds(60)

        public init() {}

        /// `HF_ENDPOINT` and `HF_TOKEN` (or the older `HUGGING_FACE_HUB_TOKEN`) from the environment.
        public static func fromEnvironment(_ environment: [String: String] = ProcessInfo.processInfo.environment) -> Configuration {
            var configuration = Configuration()
            if let endpoint = environment["HF_ENDPOINT"], let url = URL(string: endpoint), url.scheme != nil {
                configuration.endpoint = url
            }
            configuration.token = [environment["HF_TOKEN"], environment["HUGGING_FACE_HUB_TOKEN"]]
                .compactMap { $0 }.first { !$0.isEmpty }
            return configuration
        }
    }

    public let cache: ModelCache
    public let configuration: Configuration

    public init(cache: ModelCache, configuration: Configuration = .fromEnvironment()) {
        self.cache = cache
        self.configuration = configuration
    }

    /// Downloads what Loupe needs of `repository` at `revision` and returns the snapshot directory.
    public func pull(
        _ repository: HubRepository, revision: String = "main",
        progress: @escaping @Sendable (DownloadProgress) -> Void = { _ in }
    ) async throws -> URL {
        let client = HTTPClient(
            eventLoopGroupProvider: .singleton,
            configuration: .init(
                redirectConfiguration: .disallow,
                timeout: .init(connect: TimeAmount(configuration.connectTimeout),
                               read: TimeAmount(configuration.readTimeout))))
        do {
            let snapshot = try await pull(repository, revision: revision, client: client, progress: progress)
            try await client.shutdown()
            return snapshot
        } catch {
            try? await client.shutdown()
            throw error
        }
    }

    private func pull(
        _ repository: HubRepository, revision: String, client: HTTPClient,
        progress: @escaping @Sendable (DownloadProgress) -> Void
    ) async throws -> URL {
        let listing = try await repositoryListing(repository, revision: revision, client: client)
        let files = listing.files.filter(HubRepository.isNeeded).sorted()
        guard files.contains("config.json") else {
            throw LoupeError(.notFound, "the repository has no config.json; is it a Hugging Face CLIP model?", input: repository.id)
        }
        guard files.contains("model.safetensors") || files.contains("model.safetensors.index.json") else {
            throw LoupeError(.notFound, "the repository has no safetensors weights (model.safetensors); Loupe does not read "
                             + "PyTorch pickles", input: repository.id)
        }
        let snapshot = cache.snapshotFolder(repository, commit: listing.commit)
        for (index, file) in files.enumerated() {
            try await fetch(repository, file: file, commit: listing.commit, snapshot: snapshot, client: client) { bytes, total, resumed, done in
                progress(DownloadProgress(file: file, fileIndex: index, fileCount: files.count, fileBytes: bytes,
                                          fileTotalBytes: total, resumedBytes: resumed, finished: done))
            }
        }
        if revision != listing.commit {
            let refs = cache.repositoryFolder(repository).appendingPathComponent("refs")
            try FileManager.default.createDirectory(at: refs, withIntermediateDirectories: true)
            try Data(listing.commit.utf8).write(to: refs.appendingPathComponent(revision), options: .atomic)
        }
        return snapshot
    }

    // MARK: Listing

    struct Listing {
        var commit: String
        var files: [String]
    }

    func repositoryListing(_ repository: HubRepository, revision: String, client: HTTPClient) async throws -> Listing {
        let url = endpointURL("api/models/\(repository.id)/revision/\(revision)")
        let response = try await send(method: .GET, url: url, client: client, repository: repository)
        try check(response.status, url: url, repository: repository)
        let body = try await response.body.collect(upTo: 16 << 20)
        guard let json = try? JSONSerialization.jsonObject(with: Data(body.readableBytesView)) as? [String: Any],
              let commit = json["sha"] as? String,
              let siblings = json["siblings"] as? [[String: Any]]
        else {
            throw LoupeError(.network, "the hub's answer for \(url) is not the repository listing it should be", input: repository.id)
        }
        return Listing(commit: commit, files: siblings.compactMap { $0["rfilename"] as? String })
    }

    // MARK: Files

    /// What the hub says about a file before its body is fetched.
    struct FileInfo {
        var etag: String
        var size: Int64?
        var location: URL?
    }

    private func fetch(
        _ repository: HubRepository, file: String, commit: String, snapshot: URL, client: HTTPClient,
        report: @escaping (Int64, Int64?, Int64, Bool) -> Void
    ) async throws {
        let url = endpointURL("\(repository.id)/resolve/\(commit)/\(file)")
        let info = try await fileInfo(url: url, client: client, repository: repository, file: file)
        let blob = cache.blobURL(repository, etag: info.etag)
        let fm = FileManager.default
        try fm.createDirectory(at: blob.deletingLastPathComponent(), withIntermediateDirectories: true)
        if let size = fileSize(blob), info.size == nil || info.size == size {
            report(size, size, size, true)
        } else {
            var attempt = 0
            while true {
                attempt += 1
                do {
                    try await download(info: info, from: url, to: blob, client: client, repository: repository, file: file,
                                       report: report)
                    break
                } catch let error as LoupeError where error.code == .network && attempt < configuration.attempts {
                    continue  // The partial file stays; the next attempt resumes from it.
                }
            }
        }
        try link(snapshot.appendingPathComponent(file), to: blob)
    }

    private func fileInfo(url: URL, client: HTTPClient, repository: HubRepository, file: String) async throws -> FileInfo {
        let response = try await send(method: .HEAD, url: url, client: client, repository: repository)
        if !(300..<400).contains(response.status.code) { try check(response.status, url: url, repository: repository) }
        let headers = response.headers
        // Large (LFS) files announce their SHA-256 in X-Linked-Etag; small ones their git blob SHA-1 in ETag.
        guard let rawEtag = headers.first(name: "x-linked-etag") ?? headers.first(name: "etag") else {
            throw LoupeError(.network, "the hub sent no ETag for \(file), so it cannot be verified", input: repository.id)
        }
        let etag = rawEtag.replacingOccurrences(of: "W/", with: "").trimmingCharacters(in: CharacterSet(charactersIn: "\" "))
        guard !etag.isEmpty, etag.allSatisfy({ $0.isHexDigit }) else {
            throw LoupeError(.network, "the hub sent an unusable ETag '\(rawEtag)' for \(file)", input: repository.id)
        }
        let size = (headers.first(name: "x-linked-size") ?? headers.first(name: "content-length")).flatMap { Int64($0) }
        let location = headers.first(name: "location").flatMap { URL(string: $0, relativeTo: url)?.absoluteURL }
        return FileInfo(etag: etag.lowercased(), size: size, location: location)
    }

    private func download(
        info: FileInfo, from url: URL, to blob: URL, client: HTTPClient, repository: HubRepository, file: String,
        report: @escaping (Int64, Int64?, Int64, Bool) -> Void
    ) async throws {
        let partial = blob.appendingPathExtension("incomplete")
        let fm = FileManager.default
        if !fm.fileExists(atPath: partial.path) { try Data().write(to: partial) }
        var have = fileSize(partial) ?? 0
        if let size = info.size, have > size { try Data().write(to: partial); have = 0 }

        var target = info.location ?? url
        var response: HTTPClientResponse
        var redirects = 0
        while true {
            response = try await send(method: .GET, url: target, client: client, repository: repository,
                                      range: have > 0 ? have : nil, authorize: target.host == configuration.endpoint.host)
            guard (300..<400).contains(response.status.code), let location = response.headers.first(name: "location"),
                  let next = URL(string: location, relativeTo: target)?.absoluteURL, redirects < 5
            else { break }
            target = next
            redirects += 1
        }
        if response.status == .rangeNotSatisfiable {
            // The part on disk is already complete (or stale): verify it as it is, below.
        } else {
            try check(response.status, url: target, repository: repository)
            if response.status == .ok && have > 0 {
                // The server ignored the range: start over.
                try Data().write(to: partial)
                have = 0
            }
            let handle = try FileHandle(forWritingTo: partial)
            defer { try? handle.close() }
            try handle.seekToEnd()
            var received = have
            do {
                for try await chunk in response.body {
                    try handle.write(contentsOf: Data(chunk.readableBytesView))
                    received += Int64(chunk.readableBytes)
                    report(received, info.size, have, false)
                }
            } catch {
                throw LoupeError(.network, "the connection dropped after \(received) bytes of \(file): \(error)", input: repository.id)
            }
        }
        try verify(partial, info: info, file: file, repository: repository)
        if fm.fileExists(atPath: blob.path) { try fm.removeItem(at: blob) }
        try fm.moveItem(at: partial, to: blob)
        let size = fileSize(blob) ?? 0
        report(size, size, have, true)
    }

    /// Checks the finished part against the announced size and hash; a bad part is deleted.
    private func verify(_ partial: URL, info: FileInfo, file: String, repository: HubRepository) throws {
        let size = fileSize(partial) ?? 0
        func fail(_ message: String) throws -> Never {
            try? FileManager.default.removeItem(at: partial)
            throw LoupeError(.integrity, "\(file): \(message); the partial download was deleted, run the pull again",
                             input: repository.id)
        }
        if let expected = info.size, expected != size { try fail("received \(size) bytes, expected \(expected)") }
        let digest: String
        switch info.etag.count {
        case 64: digest = try hashFile(partial, into: SHA256(), prefix: nil)
        case 40: digest = try hashFile(partial, into: Insecure.SHA1(), prefix: Data("blob \(size)\0".utf8))
        default: return  // Not a content hash (some mirrors use opaque ETags): the size check is all we have.
        }
        if digest != info.etag { try fail("content hash \(digest) does not match \(info.etag)") }
    }

    private func hashFile<H: HashFunction>(_ url: URL, into hasher: H, prefix: Data?) throws -> String {
        var hasher = hasher
        if let prefix { hasher.update(data: prefix) }
        let handle = try FileHandle(forReadingFrom: url)
        defer { try? handle.close() }
        while let chunk = try handle.read(upToCount: 1 << 20), !chunk.isEmpty { hasher.update(data: chunk) }
        return hasher.finalize().map { String(format: "%02x", $0) }.joined()
    }

    /// Points `snapshot/file` at the blob with a relative symlink, as the Hugging Face cache does.
    private func link(_ entry: URL, to blob: URL) throws {
        let fm = FileManager.default
        try fm.createDirectory(at: entry.deletingLastPathComponent(), withIntermediateDirectories: true)
        if (try? fm.destinationOfSymbolicLink(atPath: entry.path)) != nil || fm.fileExists(atPath: entry.path) {
            try fm.removeItem(at: entry)
        }
        // snapshots/<commit>/<file> → ../../blobs/<etag> (files are top-level: isNeeded takes no subfolders).
        let relative = "../../blobs/" + blob.lastPathComponent
        try fm.createSymbolicLink(atPath: entry.path, withDestinationPath: relative)
    }

    // MARK: HTTP

    private func endpointURL(_ path: String) -> URL {
        configuration.endpoint.appendingPathComponent(path)
    }

    private func send(
        method: HTTPMethod, url: URL, client: HTTPClient, repository: HubRepository, range: Int64? = nil,
        authorize: Bool = true
    ) async throws -> HTTPClientResponse {
        var request = HTTPClientRequest(url: url.absoluteString)
        request.method = method
        request.headers.add(name: "User-Agent", value: "loupe/0.1")
        if authorize, let token = configuration.token { request.headers.add(name: "Authorization", value: "Bearer \(token)") }
        if let range { request.headers.add(name: "Range", value: "bytes=\(range)-") }
        do {
            return try await client.execute(request, timeout: .seconds(60))
        } catch {
            throw LoupeError(.network, offlineAdvice(repository, reason: "\(error)"), input: repository.id)
        }
    }

    private func check(_ status: HTTPResponseStatus, url: URL, repository: HubRepository) throws {
        switch status.code {
        case 200..<300: return
        case 401, 403:
            throw LoupeError(.network, "the hub refused access (\(status.code)); for a gated or private model set HF_TOKEN",
                             input: repository.id)
        case 404:
            throw LoupeError(.notFound, "\(url.absoluteString) does not exist on the hub", input: repository.id)
        default:
            throw LoupeError(.network, "the hub answered \(status.code) \(status.reasonPhrase) for \(url.absoluteString)",
                             input: repository.id)
        }
    }

    /// What to do without network: which files to fetch by other means and where they go.
    func offlineAdvice(_ repository: HubRepository, reason: String) -> String {
        """
        cannot reach \(configuration.endpoint.absoluteString) (\(reason)). Without network, download config.json, \
        preprocessor_config.json, model.safetensors and tokenizer.json (or vocab.json and merges.txt; for SigLIP, spiece.model) from \
        \(configuration.endpoint.absoluteString)/\(repository.id) on another machine, copy them into one folder, \
        and pass it with --model FOLDER (or set HF_ENDPOINT to a reachable mirror)
        """
    }

    private func fileSize(_ url: URL) -> Int64? {
        guard let attributes = try? FileManager.default.attributesOfItem(atPath: url.path),
              (attributes[.type] as? FileAttributeType) == .typeRegular
        else { return nil }
        return (attributes[.size] as? NSNumber)?.int64Value
    }
}
