import Foundation
import Loupe
import Testing
@testable import LoupeServer

@Suite("Server safety", .serialized, .stopsTestServers)
struct SafetyTests {
    @Test("listening beyond loopback needs a token of reasonable length")
    func tokenRequired() async throws {
        var open = ServerConfiguration()
        open.host = "0.0.0.0"
        #expect(throws: ServerError.self) { try open.validate() }
        open.token = "short"
        #expect(throws: ServerError.self) { try open.validate() }
        open.token = "a-long-enough-token"
        try open.validate()
        var loopback = ServerConfiguration()
        loopback.host = "127.0.0.1"
        try loopback.validate()
        loopback.port = 70000
        #expect(throws: ServerError.self) { try loopback.validate() }
    }

    @Test("with a token, the API needs it; the page and the health check do not")
    func auth() async throws {
        let token = "s3cret-token-123"
        let server = try await TestServer.start(configure: { $0.token = token })
        let (denied, body) = try await server.json(.GET, "/api/stats")
        #expect(denied == 401)
        #expect((body["error"] as? [String: Any])?["code"] as? String == "unauthorized")
        let (wrong, _) = try await server.json(.GET, "/api/stats", headers: [("Authorization", "Bearer nope-nope-nope")])
        #expect(wrong == 401)
        let (allowed, _) = try await server.json(.GET, "/api/stats", headers: [("Authorization", "Bearer \(token)")])
        #expect(allowed == 200)
        let (metrics, _) = try await server.json(.GET, "/metrics")
        #expect(metrics == 401)
        let health = try await server.send(.GET, "/healthz")
        #expect(health.status == 200)
        let page = try await server.send(.GET, "/")
        #expect(page.status == 200)

        let items = try await server.library.items(limit: 1)
        let id = try #require(items.first?.id)
        let viaQuery = try await server.send(.GET, "/api/items/\(id)/thumbnail?size=64&access_token=\(token)")
        #expect(viaQuery.status == 200)
        let noQuery = try await server.send(.GET, "/api/items/\(id)/media")
        #expect(noQuery.status == 401)
        // Milvus clients get Milvus's shape.
        let milvus = try await server.json(.POST, "/v2/vectordb/collections/list", [String: Any]())
        #expect(milvus.status == 200 && milvus.object["code"] as? Int == 1800)
        let milvusOK = try await server.json(.POST, "/v2/vectordb/collections/list", [String: Any](),
                                             headers: [("Authorization", "Bearer \(token)")])
        #expect(milvusOK.object["code"] as? Int != 1800)
        await server.stop()
    }

    @Test("a file swapped for a link to something else after indexing is not served")
    func symlinkEscape() async throws {
        let server = try await TestServer.start(video: false)
        let items = try await server.library.items(filter: "kind == \"image\"")
        let victim = try #require(items.first)
        let secret = server.root.appendingPathComponent("secret.txt")
        try Data("root:x:0:0:secret\n".utf8).write(to: secret)
        try FileManager.default.removeItem(atPath: victim.path)
        try FileManager.default.createSymbolicLink(atPath: victim.path, withDestinationPath: secret.path)
        let media = try await server.send(.GET, "/api/items/\(victim.id)/media")
        #expect([403, 404, 409].contains(media.status), "\(media.status)")
        #expect(!String(decoding: media.body, as: UTF8.self).contains("root:x"))
        let thumb = try await server.send(.GET, "/api/items/\(victim.id)/thumbnail")
        #expect([403, 404, 409].contains(thumb.status))

        // A deleted file is a clear 404 naming the path.
        let other = try #require(items.dropFirst().first)
        try FileManager.default.removeItem(atPath: other.path)
        let (gone, body) = try await server.json(.GET, "/api/items/\(other.id)/media")
        #expect(gone == 404)
        #expect(((body["error"] as? [String: Any])?["message"] as? String ?? "").contains(other.path))

        // Links to secrets inside an indexed folder are never indexed (not media by content).
        try FileManager.default.createSymbolicLink(atPath: server.mediaFolder.appendingPathComponent("passwd.jpg").path,
                                                   withDestinationPath: secret.path)
        let (_, job) = try await server.json(.POST, "/api/index", ["paths": [server.mediaFolder.path]])
        _ = try await server.send(.GET, "/api/jobs/\(job["id"] as? String ?? "")/events")
        let after = try await server.library.items()
        #expect(!after.contains { $0.name == "passwd.jpg" })
        await server.stop()
    }

