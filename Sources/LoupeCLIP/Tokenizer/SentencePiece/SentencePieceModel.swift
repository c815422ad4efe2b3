import Foundation

/// The parts of a SentencePiece `ModelProto` (`spiece.model`, `tokenizer.model`) that encoding
/// needs, parsed from the protobuf wire format without a protobuf library.
///
/// Fields read: `pieces` (1: piece, score, type), `trainer_spec` (2: model_type, byte_fallback)
/// and `normalizer_spec` (3: precompiled_charsmap, add_dummy_prefix, remove_extra_whitespaces,
/// escape_whitespaces). Everything else is skipped.
struct SentencePieceModel: Sendable {
    /// A piece's kind, as `SentencePiece.Type` numbers it.
    enum PieceType: Int, Sendable {
        case normal = 1, unknown = 2, control = 3, userDefined = 4, unused = 5, byte = 6
    }

    struct Piece: Sendable {
        var text: String
        var score: Float
        var type: PieceType
    }

    enum ModelType: Int, Sendable { case unigram = 1, bpe = 2, word = 3, char = 4 }

    var pieces: [Piece] = []
    var modelType: ModelType = .unigram
    var byteFallback = false
    var precompiledCharsMap: [UInt8] = []
    var addDummyPrefix = true
    var removeExtraWhitespaces = true
    var escapeWhitespaces = true

    /// Parses a serialised `ModelProto`.
    /// - Throws: ``CLIPError`` (`invalidTokenizer`) naming the first malformed field.
    init(bytes: [UInt8]) throws(CLIPError) {
        var reader = ProtobufReader(bytes: bytes[...])
        while let (field, value) = try reader.next() {
            switch (field, value) {
            case (1, .bytes(let message)):
                pieces.append(try Self.piece(message))
            case (2, .bytes(let message)):
                var trainer = ProtobufReader(bytes: message)
                while let (field, value) = try trainer.next() {
                    switch (field, value) {
                    case (3, .varint(let raw)):
                        guard let type = ModelType(rawValue: Int(truncatingIfNeeded: raw)) else {
                            throw CLIPError(.invalidTokenizer, "trainer_spec.model_type \(raw) is unknown")
                        }
                        modelType = type
                    case (35, .varint(let raw)): byteFallback = raw != 0
                    default: break
                    }
                }
            case (3, .bytes(let message)):
                var normalizer = ProtobufReader(bytes: message)
                while let (field, value) = try normalizer.next() {
                    switch (field, value) {
                    case (2, .bytes(let blob)): precompiledCharsMap = Array(blob)
                    case (3, .varint(let raw)): addDummyPrefix = raw != 0
                    case (4, .varint(let raw)): removeExtraWhitespaces = raw != 0
                    case (5, .varint(let raw)): escapeWhitespaces = raw != 0
                    default: break
                    }
                }
            default:
                break
            }
        }
        guard !pieces.isEmpty else { throw CLIPError(.invalidTokenizer, "the model has no pieces") }
    }

    private static func piece(_ message: ArraySlice<UInt8>) throws(CLIPError) -> Piece {
        var reader = ProtobufReader(bytes: message)
        var piece = Piece(text: "", score: 0, type: .normal)
        while let (field, value) = try reader.next() {
            switch (field, value) {
            case (1, .bytes(let text)):
                guard let string = String(validating: text, as: UTF8.self) else {
                    throw CLIPError(.invalidTokenizer, "a piece is not valid UTF-8")
                }
                piece.text = string
            case (2, .fixed32(let bits)): piece.score = Float(bitPattern: bits)
            case (3, .varint(let raw)):
                guard let type = PieceType(rawValue: Int(truncatingIfNeeded: raw)) else {
                    throw CLIPError(.invalidTokenizer, "piece \"\(piece.text)\" has unknown type \(raw)")
                }
                piece.type = type
            default: break
            }
        }
        return piece
    }
}

/// Reads protobuf wire-format fields one at a time.
struct ProtobufReader {
    enum Value {
        case varint(UInt64)
        case fixed64(UInt64)
        case bytes(ArraySlice<UInt8>)
        case fixed32(UInt32)
    }

    var bytes: ArraySlice<UInt8>

    /// The next field number and value, or nil at the end of the message.
    mutating func next() throws(CLIPError) -> (Int, Value)? {
        guard !bytes.isEmpty else { return nil }
        let key = try varint()
        let field = Int(truncatingIfNeeded: key >> 3)
        guard field > 0 else { throw malformed("a field number of 0") }
        switch key & 7 {
        case 0:
            return (field, .varint(try varint()))
        case 1:
            return (field, .fixed64(try fixed(8)))
        case 2:
            let length = try varint()
            guard length <= UInt64(bytes.count) else { throw malformed("a field longer than the message") }
            let end = bytes.startIndex + Int(length)
            let value = bytes[bytes.startIndex..<end]
            bytes = bytes[end...]
            return (field, .bytes(value))
        case 5:
            return (field, .fixed32(UInt32(truncatingIfNeeded: try fixed(4))))
        default:
            throw malformed("wire type \(key & 7) of field \(field)")
        }
    }

    private mutating func varint() throws(CLIPError) -> UInt64 {
        var value: UInt64 = 0
        var shift: UInt64 = 0
        while let byte = bytes.first {
            bytes = bytes.dropFirst()
            guard shift < 64 else { throw malformed("a varint longer than 10 bytes") }
            value |= UInt64(byte & 0x7F) << shift
            if byte & 0x80 == 0 { return value }
            shift += 7
        }
        throw malformed("a truncated varint")
    }

    private mutating func fixed(_ count: Int) throws(CLIPError) -> UInt64 {
        guard bytes.count >= count else { throw malformed("a truncated fixed-width field") }
        var value: UInt64 = 0
        for (shift, byte) in bytes.prefix(count).enumerated() { value |= UInt64(byte) << (8 * UInt64(shift)) }
        bytes = bytes.dropFirst(count)
        return value
    }

    private func malformed(_ what: String) -> CLIPError {
        CLIPError(.invalidTokenizer, "malformed SentencePiece protobuf: \(what)")
    }
}
