import AsyncHTTPClient
import Foundation
import Loupe
import LoupeFixtures
import NIOCore
import LoupeMedia
import Testing
@testable import LoupeServer

/// One indexed server shared by the read-only API tests (starting one indexes a library: ~2 s).
actor SharedServer {
    static let shared = SharedServer()
    private var server: TestServer?

    func get() async throws -> TestServer {
        if let server { return server }
        // Shared by the suite's tests, so it is not scoped to the test that happens to start it.
        let started = try await StartedServers.$current.withValue(nil) { try await TestServer.start() }
        server = started
        return started
    }
}

private func results(_ object: [String: Any]) -> [[String: Any]] { object["results"] as? [[String: Any]] ?? [] }

private func errorCode(_ object: [String: Any]) -> String? { (object["error"] as? [String: Any])?["code"] as? String }

private func errorMessage(_ object: [String: Any]) -> String { (object["error"] as? [String: Any])?["message"] as? String ?? "" }

/// A multipart/form-data body with the given parts (name, file name, bytes).
func multipart(_ parts: [(name: String, filename: String?, data: Data)], boundary: String = "loupe-test-boundary") -> Data {
    var body = Data()
    for part in parts {
        body += Data("--\(boundary)\r\n".utf8)
        if let filename = part.filename {
            body += Data("Content-Disposition: form-data; name=\"\(part.name)\"; filename=\"\(filename)\"\r\n".utf8)
            body += Data("Content-Type: application/octet-stream\r\n\r\n".utf8)
        } else {
            body += Data("Content-Disposition: form-data; name=\"\(part.name)\"\r\n\r\n".utf8)
        }
        body += part.data + Data("\r\n".utf8)
    }
    body += Data("--\(boundary)--\r\n".utf8)
    return body
}

@Suite("Loupe API", .serialized)
struct APITests {
    @Test("health check answers with the model and item count")
    func health() async throws {
        let server = try await SharedServer.shared.get()
        let (status, object) = try await server.json(.GET, "/healthz")
        #expect(status == 200)
        #expect(object["model"] as? String == "shapes-clip")
        #expect(object["items"] as? Int == server.pictures.count + 1)
    }