    @Test("index roots confine what clients may index, links included")
    func indexRoots() async throws {
        let server = try await TestServer.start(index: false, video: false, configure: { configuration in
            configuration.indexRoots = [FileManager.default.temporaryDirectory.appendingPathComponent("nowhere").path]
        })
        let (status, body) = try await server.json(.POST, "/api/index", ["paths": [server.mediaFolder.path]])
        #expect(status == 403)
        #expect(((body["error"] as? [String: Any])?["message"] as? String ?? "").contains("--index-root"))
        await server.stop()

        let allowed = try await TestServer.start(index: false, video: false, configure: { configuration in
            configuration.indexRoots = [FileManager.default.temporaryDirectory.path]
        })
        let (ok, _) = try await allowed.json(.POST, "/api/index", ["paths": [allowed.mediaFolder.path]])
        #expect(ok == 202)
        let (etc, _) = try await allowed.json(.POST, "/api/index", ["paths": ["/etc"]])
        #expect(etc == 403)
        let link = allowed.root.appendingPathComponent("etc-link")
        try FileManager.default.createSymbolicLink(atPath: link.path, withDestinationPath: "/etc")
        let (viaLink, _) = try await allowed.json(.POST, "/api/index", ["paths": [link.path]])
        #expect(viaLink == 403)
        await allowed.stop()
    }

    @Test("uploads over the configured limit are refused with 413")
    func uploadLimit() async throws {
        let server = try await TestServer.start(index: false, video: false, configure: { $0.maxUploadBytes = 256 })
        let picture = try Data(contentsOf: try #require(server.pictures.first { $0.url.pathExtension == "png" }?.url))
        #expect(picture.count > 256)
        let answer = try await server.send(.POST, "/api/search", body: multipart([("image", "big.png", picture)]),
                                           headers: [("Content-Type", "multipart/form-data; boundary=loupe-test-boundary")])
        #expect(answer.status == 413, "\(answer.status) \(String(decoding: answer.body, as: UTF8.self))")
        await server.stop()
    }

    @Test("CORS answers only configured origins")
    func cors() async throws {
        let server = try await TestServer.start(index: false, video: false, configure: {
            $0.corsOrigins = ["https://app.example"]
        })
        let allowed = try await server.send(.GET, "/api/stats", headers: [("Origin", "https://app.example")])
        #expect(allowed.headers.first(name: "Access-Control-Allow-Origin") == "https://app.example")
        let other = try await server.send(.GET, "/api/stats", headers: [("Origin", "https://evil.example")])
        #expect(other.headers.first(name: "Access-Control-Allow-Origin") == nil)
        let preflight = try await server.send(.OPTIONS, "/api/search", headers: [
            ("Origin", "https://app.example"), ("Access-Control-Request-Method", "POST"),
        ])
        #expect(preflight.status == 204)
        #expect(preflight.headers.first(name: "Access-Control-Allow-Methods")?.contains("POST") == true)
        await server.stop()
    }

    @Test("the compiled-in page matches its sources (run tools/embed_web_assets.py after editing)")
    func webAssetsInSync() throws {
        let web = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Sources/LoupeServer/Web")
        let names = try FileManager.default.contentsOfDirectory(atPath: web.path).filter {
            ["html", "js", "css", "svg", "json"].contains(($0 as NSString).pathExtension)
        }
        #expect(Set(names) == Set(WebAssets.names))
        for name in names {
            let source = try String(contentsOf: web.appendingPathComponent(name), encoding: .utf8)
            var trimmed = source
            while trimmed.hasSuffix("\n") { trimmed.removeLast() }
            #expect(WebAssets.files[name]?.body == trimmed, "\(name) differs from WebAssets.swift")
        }
    }
}
