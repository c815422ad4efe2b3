/// An error from LoupeStore: bad input (a schema, a row, a filter), a missing collection, a locked
/// database, or a storage failure.
///
/// It names what caused it: the collection, the field, the filter text and position, or the path.
public struct StoreError: Error, CustomStringConvertible, Sendable {
    /// What kind of problem this is. New codes may be added.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        let name: String
        public var description: String { name }

        /// A schema, a row or a request does not fit the collection's rules.
        public static let invalidArgument = Code(name: "invalid argument")
        /// A filter expression could not be parsed or evaluated.
        public static let invalidFilter = Code(name: "invalid filter")
        /// The named collection, partition or field does not exist.
        public static let notFound = Code(name: "not found")
        /// The collection, partition or primary key already exists.
        public static let alreadyExists = Code(name: "already exists")
        /// Another process holds the database open for writing, or SQLite stayed busy past its timeout:
        /// worth retrying later.
        public static let locked = Code(name: "locked")
        /// SQLite or the file system failed.
        public static let storage = Code(name: "storage failure")
        /// An index file is damaged (it is rebuilt from the rows).
        public static let corruptIndex = Code(name: "corrupt index")
    }

    public var code: Code
    public var message: String
    /// The collection the problem is about, if any.
    public var collection: String?
    /// The field the problem is about, if any.
    public var field: String?
    /// The partition the problem is about, if any.
    public var partition: String?
    /// The collection alias the problem is about, if any.
    public var alias: String?
    /// The filter expression that failed, if any.
    public var expression: String?
    /// The 0-based character offset in `expression` where the problem was found.
    public var position: Int?
    /// The file or directory the problem is about, if any.
    public var path: String?

    public init(_ code: Code, _ message: String, collection: String? = nil, field: String? = nil,
                partition: String? = nil, alias: String? = nil, expression: String? = nil, position: Int? = nil,
                path: String? = nil) {
        self.code = code
        self.message = message
        self.collection = collection
        self.field = field
        self.partition = partition
        self.alias = alias
        self.expression = expression
        self.position = position
        self.path = path
    }

    public var description: String {
        var parts: [String] = []
        if let path { parts.append(path) }
        if let collection { parts.append("collection '\(collection)'") }
        if let alias { parts.append("alias '\(alias)'") }
        if let field { parts.append("field '\(field)'") }
        if let expression {
            parts.append("filter '\(expression)'" + (position.map { " at \($0)" } ?? ""))
        }
        parts.append("\(code): \(message)")
        return parts.joined(separator: ": ")
    }
}
