import Foundation
import SwiftProtobuf

/// Fields of newer Milvus protos than the pinned stubs (v2.4.9) know, read from and written to a
/// message's unknown fields: `FieldData.valid_data` (7, nullable columns) and
/// `SearchResultData.primary_field_name` (13).
enum MilvusGRPCWire {
    static let validDataField = 7
    static let primaryFieldNameField = 13

    /// The message with a length-delimited field appended (protobuf keeps unknown fields and writes them back).
    static func appending<M: SwiftProtobuf.Message>(_ message: M, field: Int, bytes payload: [UInt8]) throws -> M {
        var bytes: [UInt8] = try message.serializedBytes()
        bytes += varint(UInt64(field << 3 | 2)) + varint(UInt64(payload.count)) + payload
        return try M(serializedBytes: bytes)
    }

    /// The booleans of a field among a message's unknown fields, packed or not; empty when absent.
    static func bools(field: Int, in unknown: Data) -> [Bool] {
        let bytes = [UInt8](unknown)
        var out: [Bool] = []
        var i = 0
        while i < bytes.count {
            guard let tag = readVarint(bytes, &i) else { return out }
            let number = Int(tag >> 3)
            switch tag & 7 {
            case 0:
                guard let v = readVarint(bytes, &i) else { return out }
                if number == field { out.append(v != 0) }
            case 1: i += 8
            case 5: i += 4
            case 2:
                guard let length = readVarint(bytes, &i), length <= UInt64(bytes.count - i) else { return out }
                let end = i + Int(length)
                if number == field {
                    while i < end {
                        guard let v = readVarint(bytes, &i) else { return out }
                        out.append(v != 0)
                    }
                }
                i = end
            default:
                return out
            }
        }
        return out
    }

    static func varint(_ value: UInt64) -> [UInt8] {
        var out: [UInt8] = []
        var v = value
        repeat {
            let low = UInt8(v & 0x7f)
            v >>= 7
            out.append(v == 0 ? low : low | 0x80)
        } while v != 0
        return out
    }

    private static func readVarint(_ bytes: [UInt8], _ i: inout Int) -> UInt64? {
        var value: UInt64 = 0
        var shift: UInt64 = 0
        while i < bytes.count, shift < 64 {
            let b = bytes[i]
            i += 1
            value |= UInt64(b & 0x7f) << shift
            if b & 0x80 == 0 { return value }
            shift += 7
        }
        return nil
    }
}
