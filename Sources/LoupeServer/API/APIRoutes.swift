import Foundation
import HTTPTypes
import Hummingbird
import Loupe
import LoupeMedia
import NIOCore
import NIOPosix

/// Loupe's own JSON API under `/api` (documented in `Web/openapi.json`).
struct APIRoutes {
    let server: LoupeServer

    private var library: MediaLibrary { server.library }
    private var configuration: ServerConfiguration { server.configuration }

    func register(on router: Router<LoupeRequestContext>) {
        let api = router.group("api")
        api.post("search") { request, context in try await search(request, context: context) }
        api.get("search") { request, context in
            let query = try SearchQuery(queryItems: Self.queryItems(request))
            return try await run(query, uploads: [:], context: context)
        }
        api.post("index") { request, context in try await startIndexing(request, context: context) }
        api.get("jobs") { _, _ in
            // Indexing and generation jobs, oldest first (each record says its `kind`).
            let all = await server.jobs.all() + server.generations.all()
            return try JSONBody.response(encoding: ["jobs": all.sorted { ($0.created, $0.id) < ($1.created, $1.id) }])
        }
        api.get("jobs/:id") { _, context in try JSONBody.response(encoding: try await job(context)) }
        api.delete("jobs/:id") { _, context in
            let id = try context.parameters.require("id")
            var record = await server.jobs.cancel(id)
            if record == nil { record = await server.generations.cancel(id) }
            guard let record else { throw APIError.notFound("job '\(id)' does not exist") }
            return try JSONBody.response(encoding: record)
        }
        api.get("jobs/:id/events") { _, context in try await jobEvents(context) }
        api.get("items") { request, _ in try await listItems(request) }
        api.get("items/:id") { _, context in
            try JSONBody.response(encoding: ItemJSON(try await item(context), score: nil))
        }
        api.delete("items/:id") { _, context in try await removeItem(context) }
        api.get("items/:id/media") { request, context in try await media(request, context: context) }
        api.get("items/:id/thumbnail") { request, context in try await thumbnail(request, context: context) }
        api.get("collections") { _, _ in try await collections() }
        api.get("stats") { _, _ in try await stats() }
    }

    // MARK: Search

    private func search(_ request: Request, context: LoupeRequestContext) async throws -> Response {
        let contentType = request.headers[.contentType] ?? ""
        if let boundary = MultipartForm.boundary(contentType: contentType) {
            let limit = configuration.maxUploadBytes + 64 * 1024
            let body = try await Self.collect(request, limit: limit, what: "upload")
            let form = try MultipartForm(body: body, boundary: boundary, maxParts: configuration.limits.maxMultipartParts)
            var query: SearchQuery?
            var fields: [String: String] = [:]
            var uploads: [String: Data] = [:]
            for part in form.parts {
                if part.filename != nil || part.name == "image" {
                    guard part.body.count <= configuration.maxUploadBytes else {
                        throw APIError.tooLarge("upload '\(part.name)' is \(part.body.count) bytes; the limit is \(configuration.maxUploadBytes)")
                    }
                    guard !part.body.isEmpty else { throw APIError.badRequest("upload '\(part.name)' is empty") }
                    try UploadedPicture.check(part.body, name: part.filename.map { "'\($0)'" } ?? "'\(part.name)'")
                    uploads[part.name] = part.body
                } else if part.name == "query" {
                    query = try Self.decode(SearchQuery.self, from: part.body, what: "the 'query' part")
                } else {
                    fields[part.name] = String(decoding: part.body, as: UTF8.self)
                }
            }
            // Decoding memory is budgeted across requests (MediaLibrary decodes every picture within
            // DecodeBudget.shared): 16 uploads of 81-MP PNGs decode in turn, not at once.
            return try await run(query ?? SearchQuery(queryItems: fields), uploads: uploads, context: context)
        }
        let body = try await Self.collect(request, limit: configuration.maxBodyBytes, what: "request body")
        // curl -d sends JSON labelled as a form; judge by the bytes when the label is not JSON.
        guard contentType.isEmpty || contentType.lowercased().hasPrefix("application/json")
            || body.first(where: { ![0x20, 0x09, 0x0A, 0x0D].contains($0) }) == UInt8(ascii: "{")
        else {
            throw APIError.unsupportedMedia("POST /api/search takes application/json or multipart/form-data, not '\(contentType)'")
        }
        return try await run(try Self.decode(SearchQuery.self, from: body, what: "the request body"), uploads: [:],
                             context: context)
    }

