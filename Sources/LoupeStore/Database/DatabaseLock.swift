import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An advisory lock on a database directory, held for as long as a client has it open for writing.
///
/// The lock file holds the owner's pid, so a second writer learns who has it: `locked by pid 4242`.
/// `flock` locks are released by the kernel when the process dies, so a crashed writer never leaves
/// a stale lock behind.
final class DatabaseLock: @unchecked Sendable {
    let path: String
    private var descriptor: Int32

    init(directory: String) throws {
        path = (directory as NSString).appendingPathComponent("LOCK")
        descriptor = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else {
            throw StoreError(.storage, "cannot open lock file: \(String(cString: strerror(errno)))", path: path)
        }
        if flock(descriptor, LOCK_EX | LOCK_NB) != 0 {
            let owner = Self.readOwner(descriptor)
            close(descriptor)
            descriptor = -1
            throw StoreError(.locked, "database is locked by pid \(owner.map(String.init) ?? "unknown") (another writer has it open)",
                             path: directory)
        }
        let text = "\(getpid())\n"
        _ = ftruncate(descriptor, 0)
        _ = text.withCString { pwrite(descriptor, $0, strlen($0), 0) }
        _ = fsync(descriptor)
    }

    private static func readOwner(_ fd: Int32) -> Int32? {
        var buffer = [UInt8](repeating: 0, count: 32)
        let n = pread(fd, &buffer, 31, 0)
        guard n > 0 else { return nil }
        return Int32(String(decoding: buffer[0..<n], as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines))
    }

    /// Releases the lock (also done on deinit).
    func release() {
        guard descriptor >= 0 else { return }
        _ = flock(descriptor, LOCK_UN)
        close(descriptor)
        descriptor = -1
    }

    deinit { release() }
}
