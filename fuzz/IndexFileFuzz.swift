// libFuzzer target for the HNSW index-file reader's checks (scripts/fuzz index-file SECONDS): whatever the
// bytes, `IndexFileLayout.parse` returns a layout whose every offset lies inside the buffer, or throws.

@_cdecl("LLVMFuzzerTestOneInput")
public func indexFileFuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let raw = UnsafeRawBufferPointer(start: data, count: size)
    for (m, stride) in [(2, 64), (4, 64), (8, 128)] {
        for verifies in [false, true] {
            guard let layout = try? IndexFileLayout.parse(raw, nodeStride: stride, m: m, expectedPrefix: nil,
                                                          verifiesChecksum: verifies)
            else { continue }
            // Read everything the loader reads, at the offsets it would use: must stay in bounds.
            var sink: Int64 = 0
            for n in 0..<layout.count {
                sink &+= raw.loadUnaligned(fromByteOffset: layout.ridsOffset + n * 8, as: Int64.self)
                sink &+= Int64(raw.loadUnaligned(fromByteOffset: layout.levelsOffset + n * 4, as: Int32.self))
                precondition(layout.blocksOffset + (n + 1) * stride <= size)
            }
            precondition(layout.upperOffset <= size - 16)
            _ = sink
        }
    }
    return 0
}
