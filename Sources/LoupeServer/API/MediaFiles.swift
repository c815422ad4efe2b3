import Foundation
import Hummingbird
import Loupe
import LoupeMedia
import NIOCore
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

/// The file of an indexed item, opened and checked before it is served, and served from that descriptor.
///
/// The parent folder is resolved (and must lie inside the allowed roots when there are any), the file is
/// opened with `O_NOFOLLOW` relative to it, and `fstat` on the open descriptor must show a regular file
/// with the device, inode, size and modification time recorded at index time. So a file swapped after
/// indexing for a symlink, a hard link to a secret, or another file is refused, and nothing can swap it
/// between the check and the read. Errors name the item, never the file's bytes.
final class SafeMediaFile: Sendable {
    let descriptor: Int32
    let size: Int
    let contentType: String

    init(item: MediaItem, roots: [String] = []) throws {
        let name = (item.path as NSString).lastPathComponent
        let parent = (item.path as NSString).deletingLastPathComponent
        guard !name.isEmpty, name != ".", name != "..", let folder = realpath(parent, nil) else {
            throw APIError.notFound("the file of item \(item.id) is no longer at \(item.path); re-index the folder")
        }
        let resolvedParent = String(cString: folder)
        free(folder)
        if !roots.isEmpty {
            let allowed = roots.contains { root in
                let base = URL(fileURLWithPath: root).resolvingSymlinksInPath().path
                return resolvedParent == base || resolvedParent.hasPrefix(base.hasSuffix("/") ? base : base + "/")
            }
            guard allowed else {
                throw APIError(.forbidden, "outside_roots", "the file of item \(item.id) is outside the folders this server may serve")
            }
        }
        let directory = open(resolvedParent, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard directory >= 0 else {
            throw APIError.notFound("the folder of item \(item.id) cannot be opened; re-index it")
        }
        defer { close(directory) }
        let fd = openat(directory, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK)
        guard fd >= 0 else {
            switch errno {
            case ELOOP:
                throw APIError(.forbidden, "not_a_file", "the file of item \(item.id) has been replaced by a symbolic link; it is not served")
            case ENOENT:
                throw APIError.notFound("the file of item \(item.id) is no longer at \(item.path); re-index the folder")
            default:
                throw APIError(.forbidden, "unreadable", "the file of item \(item.id) cannot be opened (\(String(cString: strerror(errno))))")
            }
        }
        var status = stat()
        guard fstat(fd, &status) == 0, (status.st_mode & S_IFMT) == S_IFREG else {
            close(fd)
            throw APIError(.forbidden, "not_a_file", "the file of item \(item.id) is no longer a regular file")
        }
        let found = FileIdentity(status)
        let problem: String? = {
            if let device = item.fileDevice, let inode = item.fileInode, device != found.device || inode != found.inode {
                return "it is another file now (a different inode)"
            }
            if item.fileInode == nil && status.st_nlink > 1 {
                // Indexed before inodes were recorded: a hard link could be anything.
                return "it has \(status.st_nlink) hard links and was indexed without an inode to check"
            }
            if found.size != item.size { return "\(found.size) bytes, indexed \(item.size)" }
            if abs(found.modified - item.modified.timeIntervalSince1970) > 0.001 { return "its modification time changed" }
            return nil
        }()
        if let problem {
            close(fd)
            throw APIError(.conflict, "changed_on_disk",
                           "the file of item \(item.id) changed on disk since it was indexed (\(problem)); re-index it")
        }
        descriptor = fd
        size = Int(status.st_size)
        contentType = Self.contentType(path: item.path, kind: item.kind)
    }

    deinit { close(descriptor) }

    /// A path that opens this very descriptor (Linux's `/proc/self/fd`), for decoders that take a path.
    var openedPath: String {
        #if os(Linux)
        return "/proc/self/fd/\(descriptor)"
        #else
        return "/dev/fd/\(descriptor)"
        #endif
    }

    /// Bytes `range` of the file, read from the descriptor in chunks off the event loops.
    func body(range: ClosedRange<Int>? = nil, chunkSize: Int = 256 * 1024) -> ResponseBody {
        let lower = range?.lowerBound ?? 0
        let upper = range.map { $0.upperBound + 1 } ?? size
        return ResponseBody(contentLength: upper - lower) { writer in
            var offset = lower
            while offset < upper {
                let count = min(chunkSize, upper - offset)
                let start = offset
                let buffer = try await NIOThreadPool.singleton.runIfActive { () throws -> ByteBuffer in
                    var buffer = ByteBufferAllocator().buffer(capacity: count)
                    let read = buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: count) { raw in
                        max(0, pread(self.descriptor, raw.baseAddress, count, off_t(start)))
                    }
                    guard read > 0 else { throw APIError(.internalServerError, "read_failed", "the file ended early") }
                    return buffer
                }
                offset += buffer.readableBytes
                try await writer.write(buffer)
            }
            try await writer.finish(nil)
        }
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

    /// The preview of `item`, decoded from `file` (the checked descriptor, not the path). A file that does
    /// not decode gives an error that names the item, never the decoder's message (which may quote bytes).
    func jpeg(for item: MediaItem, from checked: SafeMediaFile, longestSide: Int) async throws -> [UInt8] {
        let time = item.kind == .video ? String(format: "-%.2f", item.thumbnailTime ?? item.start ?? 0) : ""
        let key = "\(item.sha256.isEmpty ? String(item.id) : item.sha256)\(time)-\(longestSide)"
        let file = directory.appendingPathComponent(String(key.prefix(2))).appendingPathComponent(key + ".jpg")
        if let cached = FileManager.default.contents(atPath: file.path) { return [UInt8](cached) }
        let library = library
        var opened = item
        opened.path = checked.openedPath
        let source = opened
        let data: Data
        do {
            data = try await NIOThreadPool.singleton.runIfActive {
                try withExtendedLifetime(checked) {
                    try ImageEncoder.encode(try library.preview(of: source, longestSide: longestSide), as: .jpeg(quality: 85))
                }
            }
        } catch let error as MediaError {
            throw APIError(.unprocessableContent, "undecodable",
                           "item \(item.id) has no preview: its file could not be decoded (\(error.code))")
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
