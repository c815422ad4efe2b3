/// The checked structure of an HNSW index file's bytes (see `IndexFile`), found before anything is copied.
///
/// Every count, level, neighbour id and offset is checked against the file's size and the graph's shape,
/// so a damaged or hostile file is reported as invalid (and the graph rebuilt from the rows) instead of
/// trapping on a conversion or reading out of bounds later. Pure: it reads only the bytes it is given, so
/// it is also the fuzz target for index files (`scripts/fuzz index-file`).
struct IndexFileLayout: Equatable {
    static let magic: UInt64 = 0x344E_4845_5055_4F4C  // "LOUPEHN4": version 4 pads the header to 128 bytes
    static let trailer: UInt64 = 0x444E_4545_5055_4F4C  // "LOUPEEND"
    /// Twelve words of header, then four reserved (zero), so the layer-0 blocks that follow start on a
    /// 64-byte boundary of the mapped file and are searched in place (`HNSWIndex.adoptBlocks`).
    static let headerWords = 16
    /// Levels above this are refused (a graph of 2^60 nodes at M=2 would not reach it).
    static let maxLevel = 64

    var count: Int
    var maxLevel: Int32
    var entryPoint: Int32
    var lastRid: Int64
    /// Byte offsets of the layer-0 blocks, the rids, the levels and the upper-layer lists.
    var blocksOffset: Int
    var ridsOffset: Int
    var levelsOffset: Int
    var upperOffset: Int

    /// Why a file is not a usable graph.
    struct Invalid: Error, Equatable, CustomStringConvertible {
        var reason: String
        var description: String { reason }
    }

    /// A checksum of `bytes` (see `Checksum`).
    static func checksum(_ bytes: UnsafeRawBufferPointer) -> UInt64 {
        var sum = Checksum()
        sum.update(bytes)
        return sum.value
    }

    /// 64-bit multiply-xor in four lanes over 32-byte blocks, then the tail bytes; fed in pieces of any size.
    struct Checksum {
        // Four independent lanes, one per 8-byte word of each 32-byte block, so the multiplies overlap
        // (one lane runs at a multiply's latency per word; four run at memory speed).
        private var lanes: (UInt64, UInt64, UInt64, UInt64) = (0xCBF2_9CE4_8422_2325, 0x8422_2325_CBF2_9CE4,
                                                                 0x9E37_79B9_7F4A_7C15, 0xC2B2_AE3D_27D4_EB4F)
        private var pending: [UInt8] = []
        private var length: UInt64 = 0
        private static let prime: UInt64 = 0x0000_0100_0000_01B3

        mutating func update(_ bytes: UnsafeRawBufferPointer) {
            length &+= UInt64(bytes.count)
            var start = 0
            if !pending.isEmpty {
                while pending.count < 32 && start < bytes.count {
                    pending.append(bytes[start])
                    start += 1
                }
                guard pending.count == 32 else { return }
                pending.withUnsafeBytes { mixBlocks($0) }
                pending.removeAll(keepingCapacity: true)
            }
            let whole = (bytes.count - start) / 32 * 32
            mixBlocks(UnsafeRawBufferPointer(rebasing: bytes[start..<start + whole]))
            for i in (start + whole)..<bytes.count { pending.append(bytes[i]) }
        }

        private mutating func mixBlocks(_ bytes: UnsafeRawBufferPointer) {
            var (a, b, c, d) = lanes
            var offset = 0
            while offset < bytes.count {
                a = (a ^ bytes.loadUnaligned(fromByteOffset: offset, as: UInt64.self)) &* Self.prime
                b = (b ^ bytes.loadUnaligned(fromByteOffset: offset + 8, as: UInt64.self)) &* Self.prime
                c = (c ^ bytes.loadUnaligned(fromByteOffset: offset + 16, as: UInt64.self)) &* Self.prime
                d = (d ^ bytes.loadUnaligned(fromByteOffset: offset + 24, as: UInt64.self)) &* Self.prime
                a ^= a >> 29
                b ^= b >> 29
                c ^= c >> 29
                d ^= d >> 29
                offset += 32
            }
            lanes = (a, b, c, d)
        }

        var value: UInt64 {
            var h = length
            for lane in [lanes.0, lanes.1, lanes.2, lanes.3] { h = ((h ^ lane) &* Self.prime) ^ (h >> 29) }
            for byte in pending { h = (h ^ UInt64(byte)) &* Self.prime }
            return h
        }
    }

