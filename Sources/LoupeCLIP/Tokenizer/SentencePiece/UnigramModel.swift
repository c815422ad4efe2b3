/// SentencePiece unigram segmentation: the Viterbi best path over piece scores
/// (`unigram_model.cc`, `EncodeOptimized`), on normalised UTF-8 text.
///
/// A position no single-character piece covers becomes the unknown piece, scored
/// `min(normal piece scores) - 10`, and a run of them is one unknown piece. With byte fallback an unknown piece is spelled as its
/// `<0xNN>` byte pieces.
struct UnigramModel: Sendable {
    /// Matchable pieces (normal, user-defined, unused) by their UTF-8 spelling.
    private let pieces: [[UInt8]: Int32]
    private let scores: [Float]
    private let types: [SentencePieceModel.PieceType]
    private let maximumPieceLength: Int
    private let minimumScore: Float
    private let maximumScore: Float
    let unknownID: Int32
    private let byteIDs: [Int32]?

    /// `unigram_model.cc`'s kUnkPenalty.
    private static let unknownPenalty: Float = 10

    init(model: SentencePieceModel) throws(CLIPError) {
        var pieces: [[UInt8]: Int32] = [:]
        var unknownID: Int32?
        var bytes = [Int32?](repeating: nil, count: 256)
        var minimum = Float.greatestFiniteMagnitude
        var maximum = -Float.greatestFiniteMagnitude
        var longest = 1
        for (index, piece) in model.pieces.enumerated() {
            let id = Int32(index)
            switch piece.type {
            case .normal, .userDefined, .unused:
                let spelling = Array(piece.text.utf8)
                if pieces[spelling] == nil { pieces[spelling] = id }
                longest = max(longest, spelling.count)
                if piece.type == .normal {
                    minimum = min(minimum, piece.score)
                    maximum = max(maximum, piece.score)
                }
            case .unknown:
                unknownID = id
            case .byte:
                if let value = Self.byteValue(piece.text) { bytes[Int(value)] = id }
            case .control:
                break
            }
        }
        guard let unknownID else { throw CLIPError(.invalidTokenizer, "the model has no unknown piece") }
        self.pieces = pieces
        scores = model.pieces.map(\.score)
        types = model.pieces.map(\.type)
        maximumPieceLength = longest
        minimumScore = minimum == .greatestFiniteMagnitude ? 0 : minimum
        maximumScore = maximum == -.greatestFiniteMagnitude ? 0 : maximum
        self.unknownID = unknownID
        if model.byteFallback {
            var all: [Int32] = []
            for (value, id) in bytes.enumerated() {
                guard let id else {
                    throw CLIPError(.invalidTokenizer, "byte fallback is on but the byte piece <0x\(value)> is missing")
                }
                all.append(id)
            }
            byteIDs = all
        } else {
            byteIDs = nil
        }
    }

    private static func byteValue(_ text: String) -> UInt8? {
        guard text.count == 6, text.hasPrefix("<0x"), text.hasSuffix(">") else { return nil }
        return UInt8(text.dropFirst(3).prefix(2), radix: 16)
    }

    /// Segments normalised text into (spelling, id) pieces.
    func encode(_ text: [UInt8]) -> [(piece: ArraySlice<UInt8>, id: Int32)] {
        let size = text.count
        guard size > 0 else { return [] }
        struct Node {
            var id: Int32 = -1
            var score: Float = 0
            var start = -1
        }
        var best = [Node](repeating: Node(), count: size + 1)
        let unknownScore = minimumScore - Self.unknownPenalty
        var start = 0
        var key: [UInt8] = []
        key.reserveCapacity(maximumPieceLength)
        while start < size {
            let scoreHere = best[start].score
            let characterLength = min(max(UTF8Scalar.length(text, start), 1), size - start)
            var hasSingleCharacter = false
            key.removeAll(keepingCapacity: true)
            var end = start
            while end < size, end - start < maximumPieceLength {
                key.append(text[end])
                end += 1
                guard let id = pieces[key] else { continue }
                let type = types[Int(id)]
                if type == .unused { continue }
                let length = end - start
                let score =
                    type == .userDefined ? Float(Double(length) * Double(maximumScore) - 0.1) : scores[Int(id)]
                let candidate = score + scoreHere
                if best[end].start == -1 || candidate > best[end].score {
                    best[end] = Node(id: id, score: candidate, start: start)
                }
                if length == characterLength { hasSingleCharacter = true }
            }
            if !hasSingleCharacter {
                let target = start + characterLength
                let candidate = unknownScore + scoreHere
                if best[target].start == -1 || candidate > best[target].score {
                    best[target] = Node(id: unknownID, score: candidate, start: start)
                }
            }
            start += characterLength
        }
        // Backtrack; like SentencePiece, a run of unknown pieces becomes one.
        var reversed: [(piece: ArraySlice<UInt8>, id: Int32)] = []
        var end = size
        while end > 0 {
            let node = best[end]
            if node.id == unknownID, let last = reversed.last, last.id == unknownID {
                reversed[reversed.count - 1].piece = text[node.start..<last.piece.endIndex]
            } else {
                reversed.append((text[node.start..<end], node.id))
            }
            end = node.start
        }
        guard let byteIDs else { return reversed.reversed() }
        var result: [(piece: ArraySlice<UInt8>, id: Int32)] = []
        for entry in reversed.reversed() {
            if entry.id == unknownID {
                for index in entry.piece.indices {
                    result.append((entry.piece[index..<(index + 1)], byteIDs[Int(entry.piece[index])]))
                }
            } else {
                result.append(entry)
            }
        }
        return result
    }
}
