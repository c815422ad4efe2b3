/// The embedders a `TableClient` finds by name: those it was given, and those its connector makes the first
/// time a table names them (a remote provider, a model loaded only when a table needs it).
///
/// A connection is made once: callers that ask for the same name while it is being made wait for it. A
/// failed connection is not remembered, so the next call tries again (a key set since, a provider back).
actor EmbedderRegistry {
    private var embedders: [String: any Embedder]
    private var connecting: [String: Task<(any Embedder)?, any Error>] = [:]
    private let connect: TableClient.Connector?

    init(embedders: [String: any Embedder], connect: TableClient.Connector?) {
        self.embedders = embedders
        self.connect = connect
    }

    /// The embedder called `name`, connecting it if need be; nil when neither the given embedders nor the
    /// connector know the name.
    func embedder(named name: String) async throws -> (any Embedder)? {
        if let embedder = embedders[name] { return embedder }
        guard let connect else { return nil }
        if let pending = connecting[name] { return try await pending.value }
        let task = Task { try await connect(name) }
        connecting[name] = task
        defer { connecting[name] = nil }
        let embedder = try await task.value
        if let embedder { embedders[name] = embedder }
        return embedder
    }

    /// The names available now: those given and those connected so far.
    var names: [String] { embedders.keys.sorted() }
}
