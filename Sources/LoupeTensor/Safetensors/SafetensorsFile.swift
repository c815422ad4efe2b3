import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A memory-mapped `.safetensors` file: the header is parsed and validated once, tensors are read
/// straight from the mapping on demand.
///
/// ```swift
/// let file = try SafetensorsFile(contentsOf: url)
/// let w = try file.floats("text_projection.weight", shape: [512, 512])
/// ```
public final class SafetensorsFile: @unchecked Sendable {
    /// Element types a safetensors file may declare.
    public enum DType: String, Sendable {
        case f64 = "F64", f32 = "F32", f16 = "F16", bf16 = "BF16"
        case i64 = "I64", i32 = "I32", i16 = "I16", i8 = "I8", u8 = "U8", bool = "BOOL"
        case f8e4m3 = "F8_E4M3", f8e5m2 = "F8_E5M2", u16 = "U16", u32 = "U32", u64 = "U64"

        public var byteWidth: Int {
            switch self {
            case .f64, .i64, .u64: 8
            case .f32, .i32, .u32: 4
            case .f16, .bf16, .i16, .u16: 2
            case .i8, .u8, .bool, .f8e4m3, .f8e5m2: 1
            }
        }
    }

    /// Where one tensor lives in the file.
    public struct TensorInfo: Sendable {
        public let name: String
        public let dtype: DType
        public let shape: [Int]
        /// Byte range relative to the start of the data section.
        public let byteRange: Range<Int>
        public var elementCount: Int { shape.reduce(1, *) }
    }

    /// The file this was read from, used in every error message.
    public let path: String
    /// All tensors by name.
    public let tensors: [String: TensorInfo]
    /// The optional `__metadata__` string map.
    public let metadata: [String: String]

    private let mapping: UnsafeRawPointer
    private let mappingLength: Int
    private let dataStart: Int

    /// Maps and validates the file; throws `TensorError` naming the file and the problem.
    public init(contentsOf url: URL) throws {
        path = url.path
        let fd = open(url.path, O_RDONLY)
        guard fd >= 0 else {
            throw TensorError(.io, "cannot open: \(String(cString: strerror(errno)))", path: url.path)
        }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else {
            throw TensorError(.io, "cannot stat: \(String(cString: strerror(errno)))", path: url.path)
        }
        let length = Int(info.st_size)
        guard length >= 8 else {
            throw TensorError(.corruptFile, "file is \(length) bytes, too short for a safetensors header", path: url.path)
        }
        guard let raw = mmap(nil, length, PROT_READ, MAP_PRIVATE, fd, 0), raw != MAP_FAILED else {
            throw TensorError(.io, "cannot map: \(String(cString: strerror(errno)))", path: url.path)
        }
        mapping = UnsafeRawPointer(raw)
        mappingLength = length
        do {
            (tensors, metadata, dataStart) = try SafetensorsFile.parseHeader(mapping, length: length, path: url.path)
        } catch {
            munmap(raw, length)
            throw error
        }
    }

    deinit { munmap(UnsafeMutableRawPointer(mutating: mapping), mappingLength) }

    /// Drops the mapped pages from memory (`madvise(MADV_DONTNEED)`): once a model has packed what it read,
    /// the file's pages would otherwise stay in the process's resident set. The mapping stays valid; a
    /// later read faults its pages back in from the file.
    public func releasePages() {
        madvise(UnsafeMutableRawPointer(mutating: mapping), mappingLength, MADV_DONTNEED)
    }

    /// Drops the pages that lie wholly inside `tensor`'s bytes, once it has been read: loading a model then
    /// holds one tensor's pages at a time rather than the whole file's.
    public func releasePages(of tensor: TensorInfo) {
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        let start = dataStart + tensor.byteRange.lowerBound, end = dataStart + tensor.byteRange.upperBound
        let first = (start + page - 1) / page * page, last = min(end, mappingLength) / page * page
        guard page > 0, last > first else { return }
        madvise(UnsafeMutableRawPointer(mutating: mapping + first), last - first, MADV_DONTNEED)
    }

    /// Tensor names in file order of their data.
    public var names: [String] { tensors.values.sorted { $0.byteRange.lowerBound < $1.byteRange.lowerBound }.map(\.name) }

    /// Looks a tensor up, checking its shape when `shape` is given.
    public func info(_ name: String, shape: [Int]? = nil) throws -> TensorInfo {
        guard let tensor = tensors[name] else {
            throw TensorError(.missingTensor, "not found in the file (\(tensors.count) tensors present)",
                              path: path, tensor: name)
        }
        if let shape, shape != tensor.shape {
            throw TensorError(.shapeMismatch, "expected shape \(shape), found \(tensor.shape)", path: path, tensor: name)
        }
        return tensor
    }

