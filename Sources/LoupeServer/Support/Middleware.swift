import Foundation
import HTTPTypes
import Hummingbird
import Logging

/// Gives every request an id (echoed in `X-Request-Id`, attached to every log line of the request) and
/// logs one line per request with its status and duration.
struct RequestLogMiddleware: RouterMiddleware {
    typealias Context = LoupeRequestContext
    let logger: Logger

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response)
        async throws -> Response
    {
        let started = ContinuousClock.now
        // Hummingbird's logger for the request already carries its id (`hb.request.id`).
        do {
            var response = try await next(request, context)
            response.headers[.init("X-Request-Id")!] = context.id
            log(request, status: response.status.code, since: started, context: context)
            return response
        } catch {
            let answer = APIError.from(error)
            log(request, status: answer.status.code, since: started, context: context, error: answer)
            var tagged = answer
            tagged.headers[.init("X-Request-Id")!] = context.id
            throw tagged
        }
    }

    private func log(_ request: Request, status: Int, since started: ContinuousClock.Instant,
                     context: Context, error: APIError? = nil)
    {
        let elapsed = started.duration(to: .now)
        let ms = Double(elapsed.components.seconds) * 1e3 + Double(elapsed.components.attoseconds) / 1e15
        var metadata: Logger.Metadata = [
            "method": .string(request.method.rawValue), "path": .string(request.uri.path),
            "status": .stringConvertible(status), "ms": .string(String(format: "%.1f", ms)),
        ]
        if let address = context.remoteAddress?.ipAddress { metadata["peer"] = .string(address) }
        if let error { metadata["error"] = .string(error.message) }
        let level: Logger.Level = status >= 500 ? .error : status >= 400 ? .notice : .info
        context.logger.log(level: level, "request", metadata: metadata)
    }
}

extension Logger {
    func with(metadataKey key: String, value: Logger.MetadataValue) -> Logger {
        var copy = self
        copy[metadataKey: key] = value
        return copy
    }
}

/// Turns every error into Loupe's JSON error shape (Milvus routes answer their own shape themselves).
struct ErrorShapeMiddleware: RouterMiddleware {
    typealias Context = LoupeRequestContext

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response)
        async throws -> Response
    {
        do {
            return try await next(request, context)
        } catch {
            throw APIError.from(error)
        }
    }
}

/// Requires `Authorization: Bearer <token>` (or `user:token`, as Milvus clients send `user:password`) on
/// everything but the page, its assets and the health check, when a token is configured. `?access_token=`
/// is taken only where the browser loads by URL and cannot send a header: an item's media and thumbnail, and
/// a job's event stream.
struct AuthMiddleware: RouterMiddleware {
    typealias Context = LoupeRequestContext
    let token: String?

    static let openPaths: Set<String> = ["/", "/healthz", "/app.js", "/app.css", "/favicon.svg", "/openapi.json"]

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response)
        async throws -> Response
    {
        guard let token, !token.isEmpty, !Self.openPaths.contains(request.uri.path), request.method != .options else {
            return try await next(request, context)
        }
        if Self.isAuthorized(request, token: token) { return try await next(request, context) }
        if request.uri.path.hasPrefix("/v2/") {
            // Milvus answers auth failures with HTTP 200 and its own code.
            return MilvusReply.failure(code: 1800, message: "user hasn't authenticated")
        }
        var error = APIError(.unauthorized, "unauthorized",
                             "this server needs 'Authorization: Bearer <token>' (started with --token)")
        error.headers[.wwwAuthenticate] = "Bearer realm=\"loupe\""
        throw error
    }

    /// Whether `request` carries the token: `Bearer TOKEN`, `Bearer USER:TOKEN`, or (media and thumbnails
    /// only) `?access_token=TOKEN`. True when no token is configured.
    static func isAuthorized(_ request: Request, token: String?) -> Bool {
        guard let token, !token.isEmpty else { return true }
        if let header = request.headers[.authorization] {
            let parts = header.split(separator: " ", maxSplits: 1)
            guard parts.count == 2, parts[0].lowercased() == "bearer" else { return false }
            return accepts(credential: String(parts[1]), token: token)
        }
        if Self.takesQueryToken(request.uri.path), let query = request.uri.queryParameters["access_token"].map(String.init) {
            return constantTimeEqual(query, token)
        }
        return false
    }

    /// Whether a credential is the token, or Milvus's `user:password` with any user name and the token as
    /// the password (the HTTP side's Bearer value and the gRPC side's `authorization` metadata alike).
    static func accepts(credential: String, token: String) -> Bool {
        if constantTimeEqual(credential, token) { return true }
        if let colon = credential.firstIndex(of: ":"), !token.contains(":") {
            return constantTimeEqual(String(credential[credential.index(after: colon)...]), token)
        }
        return false
    }

    /// `/api/items/{id}/media`, `/api/items/{id}/thumbnail`, `/api/generated/{name}` and `/api/jobs/{id}/events`:
    /// what `<img>`, `<video>` and `EventSource` load, which cannot send a header.
    static func takesQueryToken(_ path: String) -> Bool {
        let parts = path.split(separator: "/", omittingEmptySubsequences: true)
        if parts.count == 3, parts[0] == "api", parts[1] == "generated" { return true }
        guard parts.count == 4, parts[0] == "api" else { return false }
        return (parts[1] == "items" && (parts[3] == "media" || parts[3] == "thumbnail")) || (parts[1] == "jobs" && parts[3] == "events")
    }

    static func constantTimeEqual(_ a: String, _ b: String) -> Bool {
        let x = Array(a.utf8), y = Array(b.utf8)
        var difference = UInt8(x.count == y.count ? 0 : 1)
        for index in 0..<min(x.count, y.count) { difference |= x[index] ^ y[index] }
        return difference == 0
    }
}

/// CORS for a list of origins (`*` allows any): the request's origin is echoed when allowed, and
/// preflight requests are answered here. Off unless `--cors-origin` is given.
struct CORSAllowListMiddleware: RouterMiddleware {
    typealias Context = LoupeRequestContext
    let origins: Set<String>

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response)
        async throws -> Response
    {
        guard let origin = request.headers[.origin], origins.contains("*") || origins.contains(origin) else {
            return try await next(request, context)
        }
        var fields: HTTPFields = [
            .accessControlAllowOrigin: origins.contains("*") ? "*" : origin, .vary: "Origin",
            .accessControlExposeHeaders: "Content-Range, Accept-Ranges, X-Request-Id",
        ]
        if request.method == .options, request.headers[.accessControlRequestMethod] != nil {
            fields[.accessControlAllowMethods] = "GET, POST, DELETE, OPTIONS"
            fields[.accessControlAllowHeaders] = "Content-Type, Authorization, Range"
            fields[.accessControlMaxAge] = "600"
            return Response(status: .noContent, headers: fields)
        }
        var response = try await next(request, context)
        for field in fields { response.headers[field.name] = field.value }
        return response
    }
}
