import Foundation
import Loupe
import LoupeMedia
import NIOPosix

/// Uploaded pictures are recognised by their bytes (`MediaFormat`, the same classifier the indexer and
/// the decoders use), never by their declared content type or file name.
enum UploadedPicture {
    /// Throws a 415 naming the upload (`name`, e.g. `'cat.heic'`) unless `data` is a picture the image
    /// decoder reads.
    static func check(_ data: Data, name: String) throws {
        switch MediaFormat.detect(data) {
        case .image:
            return
        case .video(let container):
            throw APIError.unsupportedMedia(
                "upload \(name) is a video (\(container)), not a picture; index it and search its moments instead")
        case .unsupported(let format):
            throw APIError.unsupportedMedia(
                "upload \(name) is a \(format) picture, which Loupe does not decode; send it as JPEG or PNG")
        case nil:
            let formats = ImageFormat.all.map(\.name).joined(separator: ", ")
            throw APIError.unsupportedMedia(
                "upload \(name) is not a picture Loupe reads (\(formats)); checked by content, not by name")
        }
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
