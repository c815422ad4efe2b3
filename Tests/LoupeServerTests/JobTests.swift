import Foundation
import Loupe
import Testing
@testable import LoupeServer

@Suite("Indexing jobs", .serialized, .stopsTestServers)
struct JobTests {
    @Test("an index job runs, streams its progress as server-sent events, and its items become searchable")
    func indexJob() async throws {
        let server = try await TestServer.start(index: false)
        let (status, job) = try await server.json(.POST, "/api/index", ["paths": [server.mediaFolder.path]])
        #expect(status == 202)
        let id = try #require(job["id"] as? String)

        // The event stream ends with `end` once the job is over; every event before carries the job.
        let events = try await server.send(.GET, "/api/jobs/\(id)/events")
        #expect(events.status == 200)
        #expect(events.headers.first(name: "Content-Type") == "text/event-stream")
        let text = String(decoding: events.body, as: UTF8.self)
        let blocks = text.components(separatedBy: "\n\n").filter { !$0.isEmpty }
        #expect(blocks.last?.hasPrefix("event: end\ndata: {\"state\":\"done\"}") == true, "\(text.suffix(300))")
        let progress = blocks.filter { $0.hasPrefix("event: progress\n") }
        #expect(!progress.isEmpty)
        let lastJSON = try #require(progress.last?.components(separatedBy: "\ndata: ").last)
        let last = try #require(try JSONSerialization.jsonObject(with: Data(lastJSON.utf8)) as? [String: Any])
        #expect(last["state"] as? String == "done")
        let report = try #require(last["report"] as? [String: Any])
        #expect(report["added"] as? Int == server.pictures.count + 1)

        let (_, detail) = try await server.json(.GET, "/api/jobs/\(id)")
        #expect(detail["state"] as? String == "done" && detail["files_done"] as? Int == server.pictures.count + 1)
        let (_, list) = try await server.json(.GET, "/api/jobs")
        #expect((list["jobs"] as? [[String: Any]])?.count == 1)
        let (_, found) = try await server.json(.POST, "/api/search", ["text": "a yellow square", "k": 1, "type": "image"])
        let top = (found["results"] as? [[String: Any]])?.first?["name"] as? String
        #expect(top?.contains("yellow-square") == true, "\(found)")

        // Indexing again embeds nothing; bad inputs are refused before a job starts.
        let (_, again) = try await server.json(.POST, "/api/index", ["paths": [server.mediaFolder.path]])
        let againID = try #require(again["id"] as? String)
        _ = try await server.send(.GET, "/api/jobs/\(againID)/events")
        let (_, second) = try await server.json(.GET, "/api/jobs/\(againID)")
        #expect((second["report"] as? [String: Any])?["embedded"] as? Int == 0)
        let (missing, _) = try await server.json(.POST, "/api/index", ["paths": ["/no/such/folder"]])
        #expect(missing == 404)
        let (relative, _) = try await server.json(.POST, "/api/index", ["paths": ["media"]])
        #expect(relative == 400)
        let (empty, _) = try await server.json(.POST, "/api/index", [String: Any]())
        #expect(empty == 400)
        let (badURL, _) = try await server.json(.POST, "/api/index", ["urls": ["ftp://example.com/a.jpg"]])
        #expect(badURL == 400)
        let (unknown, _) = try await server.json(.GET, "/api/jobs/job-nope")
        #expect(unknown == 404)
        let (unknownEvents, _) = try await server.json(.GET, "/api/jobs/job-nope/events")
        #expect(unknownEvents == 404)
        await server.stop()
    }

