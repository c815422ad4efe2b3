import Foundation

/// An error raised while loading or running a CLIP model, naming the input that caused it.
public struct CLIPError: Error, CustomStringConvertible, Sendable {
    /// What kind of problem this is. New codes may be added.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        let name: String
        public var description: String { name }

        public static let missingFile = Code(name: "missing file")
        public static let invalidConfig = Code(name: "invalid config")
        public static let invalidTokenizer = Code(name: "invalid tokenizer")
        public static let invalidWeights = Code(name: "invalid weights")
        public static let invalidImage = Code(name: "invalid image")
        public static let invalidInput = Code(name: "invalid input")
    }

    public var code: Code
    /// A human-readable explanation.
    public var message: String
    /// The file or input the problem is about, when there is one.
    public var path: String?

    public init(_ code: Code, _ message: String, path: String? = nil) {
        self.code = code
        self.message = message
        self.path = path
    }

    public var description: String {
        if let path { return "\(path): \(code): \(message)" }
        return "\(code): \(message)"
    }
}
