#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A 64-byte aligned block of memory that grows on demand and is freed with its owner.
///
/// Workspaces keep one of these per intermediate so hot loops never allocate: `reserve` only
/// reallocates when a larger batch than ever before arrives.
package final class AlignedBuffer {
    package private(set) var pointer: UnsafeMutableRawPointer
    package private(set) var byteCount: Int

    package init(byteCount: Int = 0) {
        self.byteCount = 0
        self.pointer = AlignedBuffer.allocate(max(byteCount, 64))
        self.byteCount = max(byteCount, 64)
    }

    deinit { free(pointer) }

    /// Makes room for at least `bytes` bytes; the previous contents are not kept.
    package func reserve(_ bytes: Int) {
        guard bytes > byteCount else { return }
        free(pointer)
        pointer = AlignedBuffer.allocate(bytes)
        byteCount = bytes
    }

    package func floats() -> UnsafeMutablePointer<Float> {
        pointer.assumingMemoryBound(to: Float.self)
    }

    private static func allocate(_ bytes: Int) -> UnsafeMutableRawPointer {
        var raw: UnsafeMutableRawPointer?
        let rounded = (bytes + 63) & ~63
        guard posix_memalign(&raw, 64, rounded) == 0, let raw else {
            fatalError("out of memory allocating \(bytes) bytes")
        }
        return raw
    }
}
