import Foundation
import GRPCCore
import Logging
import LoupeMilvus
import LoupeStore
import SwiftProtobuf

/// Milvus's gRPC protocol (`milvus.proto.milvus.MilvusService`) over the embedded store, so pymilvus's
/// `MilvusClient` (and the other SDKs) work against `loupe serve --milvus-port` by changing one URI.
///
/// Every RPC answers with a Milvus status: failures are Milvus's codes and reasons (the same mapping as
/// the REST surface, `MilvusError`), RPCs Loupe cannot serve answer code 10 "service unimplemented"
/// naming the RPC (`MilvusGRPCService+Unsupported.swift`). Handlers never throw into gRPC, so a client
/// never sees a transport error for a request it got wrong. Authentication is checked before a call gets
/// here (`MilvusGRPCAuthInterceptor`).
struct MilvusGRPCService: Milvus_Proto_Milvus_MilvusService.SimpleServiceProtocol {
    let store: LoupeClient
    /// The REST surface's rules, shared: the library's protected collection and the search size bounds.
    let rules: MilvusRoutes
    let logger: Logger

    /// Loupe's version and the Milvus protocol it speaks, for `GetVersion` and `Connect`.
    static let milvusVersion = "v2.4.9"

    /// Runs a handler and turns any error into `R` carrying Milvus's status for it.
    func answer<R: MilvusGRPCReply>(_ rpc: String, _ body: () async throws -> R) async -> R {
        do {
            return try await body()
        } catch {
            let failure = MilvusError.from(error)
            logger.notice("milvus grpc error", metadata: [
                "rpc": .string(rpc), "code": .stringConvertible(failure.code), "message": .string(failure.message),
            ])
            var reply = R()
            reply.status = Self.status(failure)
            return reply
        }
    }

    /// Milvus's answer to an RPC Loupe does not serve.
    func unsupported<R: MilvusGRPCReply>(_ rpc: String) -> R {
        var reply = R()
        reply.status = Self.status(.unsupported(rpc))
        return reply
    }

    /// A success reply of type `R`.
    static func success<R: MilvusGRPCReply>(_ type: R.Type = R.self) -> R {
        var reply = R()
        reply.status = Milvus_Proto_Common_Status()
        return reply
    }

    /// The status for an error: Milvus's `code` and reason, and the legacy `error_code` older clients read.
    static func status(_ error: MilvusError) -> Milvus_Proto_Common_Status {
        var status = Milvus_Proto_Common_Status()
        status.code = Int32(clamping: error.code)
        status.reason = error.message
        switch error.code {
        case 100: status.errorCode = .collectionNotExists
        case 700: status.errorCode = .indexNotExist
        case 1100, 1801, 1802, 1804, 1806: status.errorCode = .illegalArgument
        case 1401: status.errorCode = .permissionDenied
        default: status.errorCode = .unexpectedError
        }
        return status
    }

    /// Refuses a database other than `default` (Loupe has one), named in the request or in `dbname` metadata.
    func checkDatabase(_ name: String) throws(MilvusError) {
        guard !name.isEmpty, name != "default" else { return }
        throw .databaseNotFound(name)
    }

    /// The schema of a collection (Milvus's 100 when it does not exist).
    func schema(_ collection: String) async throws -> CollectionSchema {
        guard !collection.isEmpty else { throw MilvusError.invalidParameter("collection name should not be empty") }
        return try await store.describeCollection(collection).schema
    }

    // MARK: Values shared by the handlers

    /// A hybrid timestamp as Milvus's TSO makes them: milliseconds since 1970 shifted past 18 logical bits.
    static func timestamp(_ date: Date = Date()) -> UInt64 {
        UInt64(max(0, date.timeIntervalSince1970 * 1000)) << 18
    }

    /// A stable id for a name (collections have none in LoupeStore; Milvus clients show and cache one).
    static func id(of name: String) -> Int64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in name.utf8 { hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01b3 }
        return Int64(hash >> 2) | 1
    }

    /// Key-value parameters (search, index and rank params) as a request body of JSON values: each value
    /// is read as JSON when it parses (`10`, `true`, `{"ef": 64}`), else kept as a string.
    static func parameters(_ pairs: [Milvus_Proto_Common_KeyValuePair]) -> MilvusRequestBody {
        var members: [String: MilvusJSON] = [:]
        for pair in pairs { members[pair.key] = json(pair.value) }
        return MilvusRequestBody(members: members)
    }

    /// A text value as JSON when it is JSON (Python's `True`/`False` included), else as a string.
    static func json(_ text: String) -> MilvusJSON {
        switch text {
        case "True": return .bool(true)
        case "False": return .bool(false)
        default:
            guard let data = text.data(using: .utf8), let value = try? JSONDecoder().decode(MilvusJSON.self, from: data)
            else { return .string(text) }
            return value
        }
    }
}

/// A MilvusService reply: every one carries Milvus's `common.Status` (or is one).
protocol MilvusGRPCReply: SwiftProtobuf.Message {
    var status: Milvus_Proto_Common_Status { get set }
}

extension Milvus_Proto_Common_Status: MilvusGRPCReply {
    var status: Milvus_Proto_Common_Status {
        get { self }
        set { self = newValue }
    }
}

extension MilvusError {
    /// 10: an RPC Loupe does not serve.
    static func unsupported(_ rpc: String) -> MilvusError {
        MilvusError(code: 10, "service unimplemented: Loupe does not support \(rpc) (see \"Use Loupe from pymilvus\" in its README)")
    }
}
