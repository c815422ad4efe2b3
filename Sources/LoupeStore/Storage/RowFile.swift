import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A snapshot of a collection's in-memory mirror: `index/<collection id>.rows`.
///
/// Opening a large collection from SQLite means reading every row's page and decoding every JSON
/// document; at 100k rows of 512-d vectors that is over a second. The writer saves this file beside
/// the graphs when it flushes, and the next process to open the directory copies it into place instead:
/// row ids, primary keys, partitions, documents (in `DocumentCodec` form, decoded only when used) and
/// the prepared vectors.
///
/// Like the graphs, the file is derived and never trusted over SQLite. It records the collection's
/// change sequence and the last row id SQLite had assigned; it is used only when SQLite's rows could
/// have come from it (same collection id, no row id past SQLite's, same schema shape). When the change
/// sequence still matches and the row count agrees, the snapshot is the collection; otherwise the opener
/// catches up as a reader does (drops rows SQLite no longer has, loads rows added since). Rows never
/// change under a row id (an upsert is a delete and an insert), so a snapshot can only be behind, never
/// wrong. A damaged file (checksum, counts, ordering) is ignored.
///
/// Layout: a header of u64s, then sections, each padded to 32 bytes: row ids; primary keys (i64s, or end offsets and UTF-8); partition names and one u32
/// per row; document end offsets and documents; the vectors of each vector field; checksum; trailer.
enum RowFile {
    static let magic: UInt64 = 0x3157_5245_5055_4F4C  // "LOUPERW1"
    static let trailer: UInt64 = 0x444E_4557_5245_4F4C  // "LOERWEND"

    static func path(_ c: CollectionState, directory: String) -> String {
        (directory as NSString).appendingPathComponent("\(c.id).rows")
    }

    static func remove(_ c: CollectionState, directory: String) { unlink(path(c, directory: directory)) }

    /// The header: what the snapshot is of.
    static func header(_ c: CollectionState, count: Int) -> [UInt64] {
        let fields = c.schema.vectorFields
        return [magic, UInt64(bitPattern: c.id), UInt64(bitPattern: c.changeSeq), UInt64(bitPattern: c.maxRidEver),
                UInt64(count), c.schema.primaryField.dataType == .int64 ? 1 : 0, UInt64(fields.count)]
            + fields.map { UInt64($0.dimension!) }
    }

    // MARK: - Saving

