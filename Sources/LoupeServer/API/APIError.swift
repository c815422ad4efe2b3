import Foundation
import HTTPTypes
import Hummingbird
import Loupe
import LoupeMedia
import LoupeMilvus
import LoupeStore

/// An error answered as `{"error": {"code": "...", "message": "..."}}` with a fitting HTTP status.
struct APIError: Error, HTTPResponseError, CustomStringConvertible {
    var status: HTTPResponse.Status
    var code: String
    var message: String
    var headers: HTTPFields = [:]

    init(_ status: HTTPResponse.Status, _ code: String, _ message: String) {
        self.status = status
        self.code = code
        self.message = message
    }

    var description: String { "\(status.code) \(code): \(message)" }

    func response(from request: Request, context: some RequestContext) throws -> Response {
        let body = ["error": ["code": code, "message": message, "request_id": context.id]]
        let data = try JSONSerialization.data(withJSONObject: body, options: [.sortedKeys])
        var fields = headers
        fields[.contentType] = "application/json; charset=utf-8"
        return Response(status: status, headers: fields, body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

    static func badRequest(_ message: String) -> APIError { APIError(.badRequest, "invalid_argument", message) }
    static func notFound(_ message: String) -> APIError { APIError(.notFound, "not_found", message) }
    static func tooLarge(_ message: String) -> APIError { APIError(.contentTooLarge, "too_large", message) }
    static func unsupportedMedia(_ message: String) -> APIError {
        APIError(.unsupportedMediaType, "unsupported_media_type", message)
    }

    /// Maps errors of the library layers onto statuses, keeping their messages (they name the input).
    static func from(_ error: any Error) -> APIError {
        switch error {
        case let error as APIError:
            return error
        case let error as LoupeError:
            switch error.code {
            case .invalidArgument, .invalidQuery, .dimensionMismatch:
                return APIError(.badRequest, "invalid_argument", error.description)
            case .notFound: return APIError(.notFound, "not_found", error.description)
            case .network, .integrity: return APIError(.badGateway, "upstream_error", error.description)
            default: return APIError(.unprocessableContent, "failed", error.description)
            }
        case let error as MediaError:
            switch error.code {
            case .notAnImage, .unsupportedFormat, .notAVideo:
                return APIError(.unsupportedMediaType, "unsupported_media_type", error.description)
            case .tooManyPixels: return APIError(.contentTooLarge, "too_large", error.description)
            case .invalidArgument: return APIError(.badRequest, "invalid_argument", error.description)
            default: return APIError(.unprocessableContent, "undecodable_media", error.description)
            }
        case let error as StoreError:
            switch error.code {
            case .notFound: return APIError(.notFound, "not_found", error.description)
            case .alreadyExists: return APIError(.conflict, "already_exists", error.description)
            case .invalidArgument, .invalidFilter: return APIError(.badRequest, "invalid_argument", error.description)
            case .locked:
                var busy = APIError(.serviceUnavailable, "busy", error.description)
                busy.headers[.retryAfter] = "1"
                return busy
            default: return APIError(.internalServerError, "storage_error", error.description)
            }
        case let error as LoupeMilvus.MilvusError:
            // The library is on a Milvus server (`serve --milvus`): its failures are upstream failures,
            // except what the request itself got wrong.
            switch error.code {
            case .notFound: return APIError(.notFound, "not_found", error.description)
            case .invalidArgument: return APIError(.badRequest, "invalid_argument", error.description)
            case .unavailable, .deadlineExceeded, .rateLimited, .notLoaded:
                var busy = APIError(.serviceUnavailable, "upstream_unavailable", error.description)
                busy.headers[.retryAfter] = "1"
                return busy
            default: return APIError(.badGateway, "upstream_error", error.description)
            }
        case let error as HTTPError:
            return APIError(error.status, "http_error", error.body ?? error.status.reasonPhrase)
        case is CancellationError:
            return APIError(.serviceUnavailable, "cancelled", "the request was cancelled (server shutting down)")
        default:
            return APIError(.internalServerError, "internal", "\(error)")
        }
    }
}