    @Test("a graceful shutdown interrupts queued jobs; the next start resumes them without duplicates")
    func resumeAfterRestart() async throws {
        let first = try await TestServer.start(index: false, perClass: 4)
        let root = first.root
        // Several jobs over parts of the folder, queued back to back, then a shutdown right away.
        let files = try FileManager.default.contentsOfDirectory(atPath: first.mediaFolder.path).sorted()
        let chunks = stride(from: 0, to: files.count, by: 8).map { Array(files[$0..<min($0 + 8, files.count)]) }
        var ids: [String] = []
        for chunk in chunks {
            let (status, job) = try await first.json(
                .POST, "/api/index", ["paths": chunk.map { first.mediaFolder.appendingPathComponent($0).path }])
            #expect(status == 202)
            ids.append(try #require(job["id"] as? String))
        }
        let expectedItems = first.pictures.count + 1
        await first.stop(keepFiles: true)

        let records = try ids.map { id in
            try JSONSerialization.jsonObject(with: Data(contentsOf: root.appendingPathComponent("data/jobs/\(id).json")))
                as? [String: Any] ?? [:]
        }
        let states = records.compactMap { $0["state"] as? String }
        #expect(states.allSatisfy { ["done", "interrupted"].contains($0) }, "\(states)")
        #expect(states.contains("interrupted"), "a shutdown right after queueing \(ids.count) jobs should interrupt some: \(states)")

        let second = try await TestServer.start(index: false, root: root)
        // Each job's event stream ends when the job does.
        for id in ids { _ = try await second.send(.GET, "/api/jobs/\(id)/events") }
        let (_, list) = try await second.json(.GET, "/api/jobs")
        let resumed = (list["jobs"] as? [[String: Any]] ?? []).map { $0["state"] as? String ?? "?" }
        #expect(resumed == Array(repeating: "done", count: ids.count), "resumed jobs did not all finish")
        let (_, stats) = try await second.json(.GET, "/api/stats")
        #expect(stats["images"] as? Int == expectedItems - 1 && stats["videos"] as? Int == 1, "\(stats)")
        let items = try await second.library.items()
        let keys = items.map { "\($0.path)|\($0.scope)|\($0.start ?? -1)" }
        #expect(Set(keys).count == items.count, "duplicate rows after resuming")
        #expect(items.filter { $0.scope == .clip }.count == 3)
        await second.stop()
    }

    @Test("a graceful shutdown lets an in-flight event stream finish and records the job as interrupted")
    func inFlightDuringShutdown() async throws {
        let server = try await TestServer.start(index: false, perClass: 20, video: false)
        let (_, job) = try await server.json(.POST, "/api/index", ["paths": [server.mediaFolder.path]])
        let id = try #require(job["id"] as? String)
        let stream = Task { try await server.send(.GET, "/api/jobs/\(id)/events") }
        // Wait until the job has embedded something (or ended), then stop the server under the open stream.
        let updates = try #require(await server.server.jobs.updates(id))
        for await record in updates where record.embedded > 0 { break }
        let root = server.root
        let stopping = Task { await server.stopServing() }
        let answer = try await stream.value
        await stopping.value
        await server.stop(keepFiles: true)
        #expect(answer.status == 200)
        let text = String(decoding: answer.body, as: UTF8.self)
        let end = text.components(separatedBy: "\n\n").filter { !$0.isEmpty }.last ?? ""
        #expect(end.hasPrefix("event: end\ndata: {\"state\":\"interrupted\"}") || end.contains("\"done\""), "\(end)")
        let record = try JSONSerialization.jsonObject(with: Data(contentsOf: root.appendingPathComponent("data/jobs/\(id).json")))
            as? [String: Any] ?? [:]
        #expect(["interrupted", "done"].contains(record["state"] as? String ?? ""), "\(record)")
        try? FileManager.default.removeItem(at: root)
    }

    @Test("removing an item takes its file out of the index, moments and all, and leaves the file")
    func removeItem() async throws {
        let server = try await TestServer.start(perClass: 1)
        let (_, videos) = try await server.json(.GET, "/api/items?type=video")
        let video = try #require((videos["items"] as? [[String: Any]])?.first)
        let id = try #require(video["id"] as? Int), path = try #require(video["path"] as? String)

        let (status, removed) = try await server.json(.DELETE, "/api/items/\(id)")
        #expect(status == 200 && removed["path"] as? String == path)
        #expect((removed["removed_rows"] as? Int ?? 0) >= 2, "the video and its moments: \(removed)")
        #expect(try await server.json(.GET, "/api/items/\(id)").0 == 404)
        let (_, stats) = try await server.json(.GET, "/api/stats")
        #expect(stats["videos"] as? Int == 0 && stats["moments"] as? Int == 0)
        let (_, search) = try await server.json(.POST, "/api/search", ["text": "a blue square", "type": "video"])
        #expect((search["results"] as? [Any])?.isEmpty == true)
        #expect(FileManager.default.fileExists(atPath: path))

        #expect(try await server.json(.DELETE, "/api/items/\(id)").0 == 404)
        #expect(try await server.json(.DELETE, "/api/items/abc").0 == 400)
        // Indexing the folder again brings it back.
        let (_, job) = try await server.json(.POST, "/api/index", ["paths": [server.mediaFolder.path]])
        let jobID = try #require(job["id"] as? String)
        _ = try await server.send(.GET, "/api/jobs/\(jobID)/events")
        let (_, after) = try await server.json(.GET, "/api/stats")
        #expect(after["videos"] as? Int == 1)
    }

    @Test("DELETE on a job answers with its record; a job that has ended stays as it ended")
    func cancel() async throws {
        // Cancelling queued, running and interrupted jobs is tested state by state in IndexingJobsTests.
        let server = try await TestServer.start(index: false, perClass: 1, video: false)
        let (_, job) = try await server.json(.POST, "/api/index", ["paths": [server.mediaFolder.path]])
        let id = try #require(job["id"] as? String)
        _ = try await server.send(.GET, "/api/jobs/\(id)/events")
        let (status, after) = try await server.json(.DELETE, "/api/jobs/\(id)")
        #expect(status == 200)
        #expect(after["state"] as? String == "done", "\(after)")
        let (gone, _) = try await server.json(.DELETE, "/api/jobs/job-nope")
        #expect(gone == 404)
    }
}
