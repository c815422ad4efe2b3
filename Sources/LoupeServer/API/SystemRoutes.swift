import Foundation
import Hummingbird
import NIOCore

/// `/healthz`, `/metrics` and `/openapi.json`.
struct SystemRoutes {
    let server: LoupeServer

    func register(on router: Router<LoupeRequestContext>) {
        router.get("/healthz") { request, _ -> Response in
            // The library's collection is what every other route needs; report clearly when it is gone.
            let collection = server.library.configuration.collection
            guard (try? await server.library.store.schema(of: collection)) != nil else {
                return try JSONBody.response(
                    ["status": "degraded", "problem": "the library's collection '\(collection)' is missing; restart the server to recreate it"],
                    status: .serviceUnavailable)
            }
            // Without the token, only whether the server is up: item counts and the model are the library's business.
            guard AuthMiddleware.isAuthorized(request, token: server.configuration.token) else {
                return try JSONBody.response(["status": "ok"])
            }
            let counts = try await server.library.counts()
            return try JSONBody.response([
                "status": "ok", "model": server.library.embedder.modelName,
                "items": counts.images + counts.videos,
            ])
        }
        router.get("/metrics") { _, _ -> Response in
            let counts = try await server.library.counts()
            server.metrics.images.set(Int64(counts.images))
            server.metrics.videos.set(Int64(counts.videos))
            if let statistics = try? await server.library.statistics() {
                server.metrics.indexedRows.set(Int64(statistics.rows))
            }
            return Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                            body: .init(byteBuffer: ByteBuffer(string: server.metrics.render())))
        }
        router.get("/openapi.json") { _, _ -> Response in
            WebAssets.response(for: "openapi.json") ?? Response(status: .notFound)
        }
    }
}

/// The web page and its assets, compiled into the binary (see `WebAssets`).
struct WebRoutes {
    func register(on router: Router<LoupeRequestContext>) {
        for name in WebAssets.names where name != "openapi.json" {
            let route = name == "index.html" ? "/" : "/\(name)"
            router.get(RouterPath(route)) { _, _ -> Response in
                WebAssets.response(for: name) ?? Response(status: .notFound)
            }
        }
    }
}

/// JSON bodies from Foundation values (results mix numbers, strings and nulls, which Codable makes clumsy).
enum JSONBody {
    static func response(_ object: Any, status: HTTPResponse.Status = .ok) throws -> Response {
        let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .fragmentsAllowed])
        return Response(status: status, headers: [.contentType: "application/json; charset=utf-8"],
                        body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

    static func response<T: Encodable>(encoding value: T, status: HTTPResponse.Status = .ok) throws -> Response {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .iso8601
        return Response(status: status, headers: [.contentType: "application/json; charset=utf-8"],
                        body: .init(byteBuffer: ByteBuffer(bytes: try encoder.encode(value))))
    }
}
