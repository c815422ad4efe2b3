import Foundation
import Loupe
import LoupeMedia
import Testing
@testable import LoupeServer

#if canImport(Glibc)
import Glibc
#endif

/// The attacks of issue 19, each against a live server: the attack fails cleanly, the server still
/// answers `/healthz` with 200, and the library is intact.
@Suite("Hardening (issue 19)", .serialized)
struct HardeningTests {
    /// The item count before an attack, to compare after it.
    static func itemCount(_ server: TestServer) async throws -> Int { try await server.library.count() }

    /// `/healthz` answers 200 and the library still holds `count` rows.
    static func expectAlive(_ server: TestServer, count: Int, sourceLocation: SourceLocation = #_sourceLocation) async throws {
        let health = try await server.send(.GET, "/healthz")
        #expect(health.status == 200, "healthz answered \(health.status)", sourceLocation: sourceLocation)
        #expect(try await server.library.count() == count, "the library lost rows", sourceLocation: sourceLocation)
    }

    static func message(_ object: [String: Any]) -> String {
        (object["error"] as? [String: Any])?["message"] as? String ?? object["message"] as? String ?? ""
    }

    @Test("row 1: huge or non-finite video times are refused, not a SIGILL")
    func videoTimes() async throws {
        let server = try await TestServer.start()
        let count = try await Self.itemCount(server)
        let video = try #require(try await server.library.items(filter: "kind == \"video\"").first)
        for (start, end) in [(1e15, 2e15), (1e300, 1e301), (0, 1e-300), (-5, 3)] {
            let (status, body) = try await server.json(.POST, "/api/search",
                                                       ["terms": [["item": video.id, "start": start, "end": end]]])
            #expect(status == 400, "\(start)-\(end): \(status) \(body)")
        }
        // The library call the CLI makes (`--add "1:clip.mp4@1e300-1e301"`) throws instead of trapping.
        await #expect(throws: (any Error).self) {
            _ = try await server.library.vector(for: .videoClip(URL(fileURLWithPath: video.path), start: 1e300, end: 1e301))
        }
        await #expect(throws: (any Error).self) {
            _ = try await server.library.vector(for: .videoClip(URL(fileURLWithPath: video.path), start: 0, end: 1e-300))
        }
        try await Self.expectAlive(server, count: count)
        await server.stop()
    }

    @Test("rows 2 and 10: deep, long and slow filters are refused on every route")
    func filters() async throws {
        let server = try await TestServer.start(video: false)
        let count = try await Self.itemCount(server)
        let deep = String(repeating: "(", count: 3_000) + "width > 1" + String(repeating: ")", count: 3_000)
        let chain = Array(repeating: "width > 1", count: 20_000).joined(separator: " and ")
        let like = "name like \"%" + String(repeating: "a", count: 40_000) + "\""
        for filter in [deep, chain, like] {
            let started = Date()
            let (status, body) = try await server.json(.POST, "/api/search", ["text": "red", "filter": filter])
            #expect(status == 400, "\(status) \(Self.message(body).prefix(200))")
            let milvus = try await server.json(.POST, "/v2/vectordb/entities/query",
                                               ["collectionName": server.library.configuration.collection, "filter": filter])
            #expect(milvus.object["code"] as? Int == 1100, "\(milvus.object["code"] ?? "")")
            // Refused before evaluation: bounded even in a debug build on a loaded machine.
            #expect(Date().timeIntervalSince(started) < 60)
        }
        let terms = (0..<10_000).map { ["text": "red \($0)"] }
        let (tooMany, body) = try await server.json(.POST, "/api/search", ["terms": terms])
        #expect(tooMany == 400 && Self.message(body).contains("the limit is 32"), "\(tooMany)")
        try await Self.expectAlive(server, count: count)
        await server.stop()
    }

    @Test("row 3: a file swapped for a same-size link or hard link to a secret is refused, bytes never echoed")
    func swappedFiles() async throws {
        let server = try await TestServer.start(video: false)
        let count = try await Self.itemCount(server)
        let images = try await server.library.items(filter: "kind == \"image\"")
        #expect(images.allSatisfy { $0.fileInode != nil }, "the inode is recorded at index time")
        let secretText = "root:$6$very-secret-hash:19000:0:99999:7:::\n"
        func secret(size: Int) throws -> URL {
            let url = server.root.appendingPathComponent("shadow-\(size)")
            var data = Data(secretText.utf8)
            data += Data(repeating: UInt8(ascii: "x"), count: max(0, size - data.count))
            try data.prefix(size).write(to: url)
            return url
        }
        func expectRefused(_ item: MediaItem, _ what: String) async throws {
            for path in ["/api/items/\(item.id)/media", "/api/items/\(item.id)/thumbnail"] {
                let answer = try await server.send(.GET, path)
                #expect([403, 404, 409].contains(answer.status), "\(what) \(path): \(answer.status)")
                #expect(!String(decoding: answer.body, as: UTF8.self).contains("root:"), "\(what) \(path) leaked bytes")
                #expect(!String(decoding: answer.body, as: UTF8.self).contains("72 6f 6f 74"), "\(what) \(path) leaked bytes")
            }
        }
        // A symlink to a secret of exactly the indexed size.
        let a = images[0]
        let s1 = try secret(size: Int(a.size))
        try FileManager.default.removeItem(atPath: a.path)
        try FileManager.default.createSymbolicLink(atPath: a.path, withDestinationPath: s1.path)
        try await expectRefused(a, "symlink")
        // A hard link to a secret of the same size, with the indexed modification time.
        let b = images[1]
        let s2 = try secret(size: Int(b.size))
        try FileManager.default.setAttributes([.modificationDate: b.modified], ofItemAtPath: s2.path)
        try FileManager.default.removeItem(atPath: b.path)
        try FileManager.default.linkItem(atPath: s2.path, toPath: b.path)
        try await expectRefused(b, "hard link")
        // The parent folder swapped for a link to a folder holding a same-named secret.
        let c = images[2]
        let elsewhere = server.root.appendingPathComponent("elsewhere")
        try FileManager.default.createDirectory(at: elsewhere, withIntermediateDirectories: true)
        let s3 = try secret(size: Int(c.size))
        try FileManager.default.moveItem(atPath: s3.path, toPath: elsewhere.appendingPathComponent(c.name).path)
        let parent = (c.path as NSString).deletingLastPathComponent
        try FileManager.default.moveItem(atPath: parent, toPath: parent + ".moved")
        try FileManager.default.createSymbolicLink(atPath: parent, withDestinationPath: elsewhere.path)
        try await expectRefused(c, "swapped folder")
        try FileManager.default.removeItem(atPath: parent)
        try FileManager.default.moveItem(atPath: parent + ".moved", toPath: parent)
        // An untouched file is still served whole and by ranges.
        let d = images[3]
        let original = try Data(contentsOf: URL(fileURLWithPath: d.path))
        let whole = try await server.send(.GET, "/api/items/\(d.id)/media")
        #expect(whole.status == 200 && whole.body == original)
        let range = try await server.send(.GET, "/api/items/\(d.id)/media", headers: [("Range", "bytes=1-8")])
        #expect(range.status == 206 && range.body == original.subdata(in: 1..<9))
        let thumb = try await server.send(.GET, "/api/items/\(d.id)/thumbnail?size=64")
        #expect(thumb.status == 200 && thumb.body.starts(with: [0xFF, 0xD8]))
        try await Self.expectAlive(server, count: count)
        await server.stop()
    }

    @Test("row 4: Milvus REST cannot drop, release or write to the library's collection")
    func libraryCollection() async throws {
        let server = try await TestServer.start(video: false)
        let count = try await Self.itemCount(server)
        let name = server.library.configuration.collection
        let row: [String: Any] = ["path": "/nowhere.png", "vector": [Float](repeating: 0.1, count: 64)]
        let calls: [(String, [String: Any])] = [
            ("collections/drop", [:]), ("collections/release", [:]),
            ("entities/insert", ["data": [row]]), ("entities/upsert", ["data": [row]]),
            ("entities/delete", ["filter": "id > 0"]), ("entities/delete", ["id": [1]]),
            ("aliases/create", ["aliasName": "library_alias"]),
        ]
        for (call, body) in calls {
            let answer = try await server.json(.POST, "/v2/vectordb/" + call, body.merging(["collectionName": name]) { $1 })
            #expect(answer.object["code"] as? Int == 1401, "\(call): \(answer.object)")
            #expect((answer.object["message"] as? String ?? "").contains("--allow-library-admin"), "\(call): \(answer.object)")
        }
        // Other collections are the client's to drop.
        _ = try await server.json(.POST, "/v2/vectordb/collections/create", ["collectionName": "scratch", "dimension": 4])
        let dropped = try await server.json(.POST, "/v2/vectordb/collections/drop", ["collectionName": "scratch"])
        #expect(dropped.object["code"] as? Int == 0)
        try await Self.expectAlive(server, count: count)
        await server.stop()

        // With --allow-library-admin the drop goes through, and the server says clearly what is wrong.
        let admin = try await TestServer.start(video: false, configure: { $0.allowsLibraryAdmin = true })
        let answer = try await admin.json(.POST, "/v2/vectordb/collections/drop", ["collectionName": name])
        #expect(answer.object["code"] as? Int == 0)
        let (status, health) = try await admin.json(.GET, "/healthz")
        #expect(status == 503 && health["status"] as? String == "degraded", "\(status) \(health)")
        await admin.stop()
    }

    @Test("row 5: image URLs on loopback in any spelling are refused")
    func ssrf() async throws {
        let server = try await TestServer.start(index: false, video: false)
        let port = server.port
        let spellings = [
            "http://[::ffff:0.0.0.0]:\(port)/healthz", "http://[::ffff:0:0]:\(port)/healthz",
            "http://[0:0:0:0:0:ffff:0:0]:\(port)/healthz", "http://[::ffff:127.0.0.1]:\(port)/healthz",
            "http://[0:0:0:0:0:ffff:7f00:1]:\(port)/healthz", "http://[::]:\(port)/healthz", "http://[::1]:\(port)/healthz",
            "http://[::127.0.0.1]:\(port)/healthz", "http://[64:ff9b::7f00:1]:\(port)/healthz",
            "http://0.0.0.0:\(port)/healthz", "http://0x7f.1:\(port)/healthz", "http://2130706433:\(port)/healthz",
            "http://127.1:\(port)/healthz", "http://localhost:\(port)/healthz",
        ]
        for url in spellings {
            let (status, body) = try await server.json(.POST, "/api/search", ["image_url": url])
            #expect(status == 400, "\(url): \(status)")
            #expect(Self.message(body).contains("not allowed"), "\(url): \(Self.message(body))")
        }
        try await Self.expectAlive(server, count: 0)
        await server.stop()
    }

    @Test("row 6: a Milvus search of 300 vectors x 16384 results is refused at once")
    func searchSize() async throws {
        let server = try await TestServer.start(video: false)
        let count = try await Self.itemCount(server)
        let dimension = server.library.embedder.dimension
        var random = SeededRandom(seed: 6)
        let vectors = (0..<300).map { _ in (0..<dimension).map { _ in Double(random.unit()) } }
        let started = Date()
        let answer = try await server.json(.POST, "/v2/vectordb/entities/search", [
            "collectionName": server.library.configuration.collection, "data": vectors, "limit": 16384,
        ])
        #expect(answer.object["code"] as? Int == 1100, "\(answer.object)")
        #expect((answer.object["message"] as? String ?? "").contains("split the search"))
        #expect(Date().timeIntervalSince(started) < 5)
        // A reasonable search still answers.
        let small = try await server.json(.POST, "/v2/vectordb/entities/search", [
            "collectionName": server.library.configuration.collection, "data": Array(vectors.prefix(3)), "limit": 5,
        ])
        #expect(small.object["code"] as? Int == 0)
        try await Self.expectAlive(server, count: count)
        await server.stop()
    }

    @Test("row 7: an index request listing one folder 3,000 times scans it once; too many paths are refused")
    func indexRequests() async throws {
        let server = try await TestServer.start(index: false, video: false)
        let folder = server.mediaFolder.path
        let (status, record) = try await server.json(.POST, "/api/index", ["paths": Array(repeating: folder, count: 3_000)])
        #expect(status == 202)
        #expect((record["inputs"] as? [String])?.count == 1, "\(record["inputs"] ?? "")")
        let id = try #require(record["id"] as? String)
        _ = try await server.send(.GET, "/api/jobs/\(id)/events")
        let count = try await Self.itemCount(server)
        #expect(count > 0)
        let many = (0..<1_001).map { "\(folder)/nothing-\($0)" }
        let (refused, body) = try await server.json(.POST, "/api/index", ["paths": many])
        #expect(refused == 400 && Self.message(body).contains("the limit is 1000"), "\(refused)")
        try await Self.expectAlive(server, count: count)
        await server.stop()
    }

    @Test("row 8: half-open connections are capped and timed out; /healthz still answers fast")
    func halfOpenConnections() async throws {
        let server = try await TestServer.start(index: false, video: false, configure: {
            $0.limits.maxConnections = 64
            $0.limits.maxConnectionsPerAddress = 48
            $0.limits.headerTimeout = 3
        })
        var sockets: [Int32] = []
        defer { sockets.forEach { close($0) } }
        for _ in 0..<300 {
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = in_port_t(UInt16(server.port).bigEndian)
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            let connected = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            #expect(connected == 0)
            let half = "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: "
            _ = half.withCString { send(fd, $0, strlen($0), Int32(MSG_NOSIGNAL)) }
            sockets.append(fd)
        }
        let started = Date()
        let health = try await server.send(.GET, "/healthz")
        #expect(health.status == 200)
        // The 1-second figure is scripts/attack-bench's (5,000 connections, its own process); here, in the
        // debug test process beside the whole suite, the bound is looser. Before the cap, all 300 were held.
        #expect(Date().timeIntervalSince(started) < 5, "healthz took \(Date().timeIntervalSince(started)) s")
        // Never more than the cap held; the oldest half-open ones made room (the rest time out, on a slow machine).
        #expect(server.server.connections.count <= 64)
        #expect(server.server.connections.evictions > 0)
        // Within the header deadline (3 s here) every half-open connection is closed: wait for it, bounded.
        let deadline = Date().addingTimeInterval(20)
        while server.server.connections.count > 1, Date() < deadline { try await Task.sleep(for: .milliseconds(50)) }
        #expect(server.server.connections.count <= 1, "\(server.server.connections.count) connections still open")
        await server.stop()
    }

    @Test("row 9: decoding memory is budgeted across concurrent requests")
    func decodeBudget() async throws {
        let budget = DecodeBudget(capacity: 100)
        try await withThrowingTaskGroup(of: Void.self) { group in
            for i in 0..<16 {
                group.addTask {
                    try await budget.withReservation(bytes: i.isMultiple(of: 4) ? 150 : 40) {
                        try await Task.sleep(for: .milliseconds(5))
                    }
                }
            }
            try await group.waitForAll()
        }
        #expect(budget.peakReserved <= 150, "peak \(budget.peakReserved): the budget let too much in at once")
        // The cost comes from the header alone: a 10000x10000 PNG header costs 1.2 GB, a tiny one little.
        var png = Data([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52])
        png += Data([0, 0, 0x27, 0x10, 0, 0, 0x27, 0x10, 16, 6, 0, 0, 0, 0, 0, 0, 0])
        #expect(ImageDecoder.decodingCost(of: png) == 10_000 * 10_000 * 12)
    }

    @Test("row 10: a multipart body of 100k tiny parts is refused quickly")
    func multipartParts() async throws {
        let server = try await TestServer.start(index: false, video: false)
        let parts = (0..<100_000).map { (name: "f\($0)", filename: String?.none, data: Data("x".utf8)) }
        let started = Date()
        let answer = try await server.send(.POST, "/api/search", body: multipart(parts),
                                           headers: [("Content-Type", "multipart/form-data; boundary=loupe-test-boundary")])
        #expect(answer.status == 400, "\(answer.status)")
        #expect(String(decoding: answer.body, as: UTF8.self).contains("more than 64 parts"))
        #expect(Date().timeIntervalSince(started) < 5)
        // The parser is linear: 64 parts of 64 KB each parse at once.
        let big = (0..<63).map { (name: "f\($0)", filename: String?.none, data: Data(repeating: 0x61, count: 64 << 10)) }
        let form = try MultipartForm(body: multipart(big), boundary: "loupe-test-boundary")
        #expect(form.parts.count == 63 && form.parts.allSatisfy { $0.body.count == 64 << 10 })
        try await Self.expectAlive(server, count: 0)
        await server.stop()
    }

    @Test("row 12: health, query tokens, user:token and strict numbers")
    func lowFindings() async throws {
        let token = "s3cret-token-123"
        let server = try await TestServer.start(video: false, configure: { $0.token = token })
        let (_, open) = try await server.json(.GET, "/healthz")
        #expect(open.keys.sorted() == ["status"], "\(open)")
        let (_, full) = try await server.json(.GET, "/healthz", headers: [("Authorization", "Bearer \(token)")])
        #expect(full["items"] != nil)
        #expect(try await server.json(.GET, "/api/stats?access_token=\(token)").status == 401, "query tokens only for media")
        #expect(try await server.json(.GET, "/api/jobs/nope/events?access_token=\(token)").status == 404, "EventSource needs it")
        #expect(try await server.json(.GET, "/api/stats", headers: [("Authorization", "Bearer root:\(token)")]).status == 200)
        #expect(try await server.json(.GET, "/api/stats", headers: [("Authorization", "Bearer root:nope")]).status == 401)
        let milvus = try await server.json(.POST, "/v2/vectordb/collections/list", [String: Any](),
                                           headers: [("Authorization", "Bearer root:\(token)")])
        #expect(milvus.object["code"] as? Int == 0)
        let id = try #require(try await server.library.items(limit: 1).first?.id)
        let auth = [("Authorization", "Bearer \(token)")]
        for size in ["abc", "1e3", "64.5", "-64", ""] {
            #expect(try await server.send(.GET, "/api/items/\(id)/thumbnail?size=\(size)", headers: auth).status == 400, "size=\(size)")
        }
        #expect(try await server.send(.GET, "/api/items/\(id)/thumbnail?size=64&access_token=\(token)").status == 200)
        await server.stop()
    }
}

/// Seeded uniform numbers for test inputs (SplitMix64).
struct SeededRandom {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func unit() -> Float {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return Float((z ^ (z >> 31)) >> 40) / Float(1 << 24) - 0.5
    }
}