    private func run(_ query: SearchQuery, uploads: [String: Data], context: LoupeRequestContext) async throws -> Response {
        let response = try await library.search(try query.request(uploads: uploads, maxResults: configuration.maxResults))
        server.metrics.embedding.record(response.timings.embedding)
        server.metrics.searches.record(response.timings.total)
        return try JSONBody.response(encoding: ResultsJSON(
            tookMS: (response.timings.total.seconds * 1e4).rounded() / 10,
            results: response.results.map { ItemJSON($0.item, score: $0.score, relevance: $0.relevance, probability: $0.probability) },
            cutByAutocut: response.cutByAutocut))
    }

    // MARK: Indexing

    private struct IndexBody: Decodable {
        var paths: [String]?
        var urls: [String]?
    }

    private func startIndexing(_ request: Request, context: LoupeRequestContext) async throws -> Response {
        let body = try await Self.collect(request, limit: configuration.maxBodyBytes, what: "request body")
        let parsed = try Self.decode(IndexBody.self, from: body, what: "the request body")
        var inputs: [String] = []
        // The same folder listed 3,000 times was scanned 3,000 times: drop repeats (after resolving links),
        // then bound what is left.
        var seen = Set<String>()
        let paths = (parsed.paths ?? []).filter { seen.insert(URL(fileURLWithPath: $0).resolvingSymlinksInPath().standardizedFileURL.path).inserted }
        let urls = Array(Set(parsed.urls ?? [])).sorted()
        let limit = configuration.limits.maxIndexPaths
        guard paths.count + urls.count <= limit else {
            throw APIError.badRequest("the request lists \(paths.count + urls.count) different paths and URLs; the limit is \(limit) (index their common folder instead)")
        }
        for path in paths {
            guard path.hasPrefix("/") else { throw APIError.badRequest("path '\(path)' must be absolute") }
            if !configuration.indexRoots.isEmpty {
                let resolved = URL(fileURLWithPath: path).resolvingSymlinksInPath().standardizedFileURL.path
                let allowed = configuration.indexRoots.contains { root in
                    let base = URL(fileURLWithPath: root).resolvingSymlinksInPath().standardizedFileURL.path
                    return resolved == base || resolved.hasPrefix(base.hasSuffix("/") ? base : base + "/")
                }
                guard allowed else {
                    throw APIError(.forbidden, "outside_index_roots",
                                   "path '\(path)' is outside the folders this server may index (--index-root)")
                }
            }
            guard FileManager.default.fileExists(atPath: path) else {
                throw APIError.notFound("path '\(path)' does not exist on the server")
            }
            inputs.append(path)
        }
        for text in urls {
            guard let url = URL(string: text), let scheme = url.scheme?.lowercased(), scheme == "http" || scheme == "https",
                  url.host != nil
            else { throw APIError.badRequest("url '\(text)' must be an http(s) URL") }
            inputs.append(text)
        }
        guard !inputs.isEmpty else { throw APIError.badRequest("give 'paths' (files or folders on the server) or 'urls'") }
        let record = await server.jobs.submit(inputs)
        var response = try JSONBody.response(encoding: record, status: .accepted)
        response.headers[.location] = "/api/jobs/\(record.id)"
        return response
    }

    private func job(_ context: LoupeRequestContext) async throws -> JobRecord {
        let id = try context.parameters.require("id")
        var record = await server.jobs.record(id)
        if record == nil { record = await server.generations.record(id) }
        guard let record else { throw APIError.notFound("job '\(id)' does not exist") }
        return record
    }

    /// Server-sent events: one `progress` event per change, then `end` when the job is over.
    private func jobEvents(_ context: LoupeRequestContext) async throws -> Response {
        let id = try context.parameters.require("id")
        var stream = await server.jobs.updates(id)
        if stream == nil { stream = await server.generations.updates(id) }
        guard let updates = stream else { throw APIError.notFound("job '\(id)' does not exist") }
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .iso8601
        encoder.outputFormatting = [.sortedKeys]
        let body = ResponseBody { writer in
            var last: JobRecord?
            for await record in updates {
                last = record
                let json = String(decoding: try encoder.encode(record), as: UTF8.self)
                try await writer.write(ByteBuffer(string: "event: progress\ndata: \(json)\n\n"))
            }
            let state = last?.state.rawValue ?? "unknown"
            try await writer.write(ByteBuffer(string: "event: end\ndata: {\"state\":\"\(state)\"}\n\n"))
            try await writer.finish(nil)
        }
        return Response(status: .ok, headers: [.contentType: "text/event-stream", .cacheControl: "no-cache"], body: body)
    }

    // MARK: Items

    private func item(_ context: LoupeRequestContext) async throws -> MediaItem {
        let text = try context.parameters.require("id")
        guard let id = Int64(text) else { throw APIError.badRequest("item id '\(text)' is not an integer") }
        guard let item = try await library.item(id) else { throw APIError.notFound("item \(id) does not exist") }
        return item
    }

