/// An error from a Milvus server or from talking to one: the server refused a request (with Milvus's
/// own status code and reason), the server could not be reached, credentials were wrong, the server
/// is too old for a feature, or a row or request did not fit the collection.
///
/// It names what caused it: the operation (`"Insert"`), the collection, the field and the server.
/// Credentials are never part of it.
public struct MilvusError: Error, CustomStringConvertible, Sendable {
    /// What kind of problem this is. New codes may be added.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        let name: String
        public var description: String { name }

        /// The server could not be reached (refused, reset, not listening, TLS failed).
        public static let unavailable = Code(name: "unavailable")
        /// The call did not finish within its deadline.
        public static let deadlineExceeded = Code(name: "deadline exceeded")
        /// The token or user name and password were refused.
        public static let authentication = Code(name: "authentication failed")
        /// The user may not do this.
        public static let permissionDenied = Code(name: "permission denied")
        /// The collection, field, index or database does not exist.
        public static let notFound = Code(name: "not found")
        /// A request, schema, row or filter does not fit what the server accepts.
        public static let invalidArgument = Code(name: "invalid argument")
        /// The collection must be loaded first.
        public static let notLoaded = Code(name: "not loaded")
        /// The server throttled the request (rate limit, quota, memory or disk limit).
        public static let rateLimited = Code(name: "rate limited")
        /// The server's version lacks the feature; `requiredVersion` says which version has it.
        public static let unsupportedFeature = Code(name: "unsupported by this server")
        /// The server answered something this client cannot read.
        public static let protocolError = Code(name: "protocol error")
        /// Any other failure the server reported.
        public static let server = Code(name: "server error")
    }

    public var code: Code
    public var message: String
    /// The RPC that failed (`"Search"`), if any.
    public var operation: String?
    /// The collection the problem is about, if any.
    public var collection: String?
    /// The field the problem is about, if any.
    public var field: String?
    /// The server's address (`host:port`), if known.
    public var server: String?
    /// Milvus's status code (`common.Status.code`, or the legacy `error_code` when that is all there is).
    public var serverCode: Int32?
    /// For `.unsupportedFeature`: the first Milvus version that has it.
    public var requiredVersion: String?
    /// For `.unsupportedFeature`: the version the server reported.
    public var serverVersion: String?

    public init(_ code: Code, _ message: String, operation: String? = nil, collection: String? = nil,
                field: String? = nil, server: String? = nil, serverCode: Int32? = nil,
                requiredVersion: String? = nil, serverVersion: String? = nil) {
        self.code = code
        self.message = message
        self.operation = operation
        self.collection = collection
        self.field = field
        self.server = server
        self.serverCode = serverCode
        self.requiredVersion = requiredVersion
        self.serverVersion = serverVersion
    }

    /// A feature the connected server does not have.
    static func unsupported(_ feature: String, needs required: ServerVersion, server version: ServerVersion,
                            address: String?) -> MilvusError {
        MilvusError(.unsupportedFeature,
                    "\(feature) needs Milvus \(required) or later; the server is \(version.text)",
                    server: address, requiredVersion: required.description, serverVersion: version.text)
    }

    public var description: String {
        var parts: [String] = []
        if let server { parts.append("Milvus at \(server)") }
        if let operation { parts.append(operation) }
        if let collection { parts.append("collection '\(collection)'") }
        if let field { parts.append("field '\(field)'") }
        var tail = "\(code): \(message)"
        if let serverCode { tail += " (Milvus code \(serverCode))" }
        parts.append(tail)
        return parts.joined(separator: ": ")
    }

    /// Whether retrying the same call later may succeed (the server is unavailable, or throttled a
    /// request it says may be retried).
    public var isRetriable: Bool { retriable }
    var retriable = false
}
