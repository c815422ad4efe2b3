/// One vector field's fp32 values for every slot, `count / dimension` rows back to back.
///
/// A value type, like the array it replaces: a graph build on another thread keeps reading the values
/// it was given while the collection appends. The values are either owned, or a read-only region of a
/// mapped row file (`RowFile`): opening a 100k-row, 512-d collection then costs page-table entries
/// instead of a 200 MB copy, and a process that only searches never copies them at all. The first
/// change copies a mapped column into memory of its own.
struct VectorColumn: @unchecked Sendable {
    private var owned: [Float] = []
    /// The mapped file and where in it the values are; nil for an owned column.
    private var mapped: (file: MappedFile, values: UnsafeBufferPointer<Float>)?

    init() {}

    /// A column that reads `count` floats at `offset` of `file` (4-byte aligned) without copying them.
    init(mapping file: MappedFile, offset: Int, count: Int) {
        precondition(offset % MemoryLayout<Float>.alignment == 0 && offset + count * 4 <= file.bytes.count)
        let start = (file.bytes.baseAddress! + offset).assumingMemoryBound(to: Float.self)
        mapped = (file, UnsafeBufferPointer(start: start, count: count))
    }

    /// Whether the values are still the mapped file's (for tests).
    var isMapped: Bool { mapped != nil }

    var count: Int { mapped?.values.count ?? owned.count }

    func withUnsafeBufferPointer<R>(_ body: (UnsafeBufferPointer<Float>) throws -> R) rethrows -> R {
        if let mapped { return try body(mapped.values) }
        return try owned.withUnsafeBufferPointer(body)
    }

    func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try withUnsafeBufferPointer { try body(UnsafeRawBufferPointer($0)) }
    }

    /// Copies mapped values into owned memory, once, before the first change.
    private mutating func own(reservingExtra extra: Int) {
        guard let values = mapped?.values else { return }
        owned.reserveCapacity(values.count + extra)
        owned.append(contentsOf: values)
        mapped = nil
    }

    mutating func append(contentsOf values: UnsafeBufferPointer<Float>) {
        own(reservingExtra: values.count)
        owned.append(contentsOf: values)
    }

    mutating func append(contentsOf values: [Float]) {
        values.withUnsafeBufferPointer { append(contentsOf: $0) }
    }

    mutating func withUnsafeMutableBufferPointer<R>(_ body: (inout UnsafeMutableBufferPointer<Float>) throws -> R) rethrows -> R {
        own(reservingExtra: 0)
        return try owned.withUnsafeMutableBufferPointer(body)
    }

    /// Drops the values from `start` on.
    mutating func truncate(to start: Int) {
        guard start < count else { return }
        own(reservingExtra: 0)
        owned.removeSubrange(start...)
    }
}
