import LoupeStore

/// Rows of one insert or upsert whose sourced vectors could not be computed: a picture that would not
/// download or decode, an empty source. The call wrote nothing (every row's sources are read before
/// anything is stored), so the caller can fix the rows named here and send the call again.
public struct RowSourceError: Error, CustomStringConvertible, Sendable {
    /// One row that failed.
    public struct Failure: Sendable, Hashable {
        /// The row's position in the call, from 0.
        public var row: Int
        /// Its primary key, when the row gave one.
        public var key: FieldValue?
        /// The vector field that could not be computed.
        public var field: String
        /// The source field it is computed from, and the source's text as given (a data: URI shortened).
        public var sourceField: String
        public var source: String
        /// Why it failed.
        public var reason: String

        public var description: String {
            let keyText = key.map { " (\($0))" } ?? ""
            return "row \(row)\(keyText), field \(field): cannot compute it from \(sourceField) '\(source)': \(reason)"
        }
    }

    /// The table written to.
    public var table: String
    /// Every row that failed, in row order.
    public var failures: [Failure]

    public var description: String {
        let shown = failures.prefix(20).map(\.description).joined(separator: "; ")
        let more = failures.count > 20 ? "; and \(failures.count - 20) more" : ""
        return "\(table): \(failures.count) row\(failures.count == 1 ? "" : "s") could not be embedded, nothing was written: \(shown)\(more)"
    }
}
