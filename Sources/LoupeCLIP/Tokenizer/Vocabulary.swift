/// A BPE vocabulary: token spellings, as UTF-8 bytes, mapped to ids.
///
/// All spellings live in one flat buffer behind an open-addressing hash table, which makes
/// loading 49,408 tokens and resolving 48,894 merges take a few milliseconds. Spellings are
/// compared byte for byte, as Python compares strings by code point; Swift's `String`
/// equality would treat canonically equivalent spellings as one token.
struct Vocabulary: Sendable {
    private var storage: [UInt8] = []
    private var entries: [Entry] = []
    /// Indices into `entries`, or -1 for an empty slot. The count is a power of two.
    private var slots: [Int32]

    private struct Entry: Sendable {
        var offset: Int32
        var length: Int32
        var id: Int32
    }

    /// The number of distinct spellings.
    var count: Int { entries.count }

    init(minimumCapacity: Int = 0) {
        var slotCount = 16
        while slotCount < minimumCapacity * 2 { slotCount *= 2 }
        slots = Array(repeating: -1, count: slotCount)
        entries.reserveCapacity(minimumCapacity)
        storage.reserveCapacity(minimumCapacity * 8)
    }

    /// Maps `token` to `id`, replacing the id of an existing spelling (a later duplicate
    /// key wins, as in Python's `json`).
    mutating func insert(_ token: some Collection<UInt8>, id: Int32) {
        if entries.count * 2 >= slots.count { grow() }
        let hash = Self.hash(token, [UInt8]())
        var slot = hash & (slots.count - 1)
        while slots[slot] >= 0 {
            let index = Int(slots[slot])
            if matches(entries[index], token, [UInt8]()) {
                entries[index].id = id
                return
            }
            slot = (slot + 1) & (slots.count - 1)
        }
        slots[slot] = Int32(entries.count)
        entries.append(Entry(offset: Int32(storage.count), length: Int32(token.count), id: id))
        storage.append(contentsOf: token)
    }

    /// The id of `token`.
    func id(of token: some Collection<UInt8>) -> Int32? {
        id(of: token, followedBy: [UInt8]())
    }

    /// The id of the token spelled `prefix` immediately followed by `suffix`.
    func id(of prefix: some Collection<UInt8>, followedBy suffix: some Collection<UInt8>) -> Int32? {
        var slot = Self.hash(prefix, suffix) & (slots.count - 1)
        while slots[slot] >= 0 {
            let entry = entries[Int(slots[slot])]
            if matches(entry, prefix, suffix) { return entry.id }
            slot = (slot + 1) & (slots.count - 1)
        }
        return nil
    }

    /// The id of a token given as a string.
    func id(of token: String) -> Int32? {
        id(of: Array(token.utf8))
    }

    private func matches(
        _ entry: Entry, _ prefix: some Collection<UInt8>, _ suffix: some Collection<UInt8>
    ) -> Bool {
        guard Int(entry.length) == prefix.count + suffix.count else { return false }
        let start = Int(entry.offset)
        let middle = start + prefix.count
        return storage[start..<middle].elementsEqual(prefix)
            && storage[middle..<(start + Int(entry.length))].elementsEqual(suffix)
    }

    private mutating func grow() {
        slots = Array(repeating: -1, count: slots.count * 2)
        for (index, entry) in entries.enumerated() {
            let start = Int(entry.offset)
            let bytes = storage[start..<(start + Int(entry.length))]
            var slot = Self.hash(bytes, [UInt8]()) & (slots.count - 1)
            while slots[slot] >= 0 { slot = (slot + 1) & (slots.count - 1) }
            slots[slot] = Int32(index)
        }
    }

    /// 64-bit FNV-1a over the concatenation of `prefix` and `suffix`.
    private static func hash(_ prefix: some Collection<UInt8>, _ suffix: some Collection<UInt8>) -> Int {
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325
        for byte in prefix {
            hash = (hash ^ UInt64(byte)) &* 0x100_0000_01B3
        }
        for byte in suffix {
            hash = (hash ^ UInt64(byte)) &* 0x100_0000_01B3
        }
        // Fold the high bits in: the table index uses only the low ones.
        return Int(truncatingIfNeeded: hash ^ (hash >> 29))
    }
}
