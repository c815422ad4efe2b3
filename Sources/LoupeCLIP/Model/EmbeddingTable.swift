import LoupeTensor

/// Rows of an embedding table (a token table), in memory or read on demand from a mapped checkpoint.
///
/// SigLIP 2's token table is 256,000 x 768 floats, 786 MB in fp32, of which a query reads 64 rows: kept in the
/// file's mapping, it costs a few pages per query instead of its whole size in every process. (Downloads
/// move a finished file into place, so a model being pulled again never truncates a mapped one.)
final class EmbeddingTable: @unchecked Sendable {
    private enum Storage {
        case memory([Float])
        case mapped(SafetensorsFile, SafetensorsFile.TensorInfo)
    }

    private let storage: Storage
    let width: Int

    init(values: [Float], width: Int) {
        storage = .memory(values)
        self.width = width
    }

    init(file: SafetensorsFile, tensor: SafetensorsFile.TensorInfo) {
        storage = .mapped(file, tensor)
        width = tensor.shape.last ?? 0
    }

    /// Writes row `row` (already checked against the table's rows) into `destination` (`width` floats).
    func read(row: Int, into destination: UnsafeMutablePointer<Float>) throws {
        switch storage {
        case .memory(let values):
            values.withUnsafeBufferPointer { (destination).update(from: $0.baseAddress! + row * width, count: width) }
        case .mapped(let file, let tensor):
            try file.readFloats(tensor, elements: row * width..<(row + 1) * width, into: destination)
        }
    }
}
