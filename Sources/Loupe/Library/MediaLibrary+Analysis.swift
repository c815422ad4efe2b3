import LoupeStore

extension MediaLibrary {
    /// A cluster of the library: its most central items first.
    public struct Theme: Sendable {
        public var items: [MediaItem]
        /// Similarity of each item to the cluster's centre, in the order of `items`.
        public var similarities: [Float]
    }

    /// Groups of near-duplicate files (resized, re-encoded or lightly edited copies), largest first.
    public func duplicates(threshold: Float = 0.95) async throws -> [[MediaItem]] {
        let (items, vectors) = try await fileVectors()
        return try NearDuplicateFinder(threshold: threshold).groups(vectors).map { $0.map { items[$0] } }
    }

    /// k-means++ clusters of the library's files, largest first.
    public func clusters(count: Int, seed: UInt64 = 0x10CE) async throws -> [Theme] {
        let (items, vectors) = try await fileVectors()
        var clustering = KMeansClustering(clusterCount: count)
        clustering.seed = seed
        return try clustering.fit(vectors).map { Theme(items: $0.members.map { items[$0] }, similarities: $0.similarities) }
    }

    /// The files least like the rest of the library, most unusual first, with their scores.
    public func outliers(count: Int, neighbours: Int = 5) async throws -> [(item: MediaItem, score: Float)] {
        let (items, vectors) = try await fileVectors()
        return try OutlierScorer(neighbours: neighbours).top(count, of: vectors).map { (items[$0.index], $0.score) }
    }

    /// One vector per file: each image, and each video as a whole.
    private func fileVectors() async throws -> ([MediaItem], [[Float]]) {
        let rows = try await store.query(configuration.collection, matching: try MediaFilter().compiled(scopes: [.image, .video]),
                                         fields: MediaSchema.outputFields + [MediaSchema.vector], limit: nil, offset: 0)
        var items: [MediaItem] = []
        var vectors: [[Float]] = []
        for row in rows {
            guard let vector = row[MediaSchema.vector]?.vectorValue else { continue }
            items.append(try MediaItem(row: row))
            vectors.append(vector)
        }
        return (items, vectors)
    }
}