    @Test("text search returns the matching pictures first, with scores, URLs and a request id")
    func textSearch() async throws {
        let server = try await SharedServer.shared.get()
        let answer = try await server.send(.POST, "/api/search",
                                           body: Data(#"{"text": "a red circle", "k": 2, "type": "image"}"#.utf8))
        #expect(answer.status == 200)
        #expect(answer.headers.first(name: "X-Request-Id")?.isEmpty == false)
        let object = try #require(try JSONSerialization.jsonObject(with: answer.body) as? [String: Any])
        let found = results(object)
        #expect(found.count == 2)  // two pictures per class
        #expect(found.allSatisfy { ($0["name"] as? String)?.contains("red-circle") == true }, "\(found.map { $0["name"] ?? "" })")
        let scores = found.compactMap { $0["score"] as? Double }
        #expect(scores == scores.sorted(by: >))
        let first = try #require(found.first)
        #expect(first["thumbnail_url"] as? String == "/api/items/\(first["id"]!)/thumbnail")
        #expect(object["took_ms"] != nil)

        // The GET form gives the same order.
        let (status, viaGet) = try await server.json(.GET, "/api/search?q=a%20red%20circle&k=2&type=image")
        #expect(status == 200)
        #expect(results(viaGet).map { $0["id"] as? Int } == found.map { $0["id"] as? Int })
    }

    @Test("video search returns the moment with its time range")
    func videoMoment() async throws {
        let server = try await SharedServer.shared.get()
        let (status, object) = try await server.json(.POST, "/api/search", ["text": "a blue square", "type": "video", "k": 5])
        #expect(status == 200)
        let top = try #require(results(object).first)
        #expect(top["kind"] as? String == "video" && top["scope"] as? String == "clip")
        let start = try #require(top["start"] as? Double), end = try #require(top["end"] as? Double)
        #expect(start < 8 && end > 4, "moment \(start)-\(end) should overlap 4-8 s")
    }

    @Test("subtracting a term moves results; folder and date filters narrow them")
    func arithmeticAndFilters() async throws {
        let server = try await SharedServer.shared.get()
        let (_, moved) = try await server.json(.POST, "/api/search", [
            "text": "a red circle", "type": "image", "k": 3,
            "terms": [["weight": -1, "text": "a red square"], ["weight": 1, "text": "a blue square"]],
        ])
        let names = results(moved).compactMap { $0["name"] as? String }
        #expect(names.contains { $0.contains("blue") }, "\(names)")

        let (_, inFolder) = try await server.json(.POST, "/api/search",
                                                   ["text": "a red circle", "folder": server.mediaFolder.path, "k": 50])
        #expect(!results(inFolder).isEmpty)
        let (_, elsewhere) = try await server.json(.POST, "/api/search", ["text": "a red circle", "folder": "/nowhere", "k": 5])
        #expect(results(elsewhere).isEmpty)
        let (_, future) = try await server.json(.POST, "/api/search", ["text": "a red circle", "after": "2999-01-01"])
        #expect(results(future).isEmpty)
        let (_, past) = try await server.json(.POST, "/api/search", ["text": "a red circle", "before": "2999-01-01", "k": 2])
        #expect(results(past).count == 2)
        let (_, scored) = try await server.json(.POST, "/api/search", ["text": "a red circle", "min_score": 0.99])
        #expect(results(scored).allSatisfy { ($0["score"] as? Double ?? 0) >= 0.99 })
    }

    @Test("autocut: results end after the red circles, each with its relevance group, and the rest is counted")
    func autocut() async throws {
        let server = try await SharedServer.shared.get()
        let (status, all) = try await server.json(.POST, "/api/search", ["text": "a red circle", "k": 50])
        #expect(status == 200)
        let every = results(all)
        #expect(every.count == server.pictures.count + 1 && all["cut_by_autocut"] as? Int == 0)
        #expect(every.allSatisfy { $0["relevance"] is Int && $0["score"] is Double })
        let (_, cut) = try await server.json(.POST, "/api/search", ["text": "a red circle", "k": 50, "autocut": 1])
        let kept = results(cut)
        // Two red-circle pictures a class here, and the video's red-circle moment.
        #expect(kept.map { $0["id"] as? Int } == every.prefix(kept.count).map { $0["id"] as? Int })
        #expect(kept.allSatisfy { ($0["name"] as? String ?? "").hasPrefix("red-circle") || $0["start"] is Double },
                "\(kept.map { $0["name"] ?? "" })")
        #expect(kept.count == 3 && cut["cut_by_autocut"] as? Int == every.count - 3, "\(kept.count) kept")
        #expect(kept.allSatisfy { $0["relevance"] as? Int == 0 })
        #expect(every.dropFirst(3).allSatisfy { ($0["relevance"] as? Int ?? 0) >= 1 })
        let (_, viaGet) = try await server.json(.GET, "/api/search?q=a%20red%20circle&k=50&autocut=1")
        #expect(results(viaGet).count == 3)
        let (badStatus, bad) = try await server.json(.GET, "/api/search?q=x&autocut=lots")
        #expect(badStatus == 400 && errorMessage(bad).contains("autocut 'lots'"), "\(errorMessage(bad))")
    }

    @Test("more like this: an item as the query finds its own class")
    func moreLikeThis() async throws {
        let server = try await SharedServer.shared.get()
        let (_, first) = try await server.json(.POST, "/api/search", ["text": "a green triangle", "type": "image", "k": 1])
        let id = try #require(results(first).first?["id"] as? Int)
        let (status, similar) = try await server.json(.POST, "/api/search", ["item": id, "type": "image", "k": 2])
        #expect(status == 200)
        #expect(results(similar).allSatisfy { ($0["name"] as? String)?.contains("green-triangle") == true })
    }

    @Test("an uploaded picture is searched by its content; other uploads are refused by content")
    func uploads() async throws {
        let server = try await SharedServer.shared.get()
        let pixels = ShapePainter(width: 160, height: 120).paint(.circle, .red, x: 0.5, y: 0.5, scale: 0.6,
                                                                  background: (230, 230, 230))
        let png = try ImageEncoder.encode(pixels: pixels, width: 160, height: 120, as: .png)
        let boundary = "loupe-test-boundary"
        let header = [("Content-Type", "multipart/form-data; boundary=\(boundary)")]
        let query = Data(#"{"type": "image", "k": 2}"#.utf8)
        let ok = try await server.send(.POST, "/api/search",
                                       body: multipart([("image", "query.png", png), ("query", nil, query)]), headers: header)
        #expect(ok.status == 200)
        let object = try #require(try JSONSerialization.jsonObject(with: ok.body) as? [String: Any])
        #expect(results(object).count == 2)
        #expect(results(object).allSatisfy { ($0["name"] as? String)?.contains("red-circle") == true })

        // A text file named .png is sniffed and refused.
        let fake = try await server.send(.POST, "/api/search",
                                         body: multipart([("image", "evil.png", Data("#!/bin/sh\necho hi\n".utf8))]),
                                         headers: header)
        #expect(fake.status == 415)
        // A truncated picture is a clear 4xx, not a crash.
        let truncated = try await server.send(.POST, "/api/search", body: multipart([("image", "cut.png", png.prefix(60))]),
                                              headers: header)
        #expect((400..<500).contains(truncated.status))
        // A multipart body cut before its closing boundary.
        let cut = multipart([("image", "q.png", png)]).dropLast(30)
        let broken = try await server.send(.POST, "/api/search", body: Data(cut), headers: header)
        #expect(broken.status == 400)
    }

    @Test("an uploaded HEIC picture is refused by content, with a message saying it is HEIC")
    func heicUpload() async throws {
        let server = try await SharedServer.shared.get()
        // The start of an iPhone photo: an ISO box "ftyp" of brand heic; nothing here decodes HEIC.
        let heic = Data([0x00, 0x00, 0x00, 0x18]) + Data("ftypheic".utf8) + Data([0, 0, 0, 0]) + Data("mif1heic".utf8)
            + Data(count: 200)
        let header = [("Content-Type", "multipart/form-data; boundary=loupe-test-boundary")]
        let answer = try await server.send(.POST, "/api/search", body: multipart([("image", "photo.jpg", heic)]),
                                           headers: header)
        #expect(answer.status == 415)
        let message = String(decoding: answer.body, as: UTF8.self)
        #expect(message.contains("upload 'photo.jpg' is a HEIC picture, which Loupe does not decode"), "\(message)")
    }

    @Test("bad requests get 4xx answers in the error shape, naming the problem")
    func badRequests() async throws {
        let server = try await SharedServer.shared.get()
        let cases: [(String, Int, String)] = [
            (#"{"text": "#, 400, "not valid"),
            (#"{"k": 5}"#, 400, "nothing to search with"),
            (#"{"text": "x", "k": 100000}"#, 400, "k 100000"),
            (#"{"text": "x", "k": "ten"}"#, 400, "k"),
            (#"{"text": "x", "type": "audio"}"#, 400, "type 'audio'"),
            (#"{"text": "x", "filter": "width >>> 3"}"#, 400, ""),
            (#"{"text": "x", "after": "yesterday"}"#, 400, "not a date"),
            (#"{"terms": [{"weight": 1}]}"#, 400, "exactly one of"),
            (#"{"terms": [{"weight": 99, "text": "x"}]}"#, 400, "weight"),
            (#"{"image_url": "file:///etc/passwd"}"#, 400, "http(s)"),
            (#"{"item": 987654}"#, 404, "987654"),
            (#"{"text": "x", "autocut": -1}"#, 400, "autocut -1"),
            (#"{"text": "x", "autocut": 64}"#, 400, "autocut 64"),
            (#"{"text": "x", "autocut": 9223372036854775807}"#, 400, "autocut 9223372036854775807"),
            (#"{"text": "x", "autocut": 1e300}"#, 400, "autocut"),
            (#"{"text": "x", "autocut": "one"}"#, 400, "autocut"),
        ]
        for (body, status, needle) in cases {
            let answer = try await server.send(.POST, "/api/search", body: Data(body.utf8))
            let object = (try? JSONSerialization.jsonObject(with: answer.body) as? [String: Any]) ?? [:]
            #expect(answer.status == status, "\(body) -> \(answer.status) \(String(decoding: answer.body, as: UTF8.self))")
            #expect(errorCode(object) != nil, "\(body): \(String(decoding: answer.body, as: UTF8.self))")
            #expect(needle.isEmpty || errorMessage(object).contains(needle), "\(body): \(errorMessage(object))")
        }
        let (status, object) = try await server.json(.GET, "/api/no-such-route")
        #expect(status == 404)
        #expect(errorCode(object) != nil)
        let wrongType = try await server.send(.POST, "/api/search", body: Data("text=x".utf8),
                                              headers: [("Content-Type", "text/plain")])
        #expect(wrongType.status == 415)
    }

    @Test("bodies over the limit are refused with 413")
    func bodyLimits() async throws {
        let server = try await SharedServer.shared.get()
        let huge = Data(#"{"text": ""#.utf8) + Data(repeating: UInt8(ascii: "a"), count: 9 << 20) + Data(#""}"#.utf8)
        let answer = try await server.send(.POST, "/api/search", body: huge)
        #expect(answer.status == 413)

        // The same without a Content-Length (chunked): the limit holds while reading.
        var request = HTTPClientRequest(url: server.url("/api/search"))
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        let chunk = ByteBuffer(repeating: UInt8(ascii: " "), count: 1 << 20)
        let chunks = AsyncStream<ByteBuffer> { continuation in
            for _ in 0..<9 { continuation.yield(chunk) }
            continuation.finish()
        }
        request.body = .stream(chunks, length: .unknown)
        do {
            let response = try await server.client.execute(request, timeout: .seconds(30))
            #expect(response.status.code == 413)
        } catch {
            // The server may close the connection before the client finished sending; that is a refusal too.
        }
        let (status, _) = try await server.json(.GET, "/healthz")
        #expect(status == 200)
    }

    @Test("a private URL is not fetched on a user's behalf")
    func privateURLRefused() async throws {
        let server = try await SharedServer.shared.get()
        let (status, object) = try await server.json(.POST, "/api/search", ["image_url": server.url("/favicon.svg")])
        #expect(status == 400)
        #expect(errorMessage(object).contains("private"), "\(object)")
    }

    @Test("items: metadata, the original with byte ranges, and a thumbnail of the right size")
    func items() async throws {
        let server = try await SharedServer.shared.get()
        let (_, list) = try await server.json(.GET, "/api/items?type=image&limit=500")
        let items = list["items"] as? [[String: Any]] ?? []
        #expect(items.count == server.pictures.count)
        let item = try #require(items.first)
        let id = try #require(item["id"] as? Int)
        let path = try #require(item["path"] as? String)
        let original = try Data(contentsOf: URL(fileURLWithPath: path))

        let (status, detail) = try await server.json(.GET, "/api/items/\(id)")
        #expect(status == 200 && detail["path"] as? String == path && detail["sha256"] as? String != nil)

        let whole = try await server.send(.GET, "/api/items/\(id)/media")
        #expect(whole.status == 200 && whole.body == original)
        let expectedType = path.hasSuffix(".png") ? "image/png" : "image/jpeg"
        #expect(whole.headers.first(name: "Content-Type") == expectedType)
        #expect(whole.headers.first(name: "Accept-Ranges") == "bytes")

        let part = try await server.send(.GET, "/api/items/\(id)/media", headers: [("Range", "bytes=10-19")])
        #expect(part.status == 206 && part.body == original[10...19])
        #expect(part.headers.first(name: "Content-Range") == "bytes 10-19/\(original.count)")
        let tail = try await server.send(.GET, "/api/items/\(id)/media", headers: [("Range", "bytes=-5")])
        #expect(tail.status == 206 && tail.body == original.suffix(5))
        let outside = try await server.send(.GET, "/api/items/\(id)/media", headers: [("Range", "bytes=999999999-")])
        #expect(outside.status == 416)

        let thumb = try await server.send(.GET, "/api/items/\(id)/thumbnail?size=64")
        #expect(thumb.status == 200 && thumb.headers.first(name: "Content-Type") == "image/jpeg")
        let decoded = try ImageDecoder().decode(thumb.body, path: nil)
        #expect(max(decoded.width, decoded.height) == 64)
        let cached = try await server.send(.GET, "/api/items/\(id)/thumbnail?size=64")
        #expect(cached.body == thumb.body)

        // A video moment's thumbnail is a frame of the video.
        let (_, moment) = try await server.json(.POST, "/api/search", ["text": "a blue square", "type": "video", "k": 1])
        let clip = try #require(results(moment).first?["id"] as? Int)
        let frame = try await server.send(.GET, "/api/items/\(clip)/thumbnail?size=96")
        #expect(frame.status == 200)
        let video = try await server.send(.GET, "/api/items/\(clip)/media", headers: [("Range", "bytes=0-99")])
        #expect(video.status == 206 && video.body.count == 100)
        #expect(video.headers.first(name: "Content-Type") == "video/mp4")
    }

    @Test("no path traversal: only ids of indexed items reach files")
    func traversal() async throws {
        let server = try await SharedServer.shared.get()
        for path in ["/api/items/..%2F..%2Fetc%2Fpasswd/media", "/api/items/../../etc/passwd", "/../../etc/passwd",
                     "/api/items/-1/media", "/api/items/1e3/media", "/app.js/../../../etc/passwd", "/%2e%2e/%2e%2e/etc/passwd"]
        {
            let answer = try await server.send(.GET, path)
            #expect([400, 404].contains(answer.status), "\(path) -> \(answer.status)")
            #expect(!String(decoding: answer.body, as: UTF8.self).contains("root:"), "\(path) leaked a file")
        }
    }

    @Test("search pages continue the ranking, and every moment of a video on request")
    func searchPagesAndMoments() async throws {
        let server = try await SharedServer.shared.get()
        let (_, one) = try await server.json(.POST, "/api/search", ["text": "a blue square", "type": "video", "k": 10])
        #expect(results(one).count == 1, "one result per video by default")
        let (_, every) = try await server.json(.POST, "/api/search",
                                               ["text": "a blue square", "type": "video", "k": 10, "moments_per_video": 5])
        let moments = results(every)
        #expect(moments.count == 3 && moments.allSatisfy { $0["scope"] as? String == "clip" }, "\(moments)")
        let (_, second) = try await server.json(.GET, "/api/search?q=a%20blue%20square&type=video&k=1&offset=1&moments_per_video=5")
        #expect(results(second).map { $0["id"] as? Int } == [moments[1]["id"] as? Int])

        let (_, all) = try await server.json(.POST, "/api/search", ["text": "a green triangle", "k": 30])
        let (_, tail) = try await server.json(.POST, "/api/search", ["text": "a green triangle", "k": 20, "offset": 10])
        #expect(results(tail).map { $0["id"] as? Int } == results(all).dropFirst(10).map { $0["id"] as? Int })

        for bad in ["moments_per_video=0", "moments_per_video=2000", "offset=-1", "offset=x", "after=soon", "after=nan",
                    "offset=9223372036854775807", "filter=1%3D%3D1)%20or%20(1%3D%3D1"] {
            let (status, object) = try await server.json(.GET, "/api/search?q=a%20cat&\(bad)")
            #expect(status == 400 && errorCode(object) == "invalid_argument", "\(bad): \(status) \(object)")
        }
    }

    @Test("items come a page at a time with the total, filtered by type, folder and date")
    func itemPages() async throws {
        let server = try await SharedServer.shared.get()
        let (status, everything) = try await server.json(.GET, "/api/items?limit=500")
        #expect(status == 200)
        let all = (everything["items"] as? [[String: Any]] ?? []).compactMap { $0["id"] as? Int }
        #expect(all.count == server.pictures.count + 1 && everything["total"] as? Int == all.count)
        var paged: [Int] = []
        for offset in stride(from: 0, to: all.count, by: 10) {
            let (_, page) = try await server.json(.GET, "/api/items?limit=10&offset=\(offset)")
            #expect(page["total"] as? Int == all.count && page["offset"] as? Int == offset && page["limit"] as? Int == 10)
            paged += (page["items"] as? [[String: Any]] ?? []).compactMap { $0["id"] as? Int }
        }
        #expect(paged == all)

        func total(_ query: String) async throws -> Int? { try await server.json(.GET, "/api/items?\(query)").1["total"] as? Int }
        let folder = server.mediaFolder.path
        func encoded(_ text: String) -> String { text.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? text }
        #expect(try await total("type=video") == 1)
        #expect(try await total("folder=\(encoded(folder))") == all.count)
        // `_` in a folder is a character, not a `like` wildcard: ".../medi_" is not ".../media".
        #expect(try await total("folder=\(encoded(String(folder.dropLast()) + "_"))") == 0)
        #expect(try await total("after=2999-01-01") == 0)
        #expect(try await total("before=2999-01-01&type=image") == server.pictures.count)
        // A filter cannot close its parenthesis to lift the clause that keeps moments out of the listing.
        let injected = "1==1) or (scope==\"clip\"".addingPercentEncoding(withAllowedCharacters: .alphanumerics)!
        for bad in ["limit=0", "offset=-3", "type=audio", "after=tomorrow", "after=inf", "filter=width%20%3E%3E%201",
                    "filter=\(injected)"] {
            let (status, object) = try await server.json(.GET, "/api/items?\(bad)")
            #expect(status == 400, "\(bad): \(status) \(object)")
        }
    }

    @Test("collections, stats, metrics and the OpenAPI document")
    func systemEndpoints() async throws {
        let server = try await SharedServer.shared.get()
        let (_, collections) = try await server.json(.GET, "/api/collections")
        let list = collections["collections"] as? [[String: Any]] ?? []
        #expect(list.contains { $0["name"] as? String == "media" })
        let (_, stats) = try await server.json(.GET, "/api/stats")
        #expect(stats["images"] as? Int == server.pictures.count && stats["videos"] as? Int == 1)
        #expect(stats["moments"] as? Int == 3 && stats["dimension"] as? Int != nil)

        let metrics = try await server.send(.GET, "/metrics")
        let text = String(decoding: metrics.body, as: UTF8.self)
        #expect(text.contains("loupe_http_requests_total{"))
        #expect(text.contains("loupe_http_request_duration_seconds_bucket{"))
        #expect(text.contains("loupe_index_images \(server.pictures.count)"))
        #expect(text.contains("loupe_query_embedding_seconds_count"))
        #expect(text.contains("loupe_search_seconds_count"))
        #expect(text.contains("# TYPE loupe_provider_requests_total counter"), "calls to cloud providers are in /metrics too")

        let (status, spec) = try await server.json(.GET, "/openapi.json")
        #expect(status == 200 && (spec["openapi"] as? String)?.hasPrefix("3.") == true)
        let paths = spec["paths"] as? [String: Any] ?? [:]
        for path in ["/api/search", "/api/index", "/api/jobs/{id}", "/api/jobs/{id}/events", "/api/items/{id}",
                     "/api/items/{id}/media", "/api/items/{id}/thumbnail", "/api/collections", "/api/stats", "/healthz",
                     "/metrics"]
        {
            #expect(paths[path] != nil, "openapi.json lacks \(path)")
        }
        let page = try await server.send(.GET, "/")
        #expect(page.status == 200 && page.headers.first(name: "Content-Type")?.hasPrefix("text/html") == true)
    }

    @Test("CORS is off unless origins are configured")
    func corsOff() async throws {
        let server = try await SharedServer.shared.get()
        let answer = try await server.send(.GET, "/api/stats", headers: [("Origin", "https://evil.example")])
        #expect(answer.headers.first(name: "Access-Control-Allow-Origin") == nil)
    }
}