    /// Checks `raw` for a graph of the given shape.
    ///
    /// - Parameters:
    ///   - nodeStride: bytes of one layer-0 block; `m`: the graph's M (layer 0 holds up to 2M neighbours).
    ///   - expectedPrefix: the first 8 header words this collection and field must have (nil skips the check).
    ///   - verifiesChecksum: false only for fuzzing, to reach the structural checks behind it.
    /// - Throws: `Invalid` with the reason.
    static func parse(_ raw: UnsafeRawBufferPointer, nodeStride: Int, m: Int, expectedPrefix: [UInt64]?,
                      verifiesChecksum: Bool = true) throws(Invalid) -> IndexFileLayout
    {
        func fail(_ reason: String) -> Invalid { Invalid(reason: reason) }
        guard nodeStride >= 4 * (1 + 2 * m), m > 0 else { throw fail("bad graph shape") }
        let headerBytes = headerWords * 8
        guard raw.count >= headerBytes + 16 else { throw fail("shorter than a header") }
        func word(_ i: Int) -> UInt64 { raw.loadUnaligned(fromByteOffset: i * 8, as: UInt64.self) }
        guard word(0) == magic else { throw fail("not a Loupe HNSW file of this version") }
        if let expectedPrefix {
            guard expectedPrefix.count == 8, (0..<8).allSatisfy({ word($0) == expectedPrefix[$0] }) else {
                throw fail("built for another collection, field or parameters")
            }
        }
        guard raw.loadUnaligned(fromByteOffset: raw.count - 8, as: UInt64.self) == trailer else { throw fail("no trailer") }
        if verifiesChecksum {
            let stored = raw.loadUnaligned(fromByteOffset: raw.count - 16, as: UInt64.self)
            guard checksum(UnsafeRawBufferPointer(rebasing: raw[0..<(raw.count - 16)])) == stored else {
                throw fail("checksum mismatch")
            }
        }
        let body = raw.count - headerBytes - 16
        // Each node needs at least its block, its rid and its level.
        let perNode = nodeStride + 12
        guard word(8) <= UInt64(body / perNode), word(8) < UInt64(Int32.max) else {
            throw fail("node count \(word(8)) does not fit the file")
        }
        let count = Int(word(8))
        let maxLevel = Int64(bitPattern: word(9))
        let entryPoint = Int64(bitPattern: word(10))
        let lastRid = Int64(bitPattern: word(11))
        if count == 0 {
            guard entryPoint == -1, maxLevel == -1 else { throw fail("an empty graph with an entry point") }
        } else {
            guard (0...Int64(Self.maxLevel)).contains(maxLevel), (0..<Int64(count)).contains(entryPoint) else {
                throw fail("entry point \(entryPoint) or top level \(maxLevel) out of range")
            }
        }
        guard lastRid >= 0 else { throw fail("negative last row id") }
        let blocksOffset = headerBytes
        let ridsOffset = blocksOffset + count * nodeStride
        let levelsOffset = ridsOffset + count * 8
        let upperOffset = levelsOffset + count * 4
        func level(_ n: Int) -> Int32 { raw.loadUnaligned(fromByteOffset: levelsOffset + n * 4, as: Int32.self) }
        func checkLinks(at offset: Int, capacity: Int, level l: Int32) throws(Invalid) {
            let linkCount = raw.loadUnaligned(fromByteOffset: offset, as: Int32.self)
            guard linkCount >= 0, Int(linkCount) <= capacity else { throw fail("a neighbour list of \(linkCount) entries") }
            for k in 0..<Int(linkCount) {
                let id = raw.loadUnaligned(fromByteOffset: offset + 4 + k * 4, as: Int32.self)
                guard id >= 0, Int(id) < count, level(Int(id)) >= l else { throw fail("neighbour \(id) is not a node of level \(l)") }
            }
        }
        for n in 0..<count {
            let l = level(n)
            guard l >= 0, Int64(l) <= maxLevel else { throw fail("node \(n) has level \(l)") }
        }
        if count > 0 { guard Int64(level(Int(entryPoint))) == maxLevel else { throw fail("the entry point is not on the top level") } }
        for n in 0..<count { try checkLinks(at: blocksOffset + n * nodeStride, capacity: 2 * m, level: 0) }
        var offset = upperOffset
        let end = raw.count - 16
        for n in 0..<count where level(n) > 0 {
            let l = Int(level(n))
            let ints = l * (1 + m)
            guard offset + ints * 4 <= end else { throw fail("upper layers run past the end") }
            for layer in 1...l { try checkLinks(at: offset + (layer - 1) * (1 + m) * 4, capacity: m, level: Int32(layer)) }
            offset += ints * 4
        }
        guard offset == end else { throw fail("\(end - offset) bytes left over") }
        return IndexFileLayout(count: count, maxLevel: Int32(maxLevel), entryPoint: Int32(entryPoint), lastRid: lastRid,
                               blocksOffset: blocksOffset, ridsOffset: ridsOffset, levelsOffset: levelsOffset,
                               upperOffset: upperOffset)
    }
}