    /// Writes the live rows of `c` (to a temporary file, fsynced, then renamed).
    static func save(_ c: CollectionState, directory: String) throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let final = path(c, directory: directory)
        let temp = final + ".tmp"
        guard let out = SectionWriter(path: temp) else {
            throw StoreError(.storage, "cannot write row file: \(String(cString: strerror(errno)))", path: temp)
        }
        let slots = (0..<c.slotCount).filter { c.live[$0] }
        out.section(header(c, count: slots.count))
        out.section(slots.map { c.rids[$0] })
        if c.schema.primaryField.dataType == .int64 {
            out.section(slots.map { c.primaryKeys[$0].intValue ?? 0 })
        } else {
            var text: [UInt8] = []
            var ends: [Int64] = []
            for slot in slots {
                text.append(contentsOf: (c.primaryKeys[slot].stringValue ?? "").utf8)
                ends.append(Int64(text.count))
            }
            out.section(ends)
            out.section(text)
        }
        let names = c.partitions.union(slots.map { c.partitionOf[$0] }).sorted()
        let number = Dictionary(uniqueKeysWithValues: names.enumerated().map { ($1, UInt32($0)) })
        var nameBytes: [UInt8] = []
        var nameEnds: [Int64] = []
        for name in names {
            nameBytes.append(contentsOf: name.utf8)
            nameEnds.append(Int64(nameBytes.count))
        }
        out.section([Int64(names.count)])
        out.section(nameEnds)
        out.section(nameBytes)
        out.section(slots.map { number[c.partitionOf[$0]]! })
        var documents: [UInt8] = []
        var documentEnds: [Int64] = []
        documentEnds.reserveCapacity(slots.count)
        for slot in slots {
            c.documents.encoded(slot, into: &documents)
            documentEnds.append(Int64(documents.count))
        }
        out.section(documentEnds)
        out.section(documents)
        for field in c.vectors.indices {
            let bytesPerRow = c.dimension(field) * 4
            c.vectors[field].withUnsafeBytes { all in
                // Runs of consecutive live slots go out in one write each.
                var runStart = 0
                while runStart < slots.count {
                    var runEnd = runStart + 1
                    while runEnd < slots.count && slots[runEnd] == slots[runEnd - 1] + 1 { runEnd += 1 }
                    out.append(UnsafeRawBufferPointer(rebasing: all[slots[runStart] * bytesPerRow..<(slots[runEnd - 1] + 1) * bytesPerRow]))
                    runStart = runEnd
                }
            }
            out.endSection()
        }
        guard out.finish(trailer: trailer), rename(temp, final) == 0 else {
            unlink(temp)
            throw StoreError(.storage, "cannot write row file", path: final)
        }
        c.rowFileSeq = c.changeSeq
    }

    /// Streams sections to a file, each padded with zeros to a whole number of 32-byte blocks (so every
    /// section starts aligned when the file is mapped), and checksums what it writes.
    final class SectionWriter {
        private let file: UnsafeMutablePointer<FILE>
        private var checksum = IndexFileLayout.Checksum()
        private var sectionBytes = 0
        private var ok = true

        init?(path: String) {
            guard let file = fopen(path, "wb") else { return nil }
            self.file = file
        }

        func append(_ raw: UnsafeRawBufferPointer) {
            guard raw.count > 0 else { return }
            if fwrite(raw.baseAddress!, 1, raw.count, file) != raw.count { ok = false }
            checksum.update(raw)
            sectionBytes += raw.count
        }

        /// Pads the current section to a whole block.
        func endSection() {
            let padding = (32 - sectionBytes % 32) % 32
            sectionBytes = 0
            guard padding > 0 else { return }
            [UInt8](repeating: 0, count: padding).withUnsafeBytes { append($0) }
            sectionBytes = 0
        }

        func section<T>(_ array: [T]) {
            array.withUnsafeBytes { append($0) }
            endSection()
        }

        /// Writes the checksum and trailer, syncs and closes; false if anything failed.
        func finish(trailer: UInt64) -> Bool {
            endSection()
            withUnsafeBytes(of: checksum.value) { if fwrite($0.baseAddress!, 1, 8, file) != 8 { ok = false } }
            withUnsafeBytes(of: trailer) { if fwrite($0.baseAddress!, 1, 8, file) != 8 { ok = false } }
            if fflush(file) != 0 || fsync(fileno(file)) != 0 { ok = false }
            if fclose(file) != 0 { ok = false }
            return ok
        }
    }

    // MARK: - Loading

    /// What a row file held, checked and ready to install.
    struct Snapshot {
        var changeSeq: Int64
        var rids: [Int64]
        var keys: [FieldValue]
        var partitionNames: [String]
        var partitionOfRow: [UInt32]
        var documents: [UInt8]
        var documentEnds: [Int]
        var vectors: [VectorColumn]
    }

    /// Reads the row file of `c` if it exists and holds up; nil otherwise (the caller loads from SQLite).
    /// - Parameter maxRidEver: the largest row id SQLite has assigned in the collection.
    static func read(_ c: CollectionState, directory: String, maxRidEver: Int64) -> Snapshot? {
        let file = path(c, directory: directory)
        guard let mapped = MappedFile(path: file) else { return nil }
        return try? parse(mapped, c, maxRidEver: maxRidEver)
    }

    struct Damaged: Error {}

    /// Checks and reads `file`; the vectors stay in the mapping (see `VectorColumn`), the rest is copied.
    static func parse(_ file: MappedFile, _ c: CollectionState, maxRidEver: Int64) throws -> Snapshot {
        let raw = file.bytes
        guard raw.count >= 16, raw.count % 32 == 16,
              raw.loadUnaligned(fromByteOffset: raw.count - 8, as: UInt64.self) == trailer
        else { throw Damaged() }
        let body = UnsafeRawBufferPointer(rebasing: raw[0..<raw.count - 16])
        guard IndexFileLayout.checksum(body) == raw.loadUnaligned(fromByteOffset: raw.count - 16, as: UInt64.self) else {
            throw Damaged()
        }
        var reader = SectionReader(raw: body)
        let expected = header(c, count: 0)
        let head: [UInt64] = try reader.section(count: expected.count)
        // Everything but the change sequence, the last row id and the count must match this collection.
        guard head[0] == expected[0], head[1] == expected[1], Array(head[5...]) == Array(expected[5...]) else { throw Damaged() }
        let changeSeq = Int64(bitPattern: head[2]), lastRid = Int64(bitPattern: head[3])
        guard lastRid <= maxRidEver, head[4] <= UInt64(raw.count) else { throw Damaged() }
        let count = Int(head[4])
        let rids: [Int64] = try reader.section(count: count)
        for i in rids.indices where rids[i] <= (i == 0 ? 0 : rids[i - 1]) || rids[i] > lastRid { throw Damaged() }
        let keys: [FieldValue]
        if c.schema.primaryField.dataType == .int64 {
            keys = (try reader.section(count: count) as [Int64]).map { .int($0) }
        } else {
            let ends: [Int64] = try reader.section(count: count)
            let text: [UInt8] = try reader.section(count: Int(try checkedEnds(ends)))
            var start = 0
            keys = ends.map { end in
                defer { start = Int(end) }
                return .string(String(decoding: text[start..<Int(end)], as: UTF8.self))
            }
        }
        let nameCount: [Int64] = try reader.section(count: 1)
        guard nameCount[0] >= 0, nameCount[0] <= Int64(raw.count) else { throw Damaged() }
        let nameEnds: [Int64] = try reader.section(count: Int(nameCount[0]))
        let nameBytes: [UInt8] = try reader.section(count: Int(try checkedEnds(nameEnds)))
        var start = 0
        let names = nameEnds.map { end in
            defer { start = Int(end) }
            return String(decoding: nameBytes[start..<Int(end)], as: UTF8.self)
        }
        let partitionOfRow: [UInt32] = try reader.section(count: count)
        guard partitionOfRow.allSatisfy({ Int($0) < names.count }) else { throw Damaged() }
        let documentEnds: [Int64] = try reader.section(count: count)
        let documents: [UInt8] = try reader.section(count: Int(try checkedEnds(documentEnds)))
        var vectors: [VectorColumn] = []
        for field in c.schema.vectorFields.indices {
            let floats = count * c.dimension(field)
            vectors.append(VectorColumn(mapping: file, offset: try reader.skip(count: floats, of: Float.self), count: floats))
        }
        guard reader.offset == body.count else { throw Damaged() }
        return Snapshot(changeSeq: changeSeq, rids: rids, keys: keys, partitionNames: names, partitionOfRow: partitionOfRow,
                        documents: documents, documentEnds: documentEnds.map { Int($0) }, vectors: vectors)
    }

    /// The last of a list of end offsets, after checking that they never go down.
    private static func checkedEnds(_ ends: [Int64]) throws -> Int64 {
        var last: Int64 = 0
        for end in ends {
            guard end >= last else { throw Damaged() }
            last = end
        }
        return last
    }

    /// Reads padded sections, checking each against what is left.
    struct SectionReader {
        let raw: UnsafeRawBufferPointer
        var offset = 0

        mutating func section<T>(count: Int) throws -> [T] {
            let start = try skip(count: count, of: T.self)
            return [T](unsafeUninitializedCapacity: count) { buffer, initialized in
                UnsafeMutableRawBufferPointer(buffer).copyMemory(
                    from: UnsafeRawBufferPointer(rebasing: raw[start..<start + count * MemoryLayout<T>.stride]))
                initialized = count
            }
        }

        /// Steps over a section of `count` values of `T`; returns where it starts.
        mutating func skip<T>(count: Int, of _: T.Type) throws -> Int {
            guard count >= 0, count <= raw.count else { throw Damaged() }
            let bytes = count * MemoryLayout<T>.stride
            let padded = (bytes + 31) / 32 * 32
            guard padded <= raw.count - offset else { throw Damaged() }
            defer { offset += padded }
            return offset
        }
    }
}
