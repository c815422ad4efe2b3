import Foundation
import Loupe
import LoupeMedia

/// The body of `POST /api/search` (JSON, or the `query` part of a multipart upload).
///
/// ```json
/// {"text": "a red silk robe", "terms": [{"weight": -0.5, "text": "a person"}],
///  "type": "image", "folder": "/photos/2024", "after": "2024-01-01", "k": 24, "min_score": 0.2, "autocut": 1}
/// ```
struct SearchQuery: Decodable {
    struct Term: Decodable {
        var weight: Float?
        var text: String?
        var imageURL: String?
        var item: Int64?
        /// The name of a multipart part holding a picture.
        var upload: String?
        /// A stretch of an indexed video: `{"item": 12, "start": 4, "end": 8}` uses the item's file.
        var start: Double?
        var end: Double?

        enum CodingKeys: String, CodingKey {
            case weight, text, item, upload, start, end
            case imageURL = "image_url"
        }
    }

    var text: String?
    var imageURL: String?
    var item: Int64?
    var terms: [Term]?
    var filter: String?
    var type: String?
    var folder: String?
    var after: DateBound?
    var before: DateBound?
    var k: Int?
    var offset: Int?
    var momentsPerVideo: Int?
    var minScore: Float?
    /// Drop results whose calibrated match probability is below this (SigLIP models, one text).
    var minProbability: Float?
    var includeWholeVideos: Bool?
    var ef: Int?
    /// Keep the first N relevance groups (0: every result).
    var autocut: Count?

    enum CodingKeys: String, CodingKey {
        case text, item, terms, filter, type, folder, after, before, k, offset, ef, autocut
        case imageURL = "image_url", minScore = "min_score", minProbability = "min_probability", includeWholeVideos = "include_whole_videos"
        case momentsPerVideo = "moments_per_video"
    }

    /// A count that may arrive as any JSON number: 1e300 is refused with a message naming the field, where
    /// decoding it as `Int` directly would report the body as not JSON at all.
    struct Count: Decodable {
        var value: Int

        init(value: Int) { self.value = value }

        init(from decoder: any Decoder) throws {
            let container = try decoder.singleValueContainer()
            if let value = try? container.decode(Int.self) {
                self.value = value
                return
            }
            let number = try container.decode(Double.self)
            guard number.isFinite, number.rounded() == number, abs(number) < 1e15 else {
                throw DecodingError.dataCorruptedError(in: container, debugDescription: "\(number) is not an integer within 0...\(Autocut.maximum)")
            }
            value = Int(number)
        }
    }

    /// A date given as `2024-05-01`, a full ISO 8601 timestamp, or Unix seconds.
    struct DateBound: Decodable {
        var date: Date

        init(from decoder: any Decoder) throws {
            let container = try decoder.singleValueContainer()
            let text: String
            if let number = try? container.decode(Double.self) { text = String(number) } else { text = try container.decode(String.self) }
            guard let date = MediaFilter.date(text) else {
                throw DecodingError.dataCorruptedError(in: container, debugDescription: Self.problem(text))
            }
            self.date = date
        }

        /// A bound from a query parameter such as `?after=2024-05-01`.
        init(text: String, name: String) throws {
            guard let date = MediaFilter.date(text) else { throw APIError.badRequest("\(name): \(Self.problem(text))") }
            self.date = date
        }

        private static func problem(_ text: String) -> String {
            "'\(text)' is not a date (use 2024-05-01, ISO 8601 or Unix seconds)"
        }
    }

    /// Parses `?q=&k=&type=` for `GET /api/search`.
    init(queryItems: [String: String]) throws {
        text = queryItems["q"] ?? queryItems["text"]
        imageURL = queryItems["image_url"]
        item = try queryItems["item"].map { try Self.integer($0, name: "item") }
        filter = queryItems["filter"]
        type = queryItems["type"]
        folder = queryItems["folder"]
        k = try queryItems["k"].map { Int(try Self.integer($0, name: "k")) }
        offset = try queryItems["offset"].map { Int(try Self.integer($0, name: "offset")) }
        momentsPerVideo = try queryItems["moments_per_video"].map { Int(try Self.integer($0, name: "moments_per_video")) }
        autocut = try queryItems["autocut"].map { text in
            guard let value = Int(text) else { throw APIError.badRequest("autocut '\(text)' is not an integer") }
            return Count(value: value)
        }
        after = try queryItems["after"].map { try DateBound(text: $0, name: "after") }
        before = try queryItems["before"].map { try DateBound(text: $0, name: "before") }
        minScore = try queryItems["min_score"].map { value in
            guard let number = Float(value) else { throw APIError.badRequest("min_score '\(value)' is not a number") }
            return number
        }
        minProbability = try queryItems["min_probability"].map { value in
            guard let number = Float(value) else { throw APIError.badRequest("min_probability '\(value)' is not a number") }
            return number
        }
    }

    private static func integer(_ text: String, name: String) throws -> Int64 {
        guard let value = Int64(text) else { throw APIError.badRequest("\(name) '\(text)' is not an integer") }
        return value
    }

