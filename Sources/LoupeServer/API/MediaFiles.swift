import Foundation
import Loupe
import LoupeMedia
import NIOPosix

/// Recognises uploaded pictures by their first bytes; the declared content type and name are ignored.
enum UploadSniffer {
    static func imageFormat(_ data: Data) -> String? {
        let b = [UInt8](data.prefix(32))
        func starts(_ prefix: [UInt8], at offset: Int = 0) -> Bool {
            b.count >= offset + prefix.count && Array(b[offset..<offset + prefix.count]) == prefix
        }
        if starts([0xFF, 0xD8, 0xFF]) { return "jpeg" }
        if starts([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) { return "png" }
        if starts(Array("GIF87a".utf8)) || starts(Array("GIF89a".utf8)) { return "gif" }
        if starts(Array("RIFF".utf8)) && starts(Array("WEBP".utf8), at: 8) { return "webp" }
        if starts(Array("BM".utf8)) { return "bmp" }
        if starts([0x49, 0x49, 0x2A, 0x00]) || starts([0x4D, 0x4D, 0x00, 0x2A]) { return "tiff" }
        if starts(Array("ftyp".utf8), at: 4) {
            let brand = String(decoding: b.count >= 12 ? b[8..<12] : [], as: UTF8.self)
            if ["heic", "heix", "hevc", "mif1", "msf1", "avif", "avis"].contains(brand) { return "heif" }
        }
        if b.count >= 2, b[0] == UInt8(ascii: "P"), (UInt8(ascii: "1")...UInt8(ascii: "6")).contains(b[1]) { return "pnm" }
        return nil
    }
}

/// The file of an indexed item, checked before it is served: it must still be a regular file (after
/// following links) of the indexed size and of the indexed kind. A file swapped for a link to something
/// else after indexing is refused.
struct SafeMediaFile {
    let path: String
    let size: Int
    let contentType: String

    init(item: MediaItem) throws {
        let resolved = URL(fileURLWithPath: item.path).resolvingSymlinksInPath().path
        var status = stat()
        guard stat(resolved, &status) == 0 else {
            throw APIError.notFound("the file of item \(item.id) is no longer at \(item.path); re-index the folder")
        }
        guard (status.st_mode & S_IFMT) == S_IFREG else {
            throw APIError(.forbidden, "not_a_file", "the file of item \(item.id) is no longer a regular file")
        }
        guard Int64(status.st_size) == item.size else {
            throw APIError(.conflict, "changed_on_disk",
                           "the file of item \(item.id) changed on disk since it was indexed (\(status.st_size) bytes, indexed \(item.size)); re-index it")
        }
        path = resolved
        size = Int(status.st_size)
        contentType = Self.contentType(path: resolved, kind: item.kind)
    }

    static func contentType(path: String, kind: MediaKind) -> String {
        let types = [
            "jpg": "image/jpeg", "jpeg": "image/jpeg", "png": "image/png", "gif": "image/gif", "webp": "image/webp",
            "bmp": "image/bmp", "tif": "image/tiff", "tiff": "image/tiff", "heic": "image/heic", "avif": "image/avif",
            "mp4": "video/mp4", "m4v": "video/mp4", "mov": "video/quicktime", "webm": "video/webm",
            "mkv": "video/x-matroska", "avi": "video/x-msvideo",
        ]
        let ext = (path as NSString).pathExtension.lowercased()
        return types[ext] ?? (kind == .video ? "video/mp4" : "application/octet-stream")
    }
}

/// A single `Range: bytes=...` request resolved against a file size (multiple ranges are not served).
enum ByteRange {
    static func parse(header: String, size: Int) -> ClosedRange<Int>? {
        let text = header.trimmingCharacters(in: .whitespaces)
        guard size > 0, text.lowercased().hasPrefix("bytes="), !text.contains(",") else { return nil }
        let spec = text.dropFirst("bytes=".count)
        let bounds = spec.split(separator: "-", maxSplits: 1, omittingEmptySubsequences: false)
        guard bounds.count == 2 else { return nil }
        if bounds[0].isEmpty {
            guard let suffix = Int(bounds[1]), suffix > 0 else { return nil }
            return max(0, size - suffix)...(size - 1)
        }
        guard let start = Int(bounds[0]), start >= 0, start < size else { return nil }
        if bounds[1].isEmpty { return start...(size - 1) }
        guard let end = Int(bounds[1]), end >= start else { return nil }
        return start...min(end, size - 1)
    }
}

/// JPEG previews of items, made off the event loops and kept on disk by content hash, moment and size.
final class ThumbnailCache: Sendable {
    private let library: MediaLibrary
    private let directory: URL

    init(library: MediaLibrary, directory: URL) {
        self.library = library
        self.directory = directory
    }

    func jpeg(for item: MediaItem, longestSide: Int) async throws -> [UInt8] {
        let time = item.kind == .video ? String(format: "-%.2f", item.thumbnailTime ?? item.start ?? 0) : ""
        let key = "\(item.sha256.isEmpty ? String(item.id) : item.sha256)\(time)-\(longestSide)"
        let file = directory.appendingPathComponent(String(key.prefix(2))).appendingPathComponent(key + ".jpg")
        if let cached = FileManager.default.contents(atPath: file.path) { return [UInt8](cached) }
        let library = library
        let data = try await NIOThreadPool.singleton.runIfActive {
            try ImageEncoder.encode(try library.preview(of: item, longestSide: longestSide), as: .jpeg(quality: 85))
        }
        do {
            try FileManager.default.createDirectory(at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
            try data.write(to: file, options: .atomic)
        } catch {
            // A cache that cannot be written only costs time.
        }
        return [UInt8](data)
    }
}
