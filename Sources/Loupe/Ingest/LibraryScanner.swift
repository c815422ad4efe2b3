import Foundation
import LoupeMedia

/// A file found while walking the folders to index.
struct ScannedFile: Sendable, Hashable {
    var url: URL
    var size: Int64
    var modified: Double
    var kind: MediaKind
}

/// Walks folders for images and videos, recognising them by their first bytes rather than by name
/// (`MediaFormat.detect`, so what is indexed is exactly what the decoders read).
struct LibraryScanner {
    /// Files that cannot be media whatever their bytes say (sidecars, databases, documents).
    private static let skippedExtensions: Set<String> = ["xmp", "json", "txt", "db", "sqlite", "md", "pdf", "html", "aae"]

    /// Every image and video under `roots` (files or folders), sorted by path; unreadable entries and
    /// pictures in formats that are recognised but not decoded (HEIC) are reported in `problems` rather
    /// than stopping the walk.
    func scan(_ roots: [URL]) -> (files: [ScannedFile], problems: [(path: String, message: String)]) {
        var files: [ScannedFile] = []
        var problems: [(String, String)] = []
        let fm = FileManager.default
        var seenRoots = Set<String>()
        // A root listed twice is walked once; a cancelled task (a cancelled job, a shutdown) stops the walk.
        for root in roots where seenRoots.insert(root.standardizedFileURL.path).inserted && !Task.isCancelled {
            var isDirectory: ObjCBool = false
            guard fm.fileExists(atPath: root.path, isDirectory: &isDirectory) else {
                problems.append((root.path, "no such file or folder"))
                continue
            }
            let candidates: [URL]
            if isDirectory.boolValue {
                guard let walker = fm.enumerator(at: root, includingPropertiesForKeys: [.isRegularFileKey],
                                                 options: [.skipsHiddenFiles, .skipsPackageDescendants])
                else {
                    problems.append((root.path, "cannot list the folder"))
                    continue
                }
                var listed: [URL] = []
                while let next = walker.nextObject(), !Task.isCancelled {
                    if let url = next as? URL { listed.append(url) }
                }
                candidates = listed
            } else {
                candidates = [root]
            }
            for url in candidates {
                if Task.isCancelled { break }
                guard !Self.skippedExtensions.contains(url.pathExtension.lowercased()) else { continue }
                guard let values = try? url.resourceValues(forKeys: [.isRegularFileKey, .fileSizeKey, .contentModificationDateKey]),
                      values.isRegularFile == true
                else { continue }
                let size = Int64(values.fileSize ?? 0)
                guard size > 0 else { continue }
                let kind: MediaKind
                switch try? MediaFormat.detect(contentsOf: url) {
                case .image: kind = .image
                case .video: kind = .video
                case .unsupported(let name):
                    problems.append((url.path, "\(name) pictures are not decoded (yet); convert them to JPEG or PNG to index them"))
                    continue
                case nil: continue
                }
                files.append(ScannedFile(url: url.standardizedFileURL, size: size,
                                         modified: values.contentModificationDate?.timeIntervalSince1970 ?? 0, kind: kind))
            }
        }
        var seen = Set<String>()
        let unique = files.filter { seen.insert($0.url.path).inserted }.sorted { $0.url.path < $1.url.path }
        return (unique, problems)
    }
}
