import Foundation

/// The part every cloud embedder shares: cached vectors where there are some, the rest in requests of
/// `batchSize` inputs, `concurrency` requests in flight, each answer stored in the cache as it arrives
/// (so a run that stops keeps what it paid for).
struct RemoteEmbeddingRun: Sendable {
    var provider: String
    var modelName: String
    /// The vectors' length, or 0 while it is being learnt (the probe).
    var dimension: Int
    var cache: RemoteEmbeddingCache?
    var batchSize: Int
    var concurrency: Int

    func embed(_ inputs: [RemoteInput],
               request: @escaping @Sendable ([RemoteInput]) async throws -> [[Float]]) async throws -> [[Float]] {
        guard !inputs.isEmpty else { return [] }
        let keys = inputs.map(\.cacheKey)
        var vectors: [[Float]?] = keys.map { key in cache?.vector(key, model: modelName, dimension: dimension == 0 ? nil : dimension) }
        let missing = vectors.indices.filter { vectors[$0] == nil }
        let size = max(1, batchSize)
        let batches = stride(from: 0, to: missing.count, by: size).map { Array(missing[$0..<min($0 + size, missing.count)]) }
        try await withThrowingTaskGroup(of: ([Int], [[Float]]).self) { group in
            var next = 0
            func launch() {
                let batch = batches[next]
                next += 1
                let batchInputs = batch.map { inputs[$0] }
                group.addTask { (batch, try await request(batchInputs)) }
            }
            while next < min(max(1, concurrency), batches.count) { launch() }
            while let (batch, embedded) = try await group.next() {
                for (index, vector) in zip(batch, embedded) {
                    vectors[index] = vector
                    cache?.store(vector, keys[index], model: modelName)
                }
                if next < batches.count { launch() }
            }
        }
        return try vectors.map { vector in
            guard let vector else { throw ProviderError(.badResponse, provider: provider, message: "an input got no embedding") }
            return vector
        }
    }
}
