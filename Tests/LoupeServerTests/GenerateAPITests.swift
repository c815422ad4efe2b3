import Foundation
import Loupe
import Testing
@testable import LoupeServer

/// `POST /api/generate` against a Gemini stand-in on loopback: what is sent, the job's progress and
/// result, the files saved and served, and the errors.
@Suite("Generate API", .serialized, .stopsTestServers)
struct GenerateAPITests {
    static let key = "AIza-server-test-key-0123456789"

    /// A server whose generation calls go to `standIn`.
    func start(_ standIn: GeminiStandIn, token: String? = nil, configure: (inout ServerConfiguration) -> Void = { _ in })
        async throws -> TestServer
    {
        let base = try await standIn.start()
        return try await TestServer.start { configuration in
            configuration.providerEnvironment = standIn.environment(base)
            configuration.token = token
            configure(&configuration)
        }
    }

    /// Follows a job until it ends; returns the records seen, the last one last.
    func follow(_ server: TestServer, _ id: String, until stop: (JobRecord) -> Bool = { $0.state.endsUpdates })
        async throws -> [JobRecord]
    {
        let updates = try #require(await server.server.generations.updates(id))
        var seen: [JobRecord] = []
        for await record in updates {
            seen.append(record)
            if stop(record) { break }
        }
        return seen
    }

    /// The final record of the job that `started` (a POST's answer) names.
    func finalRecord(_ server: TestServer, _ started: (status: Int, object: [String: Any])) async throws -> JobRecord {
        let id = try #require(started.object["id"] as? String, "no job in \(started.object)")
        return try #require(try await follow(server, id).last)
    }

    func search(_ server: TestServer, _ text: String) async throws -> [[String: Any]] {
        let answer = try await server.json(.POST, "/api/search", ["text": text, "k": 20])
        #expect(answer.status == 200)
        return answer.object["results"] as? [[String: Any]] ?? []
    }

