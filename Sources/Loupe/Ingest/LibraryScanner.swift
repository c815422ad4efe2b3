import Foundation

/// A file found while walking the folders to index.
struct ScannedFile: Sendable, Hashable {
    var url: URL
    var size: Int64
    var modified: Double
    var kind: MediaKind
}

/// Walks folders for images and videos, recognising them by their first bytes rather than by name.
struct LibraryScanner {
    /// Files that cannot be media whatever their bytes say (sidecars, databases, documents).
    private static let skippedExtensions: Set<String> = ["xmp", "json", "txt", "db", "sqlite", "md", "pdf", "html", "aae"]

    /// Every image and video under `roots` (files or folders), sorted by path; unreadable entries are
    /// reported in `problems` rather than stopping the walk.
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
                guard let kind = Self.sniff(url) else { continue }
                files.append(ScannedFile(url: url.standardizedFileURL, size: size,
                                         modified: values.contentModificationDate?.timeIntervalSince1970 ?? 0, kind: kind))
            }
        }
        var seen = Set<String>()
        let unique = files.filter { seen.insert($0.url.path).inserted }.sorted { $0.url.path < $1.url.path }
        return (unique, problems)
    }

    /// The media kind from a file's signature, or nil when it is neither a known image nor a video container.
    static func sniff(_ url: URL) -> MediaKind? {
        guard let handle = try? FileHandle(forReadingFrom: url) else { return nil }
        defer { try? handle.close() }
        guard let head = try? handle.read(upToCount: 32), head.count >= 4 else { return nil }
        return sniff(head)
    }

    static func sniff(_ head: Data) -> MediaKind? {
        let b = [UInt8](head)
        func starts(_ prefix: [UInt8], at offset: Int = 0) -> Bool {
            b.count >= offset + prefix.count && Array(b[offset..<(offset + prefix.count)]) == prefix
        }
        func ascii(_ text: String, at offset: Int = 0) -> Bool { starts(Array(text.utf8), at: offset) }
        // Images.
        if starts([0xFF, 0xD8, 0xFF]) || starts([0x89, 0x50, 0x4E, 0x47]) || ascii("GIF8") || ascii("BM")
            || starts([0x49, 0x49, 0x2A, 0x00]) || starts([0x4D, 0x4D, 0x00, 0x2A])
            || (ascii("RIFF") && ascii("WEBP", at: 8)) || ascii("P6") || ascii("P5") || ascii("P3")
            || (ascii("ftyp", at: 4) && (ascii("avif", at: 8) || ascii("heic", at: 8) || ascii("mif1", at: 8)))
        {
            return .image
        }
        // Videos: ISO base media (MP4, MOV, M4V, 3GP), Matroska/WebM, AVI, MPEG-PS, FLV, Ogg. (MPEG-TS has only a
        // one-byte signature, too weak to tell from text.)
        if ascii("ftyp", at: 4) || ascii("moov", at: 4) || ascii("mdat", at: 4) || ascii("wide", at: 4)
            || starts([0x1A, 0x45, 0xDF, 0xA3]) || (ascii("RIFF") && ascii("AVI ", at: 8)) || ascii("FLV")
            || starts([0x00, 0x00, 0x01, 0xBA]) || ascii("OggS")
        {
            return .video
        }
        return nil
    }
}
