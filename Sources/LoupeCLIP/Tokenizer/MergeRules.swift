/// BPE merge rules as read from a file, highest priority first, before they are resolved
/// against a vocabulary. Spellings are kept as UTF-8 bytes in one flat buffer.
struct MergeRules {
    private var storage: [UInt8] = []
    private var rules: [(left: Range<Int>, right: Range<Int>)] = []

    /// A rule resolved to vocabulary ids: `left` followed by `right` becomes `result`.
    struct Resolved: Sendable {
        var left: Int32
        var right: Int32
        var result: Int32
    }

    var count: Int { rules.count }

    init(minimumCapacity: Int = 0) {
        rules.reserveCapacity(minimumCapacity)
        storage.reserveCapacity(minimumCapacity * 8)
    }

    /// Adds the rule merging `left` and `right`, with lower priority than those before it.
    mutating func append(left: some Collection<UInt8>, right: some Collection<UInt8>) {
        let leftStart = storage.count
        storage.append(contentsOf: left)
        let rightStart = storage.count
        storage.append(contentsOf: right)
        rules.append((leftStart..<rightStart, rightStart..<storage.count))
    }

    /// Looks up both symbols of every rule, and the symbol it produces, in `vocabulary`.
    ///
    /// - Throws: ``CLIPError/Code/invalidTokenizer`` naming the first rule that refers to a
    ///   symbol outside the vocabulary.
    func resolved(in vocabulary: Vocabulary) throws(CLIPError) -> [Resolved] {
        var resolved: [Resolved] = []
        resolved.reserveCapacity(rules.count)
        for (number, rule) in rules.enumerated() {
            let left = storage[rule.left]
            let right = storage[rule.right]
            guard let leftID = vocabulary.id(of: left), let rightID = vocabulary.id(of: right),
                let resultID = vocabulary.id(of: left, followedBy: right)
            else {
                let spelling = { (bytes: ArraySlice<UInt8>) in String(decoding: bytes, as: UTF8.self) }
                throw CLIPError(
                    .invalidTokenizer,
                    "merge rule \(number + 1) (\"\(spelling(left)) \(spelling(right))\") refers to "
                        + "a symbol that is not in the vocabulary")
            }
            resolved.append(Resolved(left: leftID, right: rightID, result: resultID))
        }
        return resolved
    }
}
