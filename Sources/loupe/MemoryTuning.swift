#if canImport(Glibc)
import Glibc
#endif

/// Process-wide allocator settings for the `loupe` executable (a library must not change them).
///
/// glibc serves every allocation above its mmap threshold (at most 32 MB by default) with a fresh
/// mapping, so each 12-megapixel decode (a 36 MB RGB buffer plus codec planes) page-faults in new
/// zeroed memory: about 15% of the CPU time of `loupe bench decode`. Raising the threshold and the
/// trim threshold lets freed buffers be reused (measured: 8.75 -> 9.99 images per CPU-second).
enum MemoryTuning {
    static func apply() {
        #if canImport(Glibc)
        // <malloc.h> is not part of the Glibc module, so look mallopt up in the C library.
        typealias Mallopt = @convention(c) (Int32, Int32) -> Int32
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "mallopt") else { return }
        let mallopt = unsafeBitCast(symbol, to: Mallopt.self)
        let mmapThreshold: Int32 = -3  // M_MMAP_THRESHOLD
        let trimThreshold: Int32 = -1  // M_TRIM_THRESHOLD
        _ = mallopt(mmapThreshold, 256 << 20)
        _ = mallopt(trimThreshold, 512 << 20)
        #endif
    }
}