    /// Indexed pictures and videos (not moments), in indexing order, a page at a time, with the total.
    private func listItems(_ request: Request) async throws -> Response {
        let query = Self.queryItems(request)
        func number(_ name: String, default value: Int, within range: ClosedRange<Int>) throws -> Int {
            guard let text = query[name] else { return value }
            guard let number = Int(text), range.contains(number) else {
                throw APIError.badRequest("\(name) '\(text)' must be an integer within \(range.lowerBound)...\(range.upperBound)")
            }
            return number
        }
        let limit = try number("limit", default: 100, within: 1...10_000)
        let offset = try number("offset", default: 0, within: 0...Int(Int32.max))
        let filter = try SearchQuery.filter(
            type: query["type"], expression: query["filter"], folder: query["folder"],
            after: try query["after"].map { try SearchQuery.DateBound(text: $0, name: "after") },
            before: try query["before"].map { try SearchQuery.DateBound(text: $0, name: "before") })
        let total = try await library.fileCount(matching: filter)
        let items = try await library.files(matching: filter, limit: limit, offset: offset)
        return try JSONBody.response(encoding: ItemPage(items: items.map { ItemJSON($0, score: nil) }, total: total,
                                                        offset: offset, limit: limit))
    }

    private struct ItemPage: Encodable {
        var items: [ItemJSON]
        var total, offset, limit: Int
    }

    /// Takes an item's file out of the index (a picture, or a video with all its moments); the file stays.
    private func removeItem(_ context: LoupeRequestContext) async throws -> Response {
        let item = try await item(context)
        let removed = try await library.remove(path: item.path)
        return try JSONBody.response(encoding: RemovedJSON(path: item.path, removedRows: removed))
    }

    private struct RemovedJSON: Encodable {
        var path: String
        var removedRows: Int

        enum CodingKeys: String, CodingKey {
            case path
            case removedRows = "removed_rows"
        }
    }

