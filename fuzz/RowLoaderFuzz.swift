// libFuzzer target for what the row loader parses from the database (scripts/fuzz row-loader SECONDS): a
// stored schema (JSON, then validated) and a row document (JSONText), each of which must throw, not trap.
import Foundation

@_cdecl("LLVMFuzzerTestOneInput")
public func rowLoaderFuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Data(bytes: data, count: size)
    if let schema = try? JSONDecoder().decode(CollectionSchema.self, from: bytes), (try? schema.validate(collection: "c")) != nil {
        _ = schema.primaryField
        _ = schema.vectorFields.map { $0.dimension! }
    }
    let text = String(decoding: bytes, as: UTF8.self)
    if let value = try? JSONText.decode(text) {
        _ = JSONText.encode(value)
    }
    return 0
}
