import Loupe
import LoupeStore

/// An error answered in Milvus's shape: HTTP 200 with `{"code": N, "message": ...}`.
///
/// Codes and message prefixes are Milvus's own (`pkg/util/merr` in the Milvus repository), so clients
/// that branch on them (100 collection not found, 1100 invalid parameter, ...) keep working.
struct MilvusError: Error, Sendable {
    var code: Int
    var message: String

    init(code: Int, _ message: String) {
        self.code = code
        self.message = message
    }

    /// 100: the collection does not exist.
    static func collectionNotFound(_ name: String) -> MilvusError {
        MilvusError(code: 100, "collection not found[collection=\(name)]")
    }
    /// 200: the partition does not exist.
    static func partitionNotFound(_ detail: String) -> MilvusError {
        MilvusError(code: 200, "partition not found: \(detail)")
    }
    /// 800: only the `default` database exists in Loupe.
    static func databaseNotFound(_ name: String) -> MilvusError {
        MilvusError(code: 800, "database not found[database=\(name)]")
    }
    /// 1401: the collection is the library's own; Loupe refuses to drop, release or write to it.
    static func libraryCollection(_ name: String, action: String) -> MilvusError {
        MilvusError(code: 1401, "privilege not permitted: '\(name)' is the library's collection; \(action) it only on a server started with --allow-library-admin")
    }
    /// 1100: a value is present but not acceptable.
    static func invalidParameter(_ detail: String) -> MilvusError {
        MilvusError(code: 1100, "invalid parameter: \(detail)")
    }
    /// 1102: the request body is larger than the server accepts.
    static func tooLarge(_ limit: Int) -> MilvusError {
        MilvusError(code: 1102, "parameter too large: the request body is larger than the limit of \(limit) bytes")
    }
    /// 1801: the body is not JSON, or a value has the wrong JSON type.
    static func incorrectFormat(_ detail: String) -> MilvusError {
        MilvusError(code: 1801, "can only accept json format request, error: \(detail)")
    }
    /// 1802: a required key is missing (or empty).
    static func missingParameter(_ key: String) -> MilvusError {
        MilvusError(code: 1802, "missing required parameters, error: '\(key)' is required")
    }
    /// 1804: a row to insert does not fit the schema.
    static func invalidInsertData(_ detail: String) -> MilvusError {
        MilvusError(code: 1804, "fail to deal the insert data, error: \(detail)")
    }
    /// 1806: primary keys given to get or delete are not of the key's type.
    static func invalidPrimaryKey(_ detail: String) -> MilvusError {
        MilvusError(code: 1806, "please check the primary key and its' type can only in [int, string], error: \(detail)")
    }

    /// The Milvus answer for any error a handler lets escape.
    static func from(_ error: any Error) -> MilvusError {
        switch error {
        case let error as MilvusError: return error
        case let error as StoreError: return MilvusError(error)
        case let error as RowSourceError: return .invalidInsertData(error.description)
        case let error as LoupeError where error.code == .network:
            return MilvusError(code: 65535, "cannot read a source: \(error.description)")
        case let error as LoupeError: return .invalidParameter(error.description)
        default: return MilvusError(code: 65535, "unexpected error: \(error)")
        }
    }

    /// Maps LoupeStore's error codes onto Milvus's.
    init(_ error: StoreError) {
        switch error.code {
        case .notFound where error.alias != nil && error.collection == nil:
            self = MilvusError(code: 1600, "alias not found[database=default][alias=\(error.alias ?? "")]")
        case .alreadyExists where error.alias != nil && error.alias == error.collection:
            self = MilvusError(code: 1601, "alias and collection name conflict[database=default][alias=\(error.alias ?? "")]: \(error.message)")
        case .alreadyExists where error.alias != nil:
            self = MilvusError(code: 1602, "alias already exist[database=default][alias=\(error.alias ?? "")]: \(error.message)")
        case .notFound where error.partition != nil:
            self = .partitionNotFound(error.message)
        case .notFound where error.field == nil:
            self = .collectionNotFound(error.collection ?? "")
        case .notFound, .invalidArgument, .invalidFilter, .alreadyExists:
            self = .invalidParameter(error.description)
        default:
            self = MilvusError(code: 65535, "unexpected error: \(error.description)")
        }
    }
}
