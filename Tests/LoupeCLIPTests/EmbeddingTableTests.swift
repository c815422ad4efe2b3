import Foundation
import LoupeTensor
import Testing
@testable import LoupeCLIP

/// Token tables stay in the checkpoint's mapping and are read a row at a time.
@Suite("Embedding tables read from the mapped checkpoint")
struct EmbeddingTableTests {
    @Test("rows read from F32, F16 and BF16 tables equal the widened whole tensor, and bad rows are refused", arguments: [
        SafetensorsFile.DType.f32, .f16, .bf16,
    ])
    func rows(dtype: SafetensorsFile.DType) throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("loupe-table-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let (rows, width) = (37, 12)
        let values = (0..<(rows * width)).map { Float(($0 * 2_654_435_761) % 1000) / 250 - 2 }
        var entry = SafetensorsWriter.Entry(name: "table", shape: [rows, width], values: values, dtype: dtype)
        if dtype == .f16 {
            // The writer has no F16 encoder: write the half-precision bytes here.
            var bytes = Data(capacity: values.count * 2)
            for v in values { withUnsafeBytes(of: Float16(v).bitPattern.littleEndian) { bytes.append(contentsOf: $0) } }
            entry = SafetensorsWriter.Entry(name: "table", dtype: .f16, shape: [rows, width], bytes: bytes)
        }
        #expect(entry.dtype == dtype)
        try SafetensorsWriter.write([entry], to: folder.appendingPathComponent("model.safetensors"))
        let weights = try CheckpointWeights(directory: folder)
        let whole = try weights.floats("table", shape: [rows, width])
        let table = try weights.table("table", shape: [rows, width])
        #expect(table.width == width)
        var row = [Float](repeating: .nan, count: width)
        for index in [0, 1, 17, rows - 1] {
            try row.withUnsafeMutableBufferPointer { try table.read(row: index, into: $0.baseAddress!) }
            #expect(row == Array(whole[index * width..<(index + 1) * width]), "row \(index) in \(dtype)")
        }
        weights.releasePages()
        try row.withUnsafeMutableBufferPointer { try table.read(row: 5, into: $0.baseAddress!) }
        #expect(row == Array(whole[5 * width..<6 * width]), "a row read after the pages were released")
        #expect(throws: TensorError.self) {
            try row.withUnsafeMutableBufferPointer { try table.read(row: rows, into: $0.baseAddress!) }
        }
        #expect(throws: TensorError.self) { try weights.table("table", shape: [rows, width + 1]) }
    }
}
