import Foundation
import Testing
@testable import LoupeTensor

@Suite("SafetensorsFile")
struct SafetensorsFileTests {
    let directory: URL

    init() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("loupe-st-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    private func write(_ data: Data, _ name: String) throws -> URL {
        let url = directory.appendingPathComponent(name)
        try data.write(to: url)
        return url
    }

    @Test("reads F32, F16 and BF16 tensors back as Float")
    func readsFloatTypes() throws {
        let values: [Float] = [1, -2.5, 0.375, 65504, 1e-3, 0]
        var f16 = Data()
        for bits: UInt16 in [0x3C00, 0xC100, 0x3600, 0x7BFF, 0x1419, 0x0000] {
            withUnsafeBytes(of: bits.littleEndian) { f16.append(contentsOf: $0) }
        }
        let data = try SafetensorsWriter.encode([
            .init(name: "a", shape: [2, 3], values: values),
            .init(name: "b", shape: [3, 2], values: values, dtype: .bf16),
            .init(name: "c", dtype: .f16, shape: [6], bytes: f16),
        ], metadata: ["format": "pt"])
        let file = try SafetensorsFile(contentsOf: try write(data, "ok.safetensors"))
        #expect(try file.floats("a", shape: [2, 3]) == values)
        #expect(try file.floats("b") == roundedToBFloat16(values))
        let half = try file.floats("c")
        #expect(half[0] == 1 && half[1] == -2.5 && half[2] == 0.375 && half[3] == 65504)
        #expect(abs(half[4] - 1e-3) < 1e-6)
        #expect(file.metadata["format"] == "pt")
        #expect(file.names == ["a", "b", "c"])
    }

    @Test("a wrong shape names the file, the tensor, and expected versus found")
    func shapeMismatch() throws {
        let data = try SafetensorsWriter.encode([.init(name: "w", shape: [4, 2], values: Array(repeating: 0, count: 8))])
        let url = try write(data, "shape.safetensors")
        let file = try SafetensorsFile(contentsOf: url)
        let error = try #require(throws: TensorError.self) { try file.floats("w", shape: [2, 4]) }
        #expect(error.code == .shapeMismatch)
        #expect(error.path == url.path)
        #expect(error.tensor == "w")
        #expect(error.description.contains("expected shape [2, 4], found [4, 2]"))
    }

    @Test("a missing tensor and a non-float dtype are reported by name")
    func missingAndDtype() throws {
        let ints = Data(count: 16)
        let data = try SafetensorsWriter.encode([.init(name: "ids", dtype: .i64, shape: [2], bytes: ints)])
        let file = try SafetensorsFile(contentsOf: try write(data, "ids.safetensors"))
        let missing = try #require(throws: TensorError.self) { try file.floats("nope") }
        #expect(missing.code == .missingTensor && missing.tensor == "nope")
        let dtype = try #require(throws: TensorError.self) { try file.floats("ids") }
        #expect(dtype.code == .dtypeMismatch && dtype.description.contains("I64"))
    }

    @Test("corrupt files are refused with a reason", arguments: ["empty", "short", "hugeHeader", "badJSON", "truncated",
                                                               "sizeMismatch", "badDtype", "notObject"])
    func corrupt(kind: String) throws {
        let good = try SafetensorsWriter.encode([.init(name: "w", shape: [4], values: [1, 2, 3, 4])])
        func withHeader(_ json: String, data: Data = Data(count: 16)) -> Data {
            var out = Data()
            let header = Data(json.utf8)
            withUnsafeBytes(of: UInt64(header.count).littleEndian) { out.append(contentsOf: $0) }
            return out + header + data
        }
        let bytes: Data = switch kind {
        case "empty": Data()
        case "short": Data([1, 2, 3])
        case "hugeHeader": Data(repeating: 0xFF, count: 8) + Data("{}".utf8)
        case "badJSON": withHeader("{\"w\": [")
        case "truncated": good.prefix(good.count - 4)
        case "sizeMismatch": withHeader(#"{"w":{"dtype":"F32","shape":[5],"data_offsets":[0,16]}}"#)
        case "badDtype": withHeader(#"{"w":{"dtype":"Q7","shape":[4],"data_offsets":[0,16]}}"#)
        default: withHeader("[1, 2]")
        }
        let url = try write(bytes, "\(kind).safetensors")
        let error = try #require(throws: TensorError.self) { try SafetensorsFile(contentsOf: url) }
        #expect(error.code == .corruptFile, "\(kind): \(error)")
        #expect(error.path == url.path)
    }

    @Test("a file that does not exist is an i/o error naming the path")
    func missingFile() {
        let url = directory.appendingPathComponent("absent.safetensors")
        let error = #expect(throws: TensorError.self) { try SafetensorsFile(contentsOf: url) }
        #expect(error?.code == .io)
        #expect(error?.path == url.path)
    }
}