    /// Reads a floating-point tensor (F32, F16 or BF16) widened to Float.
    public func floats(_ name: String, shape: [Int]? = nil) throws -> [Float] {
        let tensor = try info(name, shape: shape)
        return try [Float](unsafeUninitializedCapacity: tensor.elementCount) { buffer, count in
            try readFloats(tensor, into: buffer.baseAddress!)
            count = tensor.elementCount
        }
    }

    /// Writes a floating-point tensor widened to Float into `destination` (`elementCount` values).
    public func readFloats(_ tensor: TensorInfo, into destination: UnsafeMutablePointer<Float>) throws {
        try readFloats(tensor, elements: 0..<tensor.elementCount, into: destination)
    }

    /// Writes `elements` of a floating-point tensor (row-major order) widened to Float into `destination`:
    /// only those bytes of the mapping are touched, so reading a few rows of a large table keeps the rest
    /// of it out of memory.
    public func readFloats(_ tensor: TensorInfo, elements: Range<Int>, into destination: UnsafeMutablePointer<Float>) throws {
        guard elements.lowerBound >= 0, elements.upperBound <= tensor.elementCount else {
            throw TensorError(.shapeMismatch, "elements \(elements) lie outside the tensor's \(tensor.elementCount)",
                              path: path, tensor: tensor.name)
        }
        let source = mapping + dataStart + tensor.byteRange.lowerBound + elements.lowerBound * tensor.dtype.byteWidth
        let count = elements.count
        switch tensor.dtype {
        case .f32:
            UnsafeMutableRawPointer(destination).copyMemory(from: source, byteCount: count * 4)
        case .f16:
            for i in 0..<count {
                destination[i] = HalfConversion.float(float16: source.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self))
            }
        case .bf16:
            for i in 0..<count {
                destination[i] = HalfConversion.float(bfloat16: source.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self))
            }
        default:
            throw TensorError(.dtypeMismatch, "expected a floating-point dtype (F32, F16, BF16), found \(tensor.dtype.rawValue)",
                              path: path, tensor: tensor.name)
        }
    }

    // MARK: Header

    private static func parseHeader(
        _ base: UnsafeRawPointer, length: Int, path: String
    ) throws -> ([String: TensorInfo], [String: String], Int) {
        let headerLength = base.loadUnaligned(as: UInt64.self).littleEndian
        guard headerLength <= UInt64(length - 8) else {
            throw TensorError(.corruptFile, "header claims \(headerLength) bytes but the file has \(length - 8) after the length field",
                              path: path)
        }
        let dataStart = 8 + Int(headerLength)
        let dataLength = length - dataStart
        let headerData = Data(bytes: base + 8, count: Int(headerLength))
        let json: Any
        do {
            json = try JSONSerialization.jsonObject(with: headerData)
        } catch {
            throw TensorError(.corruptFile, "header is not valid JSON", path: path)
        }
        guard let object = json as? [String: Any] else {
            throw TensorError(.corruptFile, "header is not a JSON object", path: path)
        }
        var tensors: [String: TensorInfo] = [:]
        var metadata: [String: String] = [:]
        for (name, value) in object {
            if name == "__metadata__" {
                metadata = (value as? [String: String]) ?? [:]
                continue
            }
            guard let entry = value as? [String: Any],
                  let dtypeName = entry["dtype"] as? String,
                  let shapeValues = entry["shape"] as? [Any],
                  let offsets = entry["data_offsets"] as? [Any], offsets.count == 2
            else {
                throw TensorError(.corruptFile, "entry lacks dtype, shape or data_offsets", path: path, tensor: name)
            }
            guard let dtype = DType(rawValue: dtypeName) else {
                throw TensorError(.corruptFile, "unknown dtype \(dtypeName)", path: path, tensor: name)
            }
            let shape = shapeValues.compactMap { ($0 as? NSNumber)?.intValue }
            guard shape.count == shapeValues.count, shape.allSatisfy({ $0 >= 0 }) else {
                throw TensorError(.corruptFile, "shape \(shapeValues) is not a list of non-negative integers", path: path, tensor: name)
            }
            guard let begin = (offsets[0] as? NSNumber)?.intValue, let end = (offsets[1] as? NSNumber)?.intValue,
                  begin >= 0, begin <= end
            else {
                throw TensorError(.corruptFile, "data_offsets \(offsets) are not an increasing pair", path: path, tensor: name)
            }
            guard end <= dataLength else {
                throw TensorError(.corruptFile, "data ends at byte \(end) but the data section has only \(dataLength) bytes (truncated file?)",
                                  path: path, tensor: name)
            }
            let expected = shape.reduce(1, *) * dtype.byteWidth
            guard end - begin == expected else {
                throw TensorError(.corruptFile, "shape \(shape) of \(dtypeName) needs \(expected) bytes, data_offsets give \(end - begin)",
                                  path: path, tensor: name)
            }
            tensors[name] = TensorInfo(name: name, dtype: dtype, shape: shape, byteRange: begin..<end)
        }
        return (tensors, metadata, dataStart)
    }
}