    @Test("selected items (a picture and a video moment) are sent to Gemini; the job reports its steps and serves what it saved")
    func selectedItems() async throws {
        let gate = Gate()
        let standIn = GeminiStandIn { _ in
            await gate.wait()
            return .json(GeminiStandIn.imageAnswer)
        }
        defer { Task { await standIn.stop() } }
        let server = try await start(standIn)
        let results = try await search(server, "a blue square")
        let picture = try #require(results.first { $0["kind"] as? String == "image" })
        let moment = try #require(results.first { $0["kind"] as? String == "video" && $0["start"] is Double })
        let pictureID = try #require(picture["id"] as? Int)
        let momentID = try #require(moment["id"] as? Int)
        let ids = [Int64(pictureID), Int64(momentID)]
        let prompt = "A European male model wearing a suit, carrying a blue box."

        // An item named twice is sent once.
        let started = try await server.json(.POST, "/api/generate", ["prompt": prompt, "items": ids + [ids[0]], "aspectRatio": "1:1"])
        #expect(started.status == 202, "\(started.object)")
        let id = try #require(started.object["id"] as? String)
        #expect(started.object["kind"] as? String == "generate")
        #expect(started.object["steps_total"] as? Int == 3)
        #expect(((started.object["generation"] as? [String: Any])?["items"] as? [Int])?.map(Int64.init) == ids)

        // While Gemini has not answered, the job says it is waiting for the model, one step done.
        let waiting = try await follow(server, id) { $0.stage == "generating" }
        #expect(waiting.last?.state == .running && waiting.last?.stepsDone == 1)
        let polled = try await server.json(.GET, "/api/jobs/\(id)")
        #expect(polled.object["stage"] as? String == "generating" && polled.object["current"] as? String != nil, "\(polled.object)")
        gate.open()
        let final = try #require(try await follow(server, id).last)
        #expect(final.state == .done, "the job ended \(final.state): \(final.error ?? "")")

        // What Gemini received: the prompt, then the two pictures as JPEG, and both modalities.
        let sent = try #require(standIn.requests.first)
        #expect(standIn.requests.count == 1)
        #expect(sent.uri == "/v1beta/models/gemini-2.5-flash-image:generateContent")
        #expect(sent.headers.first(name: "x-goog-api-key") == Self.key)
        #expect(sent.prompt == prompt)
        #expect(sent.generationConfig["responseModalities"] as? [String] == ["TEXT", "IMAGE"])
        #expect((sent.generationConfig["imageConfig"] as? [String: Any])?["aspectRatio"] as? String == "1:1")
        #expect(sent.pictures.count == 2 && sent.pictures.allSatisfy { $0.mimeType == "image/jpeg" })
        for (index, itemID) in ids.enumerated() where index < sent.pictures.count {
            let expected = try await server.library.generationReference(item: itemID)
            #expect(sent.pictures[index].data == expected.jpeg, "reference \(index) is not item \(itemID)'s picture")
        }

        // The result: the saved picture (served), its sidecar, the text and the references.
        let answer = try await server.json(.GET, "/api/jobs/\(id)")
        let generation = try #require(answer.object["generation"] as? [String: Any])
        #expect(generation["text"] as? String == "Here is your picture.")
        let images = try #require(generation["images"] as? [[String: Any]])
        #expect(images.count == 1)
        let url = try #require(images.first?["url"] as? String)
        let served = try await server.send(.GET, url)
        #expect(served.status == 200 && served.headers.first(name: "content-type") == "image/png")
        #expect(served.body == GeminiStandIn.picture)
        let folder = server.root.appendingPathComponent("data/generated")
        let name = try #require(images.first?["name"] as? String)
        #expect(FileManager.default.contents(atPath: folder.appendingPathComponent(name).path) == GeminiStandIn.picture)
        let sidecarData = try #require(FileManager.default.contents(atPath: folder.appendingPathComponent(name + ".json").path))
        let sidecar = try #require(try JSONSerialization.jsonObject(with: sidecarData) as? [String: Any])
        #expect(sidecar["prompt"] as? String == prompt && sidecar["model"] as? String == "gemini-2.5-flash-image")
        #expect((sidecar["references"] as? [Any])?.count == 2)
        let sidecarServed = try await server.send(.GET, try #require(images.first?["sidecar_url"] as? String))
        #expect(sidecarServed.status == 200 && sidecarServed.body == sidecarData)
        let references = try #require(generation["references"] as? [[String: Any]])
        #expect(references.compactMap { ($0["item_id"] as? Int).map(Int64.init) } == ids)
        #expect(references.allSatisfy { $0["score"] == nil || $0["score"] is NSNull }, "selected items have no score")
        #expect(references[1]["time_s"] is Double, "the moment's reference says which frame it is")
        #expect(references[0]["thumbnail_url"] as? String == "/api/items/\(ids[0])/thumbnail")
        #expect(generation["refs"] == nil || generation["refs"] is NSNull, "selected items alone retrieve nothing")

        // The jobs list carries it with its kind.
        let list = try await server.json(.GET, "/api/jobs")
        let kinds = (list.object["jobs"] as? [[String: Any]] ?? []).filter { $0["id"] as? String == id }.map { $0["kind"] as? String }
        #expect(kinds == ["generate"])
    }

    @Test("refs retrieves the top k pictures with their scores; without references the prompt is the query")
    func retrievedReferences() async throws {
        let standIn = GeminiStandIn { _ in .json(GeminiStandIn.imageAnswer) }
        defer { Task { await standIn.stop() } }
        let server = try await start(standIn)
        let redCircles = Set(server.pictures.filter { $0.colour == .red && $0.shape == .circle }.map(\.url.path))

        let started = try await server.json(.POST, "/api/generate", ["prompt": "A model holding a ball", "refs": "a red circle", "k": 2])
        #expect(started.status == 202, "\(started.object)")
        let final = try await finalRecord(server, started)
        #expect(final.state == .done, "\(final.error ?? "")")
        let generation = try #require(final.generation)
        #expect(generation.refs == "a red circle" && generation.references.count == 2)
        #expect(Set(generation.references.map(\.path)) == redCircles, "retrieved \(generation.references.map(\.path))")
        let scores = generation.references.compactMap(\.score)
        #expect(scores.count == 2 && scores[0] >= scores[1])
        let sent = try #require(standIn.requests.last)
        #expect(sent.pictures.count == 2)
        for (index, reference) in generation.references.enumerated() where index < sent.pictures.count {
            let expected = try await server.library.generationReference(item: try #require(reference.itemID))
            #expect(sent.pictures[index].data == expected.jpeg)
        }

        // No refs and no items: the prompt retrieves the default 3.
        let again = try await server.json(.POST, "/api/generate", ["prompt": "a red circle"])
        let second = try await finalRecord(server, again)
        #expect(second.state == .done && second.generation?.refs == "a red circle" && second.generation?.references.count == 3)
        #expect(standIn.requests.last?.pictures.count == 3)
    }

    @Test("a blocked prompt and a text-only answer end the job as failed with the reason; nothing is saved")
    func refusals() async throws {
        let standIn = GeminiStandIn { request in
            .json(request.prompt?.contains("blocked") == true ? GeminiStandIn.blockedAnswer : GeminiStandIn.textOnlyAnswer)
        }
        defer { Task { await standIn.stop() } }
        let server = try await start(standIn)
        for (prompt, reason) in [("a blocked thing", "blocked (SAFETY)"), ("describe it", "text only")] {
            let started = try await server.json(.POST, "/api/generate", ["prompt": prompt, "k": 0])
            #expect(started.status == 202)
            let final = try await finalRecord(server, started)
            #expect(final.state == .failed)
            #expect(final.error?.contains(reason) == true, "error: \(final.error ?? "none")")
            #expect(final.generation?.images.isEmpty == true)
        }
        #expect(standIn.requests.count == 2 && standIn.requests.allSatisfy { $0.pictures.isEmpty }, "k 0 sends no pictures")
        let saved = (try? FileManager.default.contentsOfDirectory(atPath: server.root.appendingPathComponent("data/generated").path)) ?? []
        #expect(saved.isEmpty, "saved \(saved)")
    }

    @Test("bad requests are refused before anything is sent: empty prompt, unknown item, bad k, model, aspect ratio")
    func badRequests() async throws {
        let standIn = GeminiStandIn { _ in .json(GeminiStandIn.imageAnswer) }
        defer { Task { await standIn.stop() } }
        let server = try await start(standIn) { $0.maxBodyBytes = 64 << 10 }
        let cases: [([String: Any], Int, String)] = [
            (["prompt": String(repeating: "long ", count: 20_000)], 413, "limit"),
            (["prompt": String(repeating: "x", count: 10_001)], 400, "the limit is 10000"),
            (["prompt": "   "], 400, "'prompt' is empty"),
            (["refs": "a red circle"], 400, "'prompt' is missing"),
            (["prompt": "x", "items": [987_654]], 404, "item 987654"),
            (["prompt": "x", "k": 99], 400, "'k'"),
            (["prompt": "x", "model": "../../v1/files"], 400, "'model'"),
            (["prompt": "x", "aspectRatio": "wide"], 400, "'aspectRatio'"),
            (["prompt": "x", "refs": ""], 400, "'refs' is empty"),
            (["prompt": 3], 400, "prompt"),
        ]
        for (body, status, message) in cases {
            let answer = try await server.json(.POST, "/api/generate", body)
            let error = answer.object["error"] as? [String: Any]
            #expect(answer.status == status, "\(body) answered \(answer.status)")
            #expect((error?["message"] as? String)?.contains(message) == true, "\(body): \(error ?? [:])")
        }
        let notJSON = try await server.send(.POST, "/api/generate", body: Data("prompt=x".utf8))
        #expect(notJSON.status == 400)
        #expect(standIn.requests.isEmpty)
        // Only plain names in the output folder are served.
        for path in ["/api/generated/..%2Fjobs", "/api/generated/.hidden.png", "/api/generated/missing.png", "/api/generated/notes.txt"] {
            #expect(try await server.send(.GET, path).status == 404, "\(path)")
        }
    }

    @Test("DELETE cancels a generation while the model is still answering; the events stream ends with it")
    func cancelWhileGenerating() async throws {
        let gate = Gate()
        let standIn = GeminiStandIn { _ in
            await gate.wait()
            return .json(GeminiStandIn.imageAnswer)
        }
        defer {
            gate.open()
            Task { await standIn.stop() }
        }
        let server = try await start(standIn)
        let started = try await server.json(.POST, "/api/generate", ["prompt": "a slow picture", "k": 1])
        let id = try #require(started.object["id"] as? String)
        _ = try await follow(server, id) { $0.stage == "generating" }
        let cancelled = try await server.json(.DELETE, "/api/jobs/\(id)")
        #expect(cancelled.status == 200 && ["cancelling", "cancelled"].contains(cancelled.object["state"] as? String ?? ""))
        let final = try #require(try await follow(server, id).last)
        #expect(final.state == .cancelled && final.generation?.images.isEmpty == true, "\(final.state) \(final.error ?? "")")
        let events = try await server.send(.GET, "/api/jobs/\(id)/events")
        let text = String(decoding: events.body, as: UTF8.self)
        #expect(text.contains("event: end") && text.contains("\"state\":\"cancelled\""), "\(text)")
        let saved = (try? FileManager.default.contentsOfDirectory(atPath: server.root.appendingPathComponent("data/generated").path)) ?? []
        #expect(saved.isEmpty)
    }

    @Test("past maxActiveGenerations, /api/generate answers 429 until a generation ends")
    func activeGenerationLimit() async throws {
        let gate = Gate()
        let standIn = GeminiStandIn { _ in
            await gate.wait()
            return .json(GeminiStandIn.imageAnswer)
        }
        defer {
            gate.open()
            Task { await standIn.stop() }
        }
        let base = try await standIn.start()
        let server = try await TestServer.start { configuration in
            configuration.providerEnvironment = standIn.environment(base)
            configuration.limits.maxActiveGenerations = 1
        }
        let first = try await server.json(.POST, "/api/generate", ["prompt": "one", "k": 0])
        #expect(first.status == 202)
        let refused = try await server.send(.POST, "/api/generate", body: Data(#"{"prompt": "two", "k": 0}"#.utf8))
        #expect(refused.status == 429 && refused.headers.first(name: "retry-after") == "10")
        #expect(String(decoding: refused.body, as: UTF8.self).contains("already queued or running"))
        gate.open()
        #expect(try await finalRecord(server, first).state == .done)
        let again = try await server.json(.POST, "/api/generate", ["prompt": "three", "k": 0])
        #expect(again.status == 202)
        #expect(try await finalRecord(server, again).state == .done)
    }

    @Test("indexing job records saved before generation jobs existed (no 'kind') still load")
    func oldRecordsDecode() throws {
        let json = #"{"id":"job-1","inputs":["/a"],"state":"done","created":"2026-01-01T00:00:00Z","files_done":1,"files_total":1,"embedded":1,"failed":0,"rate":0,"failures":[]}"#
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        let record = try decoder.decode(JobRecord.self, from: Data(json.utf8))
        #expect(record.kind == nil && record.state == .done && record.generation == nil)
    }

    @Test("without a key, /api/generate answers 503 naming the variable, and /api/stats tells the page")
    func noKey() async throws {
        let server = try await TestServer.start(index: false)
        let answer = try await server.json(.POST, "/api/generate", ["prompt": "a red circle"])
        #expect(answer.status == 503)
        let message = (answer.object["error"] as? [String: Any])?["message"] as? String ?? ""
        #expect(message.contains("GEMINI_API_KEY") && message.contains("GOOGLE_API_KEY"), "\(message)")
        let stats = try await server.json(.GET, "/api/stats")
        let generate = try #require(stats.object["generate"] as? [String: Any])
        #expect(generate["available"] as? Bool == false && (generate["problem"] as? String)?.contains("GEMINI_API_KEY") == true)
    }

    @Test("with a token, /api/generate needs it and the key is never echoed; generated pictures take ?access_token=")
    func tokenAndKey() async throws {
        let standIn = GeminiStandIn { _ in .json(GeminiStandIn.imageAnswer) }
        defer { Task { await standIn.stop() } }
        let token = "generate-token-123"
        let server = try await start(standIn, token: token)
        let refused = try await server.json(.POST, "/api/generate", ["prompt": "x", "k": 0])
        #expect(refused.status == 401)
        let auth = [("Authorization", "Bearer \(token)")]
        let stats = try await server.send(.GET, "/api/stats", headers: auth)
        #expect(stats.status == 200 && !String(decoding: stats.body, as: UTF8.self).contains(Self.key))
        let started = try await server.json(.POST, "/api/generate", ["prompt": "x", "k": 0], headers: auth)
        #expect(started.status == 202)
        let final = try await finalRecord(server, started)
        let url = try #require(final.generation?.images.first?.url)
        #expect(try await server.send(.GET, url).status == 401)
        #expect(try await server.send(.GET, url + "?access_token=\(token)").status == 200)
        let record = try await server.send(.GET, "/api/jobs/\(final.id)", headers: auth)
        #expect(!String(decoding: record.body, as: UTF8.self).contains(Self.key))
    }
}
