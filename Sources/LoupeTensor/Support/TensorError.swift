/// An error from the tensor layer: a failed oneDNN call, a shape that does not fit, or a bad weights file.
///
/// It names the file and tensor involved when there is one, and what was expected versus found.
public struct TensorError: Error, CustomStringConvertible, Sendable {
    /// What kind of problem this is. New codes may be added.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        let name: String
        public var description: String { name }

        /// oneDNN refused or failed an operation.
        public static let backend = Code(name: "backend failure")
        /// A tensor had a different shape than the caller needs.
        public static let shapeMismatch = Code(name: "shape mismatch")
        /// A tensor had a data type the caller cannot use.
        public static let dtypeMismatch = Code(name: "dtype mismatch")
        /// A tensor the caller asked for is not in the file.
        public static let missingTensor = Code(name: "missing tensor")
        /// The file is not a well-formed safetensors file.
        public static let corruptFile = Code(name: "corrupt file")
        /// The file could not be opened or mapped.
        public static let io = Code(name: "i/o error")
        /// The arguments to an operation are inconsistent.
        public static let invalidArgument = Code(name: "invalid argument")
    }

    public var code: Code
    public var message: String
    /// The file the problem is about, if any.
    public var path: String?
    /// The tensor the problem is about, if any.
    public var tensor: String?

    public init(_ code: Code, _ message: String, path: String? = nil, tensor: String? = nil) {
        self.code = code
        self.message = message
        self.path = path
        self.tensor = tensor
    }

    public var description: String {
        var parts: [String] = []
        if let path { parts.append(path) }
        if let tensor { parts.append("tensor '\(tensor)'") }
        parts.append("\(code): \(message)")
        return parts.joined(separator: ": ")
    }
}
