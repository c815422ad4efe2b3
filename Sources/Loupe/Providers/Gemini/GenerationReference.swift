import Foundation
import LoupeMedia

/// A picture sent to an image model as a reference: re-encoded as JPEG with its longest side at most
/// `GenerationReference.longestSide`, with where it came from.
public struct GenerationReference: Sendable {
    /// The longest side of a reference sent off the machine.
    public static let longestSide = 1024

    /// The file (for a video moment: the video).
    public var path: String
    /// The similarity to the retrieval query, for retrieved references.
    public var score: Float?
    /// The library item, for retrieved and `--ref-item` references.
    public var itemID: Int64?
    /// The time of the frame used, for a video.
    public var time: Double?
    public var jpeg: Data

    public init(path: String, score: Float? = nil, itemID: Int64? = nil, time: Double? = nil, jpeg: Data) {
        self.path = path
        self.score = score
        self.itemID = itemID
        self.time = time
        self.jpeg = jpeg
    }

    /// The picture at `url`, shrunk and re-encoded.
    public static func file(_ url: URL) throws -> GenerationReference {
        GenerationReference(path: url.path, jpeg: try Thumbnailer(longestSide: longestSide)
            .thumbnail(contentsOf: url, as: .jpeg(quality: 90)))
    }
}

extension MediaLibrary {
    /// The references of one generation, in the order they are sent: the top `limit` pictures for `query`
    /// (none when `query` is nil or `limit` is 0), then the items `ids` in the order given. The CLI's
    /// `loupe generate` and the server's `POST /api/generate` both gather them here.
    /// - Throws: `LoupeError(.notFound)` naming an id that is not indexed.
    public func generationReferences(query: String?, limit: Int, items ids: [Int64]) async throws -> [GenerationReference] {
        var references: [GenerationReference] = []
        if let query { references += try await generationReferences(for: query, limit: limit) }
        for id in ids { references.append(try await generationReference(item: id)) }
        return references
    }

    /// The top `limit` pictures for `query`, as references (pictures only: video moments come in by id).
    public func generationReferences(for query: String, limit: Int) async throws -> [GenerationReference] {
        guard limit > 0 else { return [] }
        var request = SearchRequest(.text(query), limit: limit)
        request.filter.kind = .image
        let results = try await search(request).results
        var references: [GenerationReference] = []
        for result in results {
            var reference = try await generationReference(result.item)
            reference.score = result.score
            references.append(reference)
        }
        return references
    }

    /// The indexed item `id` as a reference: a picture itself, a video moment's (or a whole video's)
    /// thumbnail frame.
    public func generationReference(item id: Int64) async throws -> GenerationReference {
        guard let item = try await item(id) else { throw LoupeError(.notFound, "no indexed item with id \(id)") }
        return try await generationReference(item)
    }

    private func generationReference(_ item: MediaItem) async throws -> GenerationReference {
        let picture = try await configuration.executor.run(.cpu) { [self] in
            try preview(of: item, longestSide: GenerationReference.longestSide)
        }
        let jpeg = try ImageEncoder.encode(picture, as: .jpeg(quality: 90))
        return GenerationReference(path: item.path, itemID: item.id,
                                   time: item.kind == .video ? (item.thumbnailTime ?? item.start ?? 0) : nil, jpeg: jpeg)
    }
}