    /// The library request, with uploads resolved from `uploads` (part name -> bytes).
    func request(uploads: [String: Data], maxResults: Int, maxTerms: Int = RequestLimits().maxSearchTerms) throws
        -> SearchRequest
    {
        guard (terms?.count ?? 0) + uploads.count <= maxTerms else {
            throw APIError.badRequest("the search has \((terms?.count ?? 0) + uploads.count) terms and uploads; the limit is \(maxTerms)")
        }
        var inputs: [(Float, SearchInput)] = []
        if let text, !text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty { inputs.append((1, .text(text))) }
        if let imageURL { inputs.append((1, .imageURL(try Self.url(imageURL)))) }
        if let item { inputs.append((1, .item(item))) }
        guard (terms ?? []).count <= SearchRequest.maxTerms else {
            throw APIError.badRequest("a search combines at most \(SearchRequest.maxTerms) terms, not \(terms?.count ?? 0)")
        }
        for (index, term) in (terms ?? []).enumerated() {
            let weight = term.weight ?? 1
            guard weight.isFinite, abs(weight) <= 10 else {
                throw APIError.badRequest("terms[\(index)].weight \(weight) must be a number within -10...10")
            }
            let given = [term.text != nil, term.imageURL != nil, term.item != nil, term.upload != nil].filter { $0 }.count
            guard given == 1 else {
                throw APIError.badRequest("terms[\(index)] needs exactly one of text, image_url, item, upload")
            }
            if let text = term.text {
                inputs.append((weight, .text(text)))
            } else if let url = term.imageURL {
                inputs.append((weight, .imageURL(try Self.url(url))))
            } else if let item = term.item {
                if let start = term.start, let end = term.end {
                    guard start.isFinite, end.isFinite, start >= 0, start < end, end <= VideoDecoder.Configuration.maximumStartTime else {
                        throw APIError.badRequest("terms[\(index)]: start \(start) and end \(end) must be seconds with 0 <= start < end <= 1e9")
                    }
                    inputs.append((weight, .itemClip(item, start: start, end: end)))
                } else {
                    inputs.append((weight, .item(item)))
                }
            } else if let name = term.upload {
                guard let data = uploads[name] else {
                    throw APIError.badRequest("terms[\(index)] names upload '\(name)', but no such part was sent")
                }
                inputs.append((weight, .imageData(data)))
            }
        }
        let referenced = Set((terms ?? []).compactMap(\.upload))
        for (name, data) in uploads.sorted(by: { $0.key < $1.key }) where !referenced.contains(name) {
            inputs.append((1, .imageData(data)))
        }
        guard !inputs.isEmpty else {
            throw APIError.badRequest("the search has nothing to search with: give text, image_url, item, terms or an image")
        }

        var request = SearchRequest(terms: inputs.map { (weight: $0.0, input: $0.1) }, limit: k ?? 24)
        guard (1...maxResults).contains(request.limit) else {
            throw APIError.badRequest("k \(request.limit) must be within 1...\(maxResults)")
        }
        request.offset = offset ?? 0
        guard request.offset >= 0, request.offset <= MediaLibrary.maxSearchDepth - request.limit else {
            throw APIError.badRequest("offset \(request.offset) must be at least 0 and offset + k at most \(MediaLibrary.maxSearchDepth)")
        }
        request.momentsPerVideo = momentsPerVideo ?? 1
        guard (1...MediaLibrary.maxMomentsPerVideo).contains(request.momentsPerVideo) else {
            throw APIError.badRequest("moments_per_video \(request.momentsPerVideo) must be within 1...\(MediaLibrary.maxMomentsPerVideo)")
        }
        request.filter = try Self.filter(type: type, expression: filter, folder: folder, after: after, before: before)
        if let minScore {
            guard (-1...1).contains(minScore) else { throw APIError.badRequest("min_score \(minScore) must be within -1...1") }
            request.minScore = minScore
        }
        if let minProbability {
            guard minProbability > 0, minProbability < 1 else {
                throw APIError.badRequest("min_probability \(minProbability) must be strictly between 0 and 1")
            }
            request.minProbability = minProbability
        }
        request.includeWholeVideos = includeWholeVideos ?? false
        request.autocut = autocut?.value ?? 0
        guard (0...Autocut.maximum).contains(request.autocut) else {
            throw APIError.badRequest("autocut \(request.autocut) must be within 0...\(Autocut.maximum) (0 keeps every result)")
        }
        if let ef {
            guard (1...4096).contains(ef) else { throw APIError.badRequest("ef \(ef) must be within 1...4096") }
            request.ef = ef
        }
        return request
    }

    /// Which items qualify: a type (`image`, `video` or `all`), a Milvus expression, a folder (every file under
    /// it), and modification times (`after` inclusive, `before` exclusive); shared by searches and listings.
    static func filter(type: String?, expression: String?, folder: String?, after: DateBound?, before: DateBound?) throws
        -> MediaFilter
    {
        var filter = MediaFilter(folder: folder, after: after?.date, before: before?.date, expression: expression ?? "")
        if let type, !type.isEmpty, type != "all" {
            guard let kind = MediaKind(rawValue: type) else { throw APIError.badRequest("type '\(type)' must be image, video or all") }
            filter.kind = kind
        }
        _ = try filter.compiled(scopes: [.image])
        return filter
    }

    private static func url(_ text: String) throws -> URL {
        guard let url = URL(string: text), let scheme = url.scheme?.lowercased(), scheme == "http" || scheme == "https",
              url.host != nil
        else {
            throw APIError.badRequest("image_url '\(text)' must be an http(s) URL")
        }
        return url
    }
}
