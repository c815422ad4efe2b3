import Foundation
import LoupeStore

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// What identifies the exact file that was indexed: device, inode, size and modification time.
///
/// Recorded at index time and compared with `fstat` on an opened descriptor before a file is served, so
/// a file swapped for another (a symlink, a hard link to a secret, a different file of the same size)
/// after indexing is refused.
public struct FileIdentity: Sendable, Hashable {
    public var device: UInt64
    public var inode: UInt64
    public var size: Int64
    /// Seconds since 1970 (with the nanoseconds the file system keeps).
    public var modified: Double

    public init(device: UInt64, inode: UInt64, size: Int64, modified: Double) {
        self.device = device
        self.inode = inode
        self.size = size
        self.modified = modified
    }

    /// The identity in a `stat` result.
    public init(_ status: stat) {
        device = UInt64(truncatingIfNeeded: status.st_dev)
        inode = UInt64(truncatingIfNeeded: status.st_ino)
        size = Int64(status.st_size)
        #if canImport(Darwin)
        modified = Double(status.st_mtimespec.tv_sec) + Double(status.st_mtimespec.tv_nsec) / 1e9
        #else
        modified = Double(status.st_mtim.tv_sec) + Double(status.st_mtim.tv_nsec) / 1e9
        #endif
    }

    /// The identity of the file at `path` itself (a symlink is not followed), or nil when it cannot be read.
    public static func of(path: String) -> FileIdentity? {
        var status = stat()
        guard lstat(path, &status) == 0, (status.st_mode & S_IFMT) == S_IFREG else { return nil }
        return FileIdentity(status)
    }

    /// Dynamic fields of the media row that hold the device and inode (size and mtime have their own columns).
    static let deviceKey = "file_dev"
    static let inodeKey = "file_ino"

    /// Adds the device and inode to a media row.
    func record(into row: inout Row) {
        row[Self.deviceKey] = .int(Int64(bitPattern: device))
        row[Self.inodeKey] = .int(Int64(bitPattern: inode))
    }
}
