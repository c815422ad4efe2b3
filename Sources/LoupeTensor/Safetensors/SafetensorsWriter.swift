import Foundation

/// Writes `.safetensors` files (used for random-weight benchmarks and tests).
public enum SafetensorsWriter {
    /// A tensor to write, already encoded in its dtype's little-endian bytes.
    public struct Entry: Sendable {
        public var name: String
        public var dtype: SafetensorsFile.DType
        public var shape: [Int]
        public var bytes: Data

        public init(name: String, dtype: SafetensorsFile.DType, shape: [Int], bytes: Data) {
            self.name = name
            self.dtype = dtype
            self.shape = shape
            self.bytes = bytes
        }

        /// Encodes Float values as F32, F16 is not offered (use BF16 or F32).
        public init(name: String, shape: [Int], values: [Float], dtype: SafetensorsFile.DType = .f32) {
            self.name = name
            self.shape = shape
            self.dtype = dtype
            switch dtype {
            case .bf16:
                var data = Data(capacity: values.count * 2)
                for v in values { withUnsafeBytes(of: HalfConversion.bfloat16Bits(v).littleEndian) { data.append(contentsOf: $0) } }
                bytes = data
            default:
                self.dtype = .f32
                bytes = values.withUnsafeBufferPointer { Data(buffer: $0) }
            }
        }
    }

    /// Serialises `entries` (header, padded to 8 bytes, then data in order).
    public static func encode(_ entries: [Entry], metadata: [String: String] = [:]) throws -> Data {
        var header: [String: Any] = [:]
        if !metadata.isEmpty { header["__metadata__"] = metadata }
        var offset = 0
        for entry in entries {
            header[entry.name] = ["dtype": entry.dtype.rawValue, "shape": entry.shape,
                                  "data_offsets": [offset, offset + entry.bytes.count]]
            offset += entry.bytes.count
        }
        var headerBytes = try JSONSerialization.data(withJSONObject: header, options: [.sortedKeys])
        while headerBytes.count % 8 != 0 { headerBytes.append(0x20) }
        var out = Data()
        withUnsafeBytes(of: UInt64(headerBytes.count).littleEndian) { out.append(contentsOf: $0) }
        out.append(headerBytes)
        for entry in entries { out.append(entry.bytes) }
        return out
    }

    public static func write(_ entries: [Entry], to url: URL, metadata: [String: String] = [:]) throws {
        try encode(entries, metadata: metadata).write(to: url, options: .atomic)
    }
}
