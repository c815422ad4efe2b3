/// An error from Loupe's search layer, naming the input that caused it.
public struct LoupeError: Error, CustomStringConvertible, Sendable {
    /// What kind of problem this is. New codes may be added.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        let name: String
        public var description: String { name }

        /// A query that cannot be searched for (no terms, terms that cancel, a bad weight).
        public static let invalidQuery = Code(name: "invalid query")
        /// An argument outside what the operation accepts (k larger than the collection, …).
        public static let invalidArgument = Code(name: "invalid argument")
        /// Embeddings of different lengths were mixed.
        public static let dimensionMismatch = Code(name: "dimension mismatch")
        /// A server could not be reached or answered with an error.
        public static let network = Code(name: "network error")
        /// A model, repository or file does not exist where it was looked for.
        public static let notFound = Code(name: "not found")
        /// Downloaded bytes do not match the size or hash the server announced.
        public static let integrity = Code(name: "integrity check failed")
    }

    public var code: Code
    public var message: String
    /// The file, URL or term the problem is about, when there is one.
    public var input: String?

    public init(_ code: Code, _ message: String, input: String? = nil) {
        self.code = code
        self.message = message
        self.input = input
    }

    public var description: String {
        if let input { return "\(input): \(code): \(message)" }
        return "\(code): \(message)"
    }
}
