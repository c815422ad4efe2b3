import GRPCCore

/// A reply that carries Milvus's `common.Status` (every MilvusService reply does, or is one).
protocol StatusCarrying: Sendable {
    var milvusStatus: Milvus_Proto_Common_Status { get }
}

extension Milvus_Proto_Common_Status: StatusCarrying { var milvusStatus: Self { self } }
extension Milvus_Proto_Milvus_ConnectResponse: StatusCarrying { var milvusStatus: Milvus_Proto_Common_Status { status } }
extension Milvus_Proto_Milvus_GetVersionResponse: StatusCarrying { var milvusStatus: Milvus_Proto_Common_Status { status } }
extension Milvus_Proto_Milvus_BoolResponse: StatusCarrying { var milvusStatus: Milvus_Proto_Common_Status { status } }
extension Milvus_Proto_Milvus_DescribeCollectionResponse: StatusCarrying {
    var milvusStatus: Milvus_Proto_Common_Status { status }
}
extension Milvus_Proto_Milvus_DescribeIndexResponse: StatusCarrying { var milvusStatus: Milvus_Proto_Common_Status { status } }
extension Milvus_Proto_Milvus_GetLoadStateResponse: StatusCarrying { var milvusStatus: Milvus_Proto_Common_Status { status } }
extension Milvus_Proto_Milvus_MutationResult: StatusCarrying { var milvusStatus: Milvus_Proto_Common_Status { status } }
extension Milvus_Proto_Milvus_QueryResults: StatusCarrying { var milvusStatus: Milvus_Proto_Common_Status { status } }
extension Milvus_Proto_Milvus_SearchResults: StatusCarrying { var milvusStatus: Milvus_Proto_Common_Status { status } }
extension Milvus_Proto_Milvus_FlushResponse: StatusCarrying { var milvusStatus: Milvus_Proto_Common_Status { status } }
extension Milvus_Proto_Milvus_GetFlushStateResponse: StatusCarrying { var milvusStatus: Milvus_Proto_Common_Status { status } }
extension Milvus_Proto_Milvus_ShowCollectionsResponse: StatusCarrying {
    var milvusStatus: Milvus_Proto_Common_Status { status }
}

/// Turns Milvus statuses and gRPC errors into `MilvusError`s.
enum MilvusStatus {
    /// Milvus's error codes carry a "retriable" flag in bit 16 (`merr`'s `retryableFlag`).
    private static let retriableFlag: Int32 = 1 << 16

    /// The error a status reports, or nil for success. Reads the newer `code` first (Milvus 2.3+) and
    /// falls back to the deprecated `error_code`.
    static func error(_ status: Milvus_Proto_Common_Status, operation: String, collection: String?,
                      server: String?) -> MilvusError? {
        let rawCode = status.code
        let legacy = status.errorCode
        if rawCode == 0 && legacy == .success { return nil }
        let code = rawCode & (retriableFlag - 1)
        let kind: MilvusError.Code
        var retriable = status.retriable || rawCode & retriableFlag != 0
        if code != 0 {
            switch code {
            // Milvus marks "not ready" and "unavailable" retriable; milvus-lite sends a plain 1 for
            // any unexpected error, which is not worth retrying.
            case 1, 2: kind = retriable ? .unavailable : .server
            case 4, 8: kind = .rateLimited; retriable = true
            case 3, 7, 9: kind = .rateLimited
            // milvus-lite's IllegalArgument (bad filters, schemas); Milvus's 6 is cross-cluster routing.
            case 6: kind = .invalidArgument
            case 10: kind = .unsupportedFeature
            case 100, 200, 700, 800, 1600, 1700: kind = .notFound
            case 101, 103, 201, 202: kind = .notLoaded
            case 1100, 701, 1701, 1801, 1802, 1804, 1806: kind = .invalidArgument
            case 1400, 1800: kind = .authentication
            case 1401: kind = .permissionDenied
            default: kind = .server
            }
        } else {
            switch legacy {
            case .connectFailed, .notReadyServe, .notReadyCoordActivating, .noReplicaAvailable:
                kind = .unavailable; retriable = true
            case .rateLimit: kind = .rateLimited; retriable = true
            case .forceDeny, .memoryQuotaExhausted, .diskQuotaExhausted: kind = .rateLimited
            case .collectionNotExists, .collectionNameNotFound, .indexNotExist: kind = .notFound
            case .illegalArgument, .illegalDimension, .illegalIndexType, .illegalCollectionName, .illegalTopk,
                 .illegalRowRecord, .illegalVectorID, .illegalMetricType, .illegalNlist, .upsertAutoIdtrue:
                kind = .invalidArgument
            case .permissionDenied: kind = .permissionDenied
            default: kind = .server
            }
        }
        let reason = status.reason.isEmpty ? "the server reported an error without a reason" : status.reason
        var error = MilvusError(kind, reason, operation: operation, collection: collection, server: server,
                                serverCode: code != 0 ? code : Int32(legacy.rawValue))
        error.retriable = retriable
        return error
    }

    /// The error a failed gRPC call means.
    static func error(_ rpc: RPCError, operation: String, collection: String?, server: String?,
                      budget: Duration) -> MilvusError {
        let kind: MilvusError.Code
        var message = rpc.message
        var retriable = false
        switch rpc.code {
        case .unavailable:
            kind = .unavailable
            retriable = true
            message = "cannot reach the server (\(rpc.message))"
        case .deadlineExceeded:
            kind = .deadlineExceeded
            message = "no answer within \(budget) (\(rpc.message))"
        case .unauthenticated:
            kind = .authentication
            message = "the server refused the credentials (\(rpc.message))"
        case .permissionDenied: kind = .permissionDenied
        case .unimplemented:
            kind = .unsupportedFeature
            message = "the server does not implement \(operation) (\(rpc.message))"
        case .resourceExhausted:
            // Also what an over-size message gives; only a throttle is worth retrying.
            if rpc.message.contains("maximum") || rpc.message.contains("size") {
                kind = .protocolError
            } else {
                kind = .rateLimited
                retriable = true
            }
        case .invalidArgument: kind = .invalidArgument
        case .notFound: kind = .notFound
        default: kind = .server
        }
        var error = MilvusError(kind, message, operation: operation, collection: collection, server: server)
        error.retriable = retriable
        return error
    }
}