    /// The original file, with byte ranges (video seeking). Only files of indexed items are served, and
    /// only while they are still the file that was indexed (see `SafeMediaFile`), from the descriptor checked.
    private func media(_ request: Request, context: LoupeRequestContext) async throws -> Response {
        let item = try await item(context)
        let file = try SafeMediaFile(item: item, roots: configuration.indexRoots)
        var headers: HTTPFields = [
            .contentType: file.contentType, .acceptRanges: "bytes", .cacheControl: "private, max-age=3600",
            .init("X-Content-Type-Options")!: "nosniff",
            .contentDisposition: "inline; filename=\"\(item.name.replacingOccurrences(of: "\"", with: ""))\"",
        ]
        if let rangeHeader = request.headers[.range] {
            guard let range = ByteRange.parse(header: rangeHeader, size: file.size) else {
                var error = APIError(.rangeNotSatisfiable, "invalid_range", "range '\(rangeHeader)' does not fit \(file.size) bytes")
                error.headers[.contentRange] = "bytes */\(file.size)"
                throw error
            }
            headers[.contentRange] = "bytes \(range.lowerBound)-\(range.upperBound)/\(file.size)"
            headers[.contentLength] = String(range.count)
            return Response(status: .partialContent, headers: headers, body: file.body(range: range))
        }
        headers[.contentLength] = String(file.size)
        return Response(status: .ok, headers: headers, body: file.body())
    }

    /// A JPEG preview (the picture, or the video frame of the moment), cached on disk by content, made from
    /// the same checked descriptor as `/media`.
    private func thumbnail(_ request: Request, context: LoupeRequestContext) async throws -> Response {
        let item = try await item(context)
        let sizeText = Self.queryItems(request)["size"] ?? "320"
        guard let size = Int(sizeText), (32...1024).contains(size) else {
            throw APIError.badRequest("size '\(sizeText)' must be a whole number within 32...1024")
        }
        let file = try SafeMediaFile(item: item, roots: configuration.indexRoots)
        let bytes = try await server.thumbnails.jpeg(for: item, from: file, longestSide: size)
        return Response(status: .ok,
                        headers: [.contentType: "image/jpeg", .cacheControl: "private, max-age=86400"],
                        body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
    }

    // MARK: Collections

    private func collections() async throws -> Response {
        var list: [[String: Any]] = []
        if let store = server.embeddedStore {
            for name in await store.listCollections() {
                let stats = try await store.stats(name)
                let description = try await store.describeCollection(name)
                list.append(["name": name, "rows": stats.rowCount, "description": description.schema.description,
                             "indexed_rows": stats.indexedRows])
            }
        } else {
            let statistics = try await library.statistics()
            list.append(["name": library.configuration.collection, "rows": statistics.rows,
                         "indexed_rows": ["vector": statistics.indexedRows]])
        }
        return try JSONBody.response(["collections": list])
    }

    private func stats() async throws -> Response {
        let counts = try await library.counts()
        let statistics = try await library.statistics()
        return try JSONBody.response([
            "collection": library.configuration.collection, "model": library.embedder.modelName,
            "dimension": library.embedder.dimension, "images": counts.images, "videos": counts.videos,
            "moments": counts.moments, "rows": statistics.rows, "generate": generateStatus(),
        ])
    }

    /// Whether `POST /api/generate` works here, so the page shows or hides "Generate with these".
    private func generateStatus() -> [String: Any] {
        guard let generator = server.generator else {
            return ["available": false, "problem": server.generationProblem ?? "image generation is off"]
        }
        return ["available": true, "model": generator.model, "max_references": GenerateRoutes.maxReferences]
    }

    // MARK: Helpers

    /// An item as the API shows it (Codable: encoding result lists this way is several times cheaper than
    /// through Foundation's dictionaries).
    struct ItemJSON: Encodable {
        var id: Int64
        var score: Float?
        /// The autocut group of a search result (0 before the first score cliff); nil outside searches.
        var relevance: Int?
        /// The calibrated match probability of a search result (SigLIP models, a search by one text).
        var probability: Float?
        var path, name, kind, scope, modified, sha256: String
        var size: Int64
        var metadata: [String: String]
        var source: String?
        var start, end, duration: Double?
        var width, height: Int?
        var mediaURL, thumbnailURL: String

        enum CodingKeys: String, CodingKey {
            case id, score, relevance, probability, path, name, kind, scope, modified, sha256, size, metadata, source, start, end, duration
            case width, height, mediaURL = "media_url", thumbnailURL = "thumbnail_url"
        }

        init(_ item: MediaItem, score: Float?, relevance: Int? = nil, probability: Float? = nil) {
            id = item.id
            self.score = score
            self.relevance = relevance
            self.probability = probability
            path = item.path
            name = item.name
            kind = item.kind.rawValue
            scope = item.scope.rawValue
            modified = item.modified.formatted(.iso8601)
            sha256 = item.sha256
            size = item.size
            metadata = item.metadata
            source = item.source
            start = item.start
            end = item.end
            duration = item.duration
            width = item.width
            height = item.height
            mediaURL = "/api/items/\(item.id)/media"
            thumbnailURL = "/api/items/\(item.id)/thumbnail"
        }
    }

    struct ResultsJSON: Encodable {
        var tookMS: Double
        var results: [ItemJSON]
        /// Results of the page that autocut left out (0 when it is off or cut nothing there).
        var cutByAutocut: Int
        enum CodingKeys: String, CodingKey { case tookMS = "took_ms", results, cutByAutocut = "cut_by_autocut" }
    }

    static func queryItems(_ request: Request) -> [String: String] {
        var items: [String: String] = [:]
        for (key, value) in request.uri.queryParameters { items[String(key)] = String(value) }
        return items
    }

    static func collect(_ request: Request, limit: Int, what: String) async throws -> Data {
        if let length = request.headers[.contentLength].flatMap(Int.init), length > limit {
            throw APIError.tooLarge("\(what) is \(length) bytes; the limit is \(limit)")
        }
        do {
            let buffer = try await request.body.collect(upTo: limit)
            return Data(buffer.readableBytesView)
        } catch let error as HTTPError where error.status == .contentTooLarge {
            throw APIError.tooLarge("\(what) is larger than the limit of \(limit) bytes")
        } catch is NIOTooManyBytesError {
            // A chunked body (no Content-Length) that outgrew the limit.
            throw APIError.tooLarge("\(what) is larger than the limit of \(limit) bytes")
        }
    }

    static func decode<T: Decodable>(_ type: T.Type, from data: Data, what: String) throws -> T {
        guard !data.isEmpty else { throw APIError.badRequest("\(what) is empty; send a JSON object") }
        do {
            return try JSONDecoder().decode(type, from: data)
        } catch let error as DecodingError {
            throw APIError.badRequest("\(what) is not valid: \(DecodingErrorText(error))")
        }
    }
}

/// A short, readable account of a JSON decoding error (the field path and the problem).
func DecodingErrorText(_ error: DecodingError) -> String {
    func path(_ codingPath: [any CodingKey]) -> String {
        codingPath.isEmpty ? "the top level" : codingPath.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
    }
    switch error {
    case .typeMismatch(let type, let context): return "\(path(context.codingPath)) should be \(type)"
    case .valueNotFound(let type, let context): return "\(path(context.codingPath)) should be \(type), found null"
    case .keyNotFound(let key, _): return "'\(key.stringValue)' is missing"
    case .dataCorrupted(let context):
        return context.codingPath.isEmpty ? "not JSON (\(context.debugDescription))"
            : "\(path(context.codingPath)): \(context.debugDescription)"
    @unknown default: return "\(error)"
    }
}
