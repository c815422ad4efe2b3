import Foundation

/// Where downloaded models live, in the Hugging Face hub cache layout so models already fetched by
/// Python tools are reused and Loupe's downloads serve them too:
///
/// ```
/// <root>/models--openai--clip-vit-base-patch32/
///     refs/main                      the commit that `main` pointed to
///     blobs/<etag>                   file contents, named by their hash
///     snapshots/<commit>/config.json symlinks into blobs
/// ```
public struct ModelCache: Sendable {
    public let root: URL

    public init(root: URL) {
        self.root = root
    }

    /// The cache Hugging Face tools use: `$HF_HUB_CACHE`, else `$HF_HOME/hub`, else `~/.cache/huggingface/hub`.
    public static func standard(environment: [String: String] = ProcessInfo.processInfo.environment) -> ModelCache {
        if let hub = environment["HF_HUB_CACHE"], !hub.isEmpty { return ModelCache(root: URL(fileURLWithPath: hub)) }
        if let home = environment["HF_HOME"], !home.isEmpty {
            return ModelCache(root: URL(fileURLWithPath: home).appendingPathComponent("hub"))
        }
        let base = environment["XDG_CACHE_HOME"].flatMap { $0.isEmpty ? nil : URL(fileURLWithPath: $0) }
            ?? FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(".cache")
        return ModelCache(root: base.appendingPathComponent("huggingface/hub"))
    }

    /// A model present in the cache.
    public struct Entry: Sendable, Equatable {
        public var repository: HubRepository
        /// The snapshot `main` (or the newest snapshot) resolves to.
        public var snapshot: URL
        public var revision: String
        /// Bytes of the blobs this repository holds.
        public var byteCount: Int64
    }

    func repositoryFolder(_ repository: HubRepository) -> URL {
        root.appendingPathComponent(repository.cacheFolderName)
    }

    func blobURL(_ repository: HubRepository, etag: String) -> URL {
        repositoryFolder(repository).appendingPathComponent("blobs").appendingPathComponent(etag)
    }

    func snapshotFolder(_ repository: HubRepository, commit: String) -> URL {
        repositoryFolder(repository).appendingPathComponent("snapshots").appendingPathComponent(commit)
    }

    /// The snapshot directory of `repository` at `revision` (a branch in `refs/` or a commit), if cached.
    public func snapshot(_ repository: HubRepository, revision: String = "main") -> URL? {
        let folder = repositoryFolder(repository)
        let refFile = folder.appendingPathComponent("refs").appendingPathComponent(revision)
        let commit = (try? String(contentsOf: refFile, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines)
            ?? revision
        let snapshot = snapshotFolder(repository, commit: commit)
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: snapshot.path, isDirectory: &isDirectory), isDirectory.boolValue else {
            return nil
        }
        return snapshot
    }

    /// Every repository in the cache that has a snapshot, sorted by id.
    public func entries() -> [Entry] {
        let fm = FileManager.default
        guard let folders = try? fm.contentsOfDirectory(atPath: root.path) else { return [] }
        return folders.sorted().compactMap { folder -> Entry? in
            guard folder.hasPrefix("models--") else { return nil }
            let parts = folder.dropFirst("models--".count).components(separatedBy: "--")
            guard parts.count == 2, let repository = try? HubRepository("\(parts[0])/\(parts[1])") else { return nil }
            var snapshot = self.snapshot(repository)
            var revision = "main"
            if snapshot == nil {
                let snapshots = repositoryFolder(repository).appendingPathComponent("snapshots")
                if let newest = (try? fm.contentsOfDirectory(at: snapshots, includingPropertiesForKeys: [.contentModificationDateKey]))?
                    .max(by: { modified($0) < modified($1) })
                {
                    snapshot = newest
                    revision = newest.lastPathComponent
                }
            }
            guard let snapshot else { return nil }
            return Entry(repository: repository, snapshot: snapshot, revision: revision,
                         byteCount: blobBytes(repository))
        }
    }

    /// Deletes everything cached for `repository`; returns the bytes freed.
    @discardableResult
    public func remove(_ repository: HubRepository) throws -> Int64 {
        let folder = repositoryFolder(repository)
        guard FileManager.default.fileExists(atPath: folder.path) else {
            throw LoupeError(.invalidArgument, "not in the model cache at \(root.path)", input: repository.id)
        }
        let bytes = blobBytes(repository)
        try FileManager.default.removeItem(at: folder)
        return bytes
    }

    private func blobBytes(_ repository: HubRepository) -> Int64 {
        let blobs = repositoryFolder(repository).appendingPathComponent("blobs")
        let files = (try? FileManager.default.contentsOfDirectory(at: blobs, includingPropertiesForKeys: [.fileSizeKey])) ?? []
        return files.reduce(Int64(0)) { $0 + Int64((try? $1.resourceValues(forKeys: [.fileSizeKey]).fileSize) ?? 0) }
    }

    private func modified(_ url: URL) -> Date {
        (try? url.resourceValues(forKeys: [.contentModificationDateKey]).contentModificationDate) ?? .distantPast
    }
}
