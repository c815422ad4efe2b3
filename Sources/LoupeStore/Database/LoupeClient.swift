import Foundation

/// An embedded vector database in a directory, with Milvus's data model and client API.
///
/// ```swift
/// let client = try LoupeClient(path: "./loupe-data")
/// try await client.createCollection("photos", dimension: 512)
/// try await client.insert("photos", [["id": 1, "vector": .vector(embedding), "camera": "X100"]])
/// let hits = try await client.search("photos", vectors: [query], options: SearchOptions(limit: 5, filter: "camera like 'X%'"))
/// ```
/// The directory holds `loupe.sqlite` (rows, the source of truth) and `index/` (HNSW graphs, rebuilt
/// when missing or stale). One process may have it open for writing at a time; another gets a `.locked`
/// error naming the holder's pid. Any number of read-only clients (`Configuration.readOnly`), in this
/// process or others, may open it beside the writer: each call of a reader first catches up with what
/// the writer committed since (SQLite's `data_version` tells when there is anything), so readers see new
/// rows without reopening. Calls on one client are serialised, so every read sees a consistent state.
///
/// Graphs grow in the background: while rows wait to be added, searches scan them exactly, and a graph
/// being built never blocks a search. `flush()` waits for the graphs and writes the index files.
public actor LoupeClient {
    /// The database directory.
    public nonisolated let path: String
    /// Options fixed at open.
    public nonisolated let configuration: Configuration
    let sqlite: SQLiteStore
    private var lock: DatabaseLock?
    var isOpen = true
    var collections: [String: CollectionState] = [:]
    /// Aliases and the names of the collections they stand for.
    var aliases: [String: String] = [:]
    /// SQLite's `data_version` when a reader last caught up.
    var dataVersion: Int64 = -1
    /// Graph builds in flight, by collection id and vector field.
    var builds: [BuildKey: Task<Void, Never>] = [:]

    /// Options of a client.
    public struct Configuration: Sendable {
        /// Threads for index builds (default: all cores).
        public var buildThreads = ProcessInfo.processInfo.activeProcessorCount
        /// Rows not yet in a graph above which a search first adds them to it; below, they are scanned exactly.
        public var pendingRowsBeforeIndexing = 2048
        /// Searches whose filter matches at most this many rows scan them exactly instead of using the graph.
        public var exactSearchRowLimit = 4096
        /// Distance computations a graph search spends per slot of its beam (`ef`), used to weigh the graph
        /// against an exact scan of the rows a filter matches. Lower favours the graph.
        public var graphVisitsPerCandidate = 12.0
        /// Open without the writer's lock: writes are refused, graphs are built in memory only, and each
        /// call first catches up with the rows the writer committed since the last one.
        public var readOnly = false
        /// Build graphs in the background when rows are pending (searches scan pending rows exactly
        /// meanwhile); when off, a search that finds too many pending rows builds before answering.
        public var backgroundIndexing = true
        /// Write graphs to `index/` on `flush` and `close`, and load them on open when they are current.
        public var persistIndexes = true
        public init() {}
    }

    /// Opens (creating if needed) the database in directory `path`.
    /// - Throws: `StoreError(.locked)` when another process has it open.
    public init(path: String, configuration: Configuration = Configuration()) throws {
        self.path = path
        self.configuration = configuration
        do {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        } catch {
            throw StoreError(.storage, "cannot create database directory: \(error.localizedDescription)", path: path)
        }
        lock = configuration.readOnly ? nil : try DatabaseLock(directory: path)
        let indexDirectory = (path as NSString).appendingPathComponent("index")
        sqlite = try SQLiteStore(path: (path as NSString).appendingPathComponent("loupe.sqlite"),
                                 readOnly: configuration.readOnly)
        // Read before anything is loaded: a commit made while the collections load changes it, so the
        // first call catches up with that commit too (read after, it would hide the commit for good).
        let version = configuration.readOnly ? try sqlite.dataVersion() : -1
        var loaded: [String: CollectionState] = [:]
        for stored in try sqlite.loadCollections() {
            loaded[stored.name] = try Self.openState(stored, sqlite: sqlite, indexDirectory: indexDirectory,
                                                     loadIndexes: configuration.persistIndexes)
        }
        collections = loaded
        aliases = try sqlite.loadAliases()
        dataVersion = version
    }

    nonisolated var indexDirectory: String { (path as NSString).appendingPathComponent("index") }

    /// The in-memory mirror of a stored collection: its rows, and its graphs from the index files that fit.
    static func openState(_ c: SQLiteStore.StoredCollection, sqlite: SQLiteStore, indexDirectory: String,
                          loadIndexes: Bool) throws -> CollectionState {
        let state = CollectionState(id: c.id, name: c.name, schema: c.schema, changeSeq: c.changeSeq,
                                    nextAutoID: c.nextAutoID, partitions: try sqlite.partitions(collectionID: c.id))
        // The graph files are read and checked on another thread while the rows load (each is a few
        // hundred MB at 100k rows of 512-d vectors); only mapping their rids to slots waits for the rows.
        let reading = loadIndexes ? IndexFile.jobs(state, directory: indexDirectory) : []
        let graphs = PreparedGraphs()
        let group = DispatchGroup()
        if !reading.isEmpty {
            DispatchQueue.global(qos: .userInitiated).async(group: group) { graphs.value = reading.map(IndexFile.prepare) }
        }
        defer { group.wait() }
        try sqlite.read { db in
            let table = SQLiteStore.rowsTable(c.id)
            let maxRidEver = try Int64.fetchOne(db, sql: "SELECT seq FROM sqlite_sequence WHERE name = ?", arguments: [table]) ?? 0
            // The change sequence of the rows this transaction reads (another writer may have committed
            // since `c` was read): the mirror is of this state, and the snapshot is compared with it.
            state.changeSeq = try Int64.fetchOne(db, sql: "SELECT change_seq FROM collections WHERE id = ?", arguments: [c.id])
                ?? c.changeSeq
            guard loadIndexes, let snapshot = RowFile.read(state, directory: indexDirectory, maxRidEver: maxRidEver) else {
                try state.load(from: db)
                return
            }
            // The snapshot, then whatever was committed after it (nothing, when the sequence and count agree).
            state.install(snapshot)
            state.maxRidEver = maxRidEver
            state.openedFrom = .rowFile
            let rowCount = try Int.fetchOne(db, sql: "SELECT count(*) FROM \(table)") ?? -1
            if snapshot.changeSeq != state.changeSeq || rowCount != state.liveCount {
                try state.refresh(from: db)
                // The mirror now reflects SQLite, not the file: the next flush writes a new one.
                state.rowFileSeq = -1
                state.openedFrom = .rowFileAndSQLite
            }
        }
        group.wait()
        if loadIndexes { IndexFile.finishAll(graphs.value, into: state) }
        return state
    }

    /// Graph files read on another thread, handed back after `DispatchGroup.wait`.
    final class PreparedGraphs: @unchecked Sendable {
        var value: [IndexFile.Prepared?] = []
    }

    /// Adds every pending row to its graph and writes the index files (for a reader, nothing: its graphs
    /// are its own and in memory); rows are durable already. Writers call it when they finish a piece of work, so the next process to open the
    /// directory loads the graphs instead of building them.
    public func flush() async throws {
        // A reader's graphs live in memory only: waiting for its builds would only delay its exit.
        guard !configuration.readOnly else { return }
        try refreshIfChanged()
        for state in Array(collections.values) { try await persist(state) }
    }

    /// Flushes and releases the directory lock. The client cannot be used afterwards.
    public func close() async throws {
        guard isOpen else { return }
        try await flush()
        lock?.release()
        lock = nil
        isOpen = false
    }

    /// Throws unless the client may write.
    func checkWritable() throws {
        guard isOpen else { throw StoreError(.invalidArgument, "the client is closed", path: path) }
        guard !configuration.readOnly else { throw StoreError(.invalidArgument, "the client is read-only", path: path) }
    }

    func persist(_ state: CollectionState) async throws {
        for i in state.graphs.indices { await catchUp(state, field: i) }
        guard collections[state.name] === state else { return }
        guard configuration.persistIndexes && !configuration.readOnly else { return }
        try IndexFile.saveAll(state, directory: indexDirectory)
        if state.rowFileSeq != state.changeSeq { try RowFile.save(state, directory: indexDirectory) }
    }

    func collection(_ name: String) throws -> CollectionState {
        guard isOpen else { throw StoreError(.invalidArgument, "the client is closed", path: path) }
        try refreshIfChanged()
        guard let c = collections[name] ?? aliases[name].flatMap({ collections[$0] }) else {
            throw StoreError(.notFound, "no such collection", collection: name)
        }
        return c
    }

    // MARK: - Collections

    /// Creates a collection with a full schema.
    public func createCollection(_ name: String, schema: CollectionSchema) throws {
        try checkWritable()
        guard CollectionSchema.isValidName(name) else {
            throw StoreError(.invalidArgument, "a collection name must start with a letter or _ and hold only letters, digits and _",
                             collection: name)
        }
        guard collections[name] == nil else { throw StoreError(.alreadyExists, "collection exists", collection: name) }
        try checkNotAlias(name)
        try schema.validate(collection: name)
        let id = try sqlite.createCollection(name: name, schema: schema)
        collections[name] = CollectionState(id: id, name: name, schema: schema, changeSeq: 0, nextAutoID: 1,
                                            partitions: ["_default"])
    }

    /// Milvus's quick setup: an int64 `id` primary key, a `vector` field, and the dynamic field on.
    public func createCollection(_ name: String, dimension: Int, metric: MetricType = .cosine,
                                 index: IndexParams = .hnsw, autoID: Bool = false) throws {
        try createCollection(name, schema: .quick(dimension: dimension, metric: metric, index: index, autoID: autoID))
    }

    /// Whether a collection named `name`, or an alias `name` of one, exists.
    public func hasCollection(_ name: String) -> Bool {
        try? refreshIfChanged()
        return collections[name] != nil || aliases[name] != nil
    }

    /// Collection names, sorted.
    public func listCollections() -> [String] {
        try? refreshIfChanged()
        return collections.keys.sorted()
    }

    /// The schema, partitions and aliases of a collection (`name` may be an alias: the description
    /// names the collection).
    public func describeCollection(_ name: String) throws -> CollectionDescription {
        let c = try collection(name)
        return CollectionDescription(name: c.name, schema: c.schema, partitions: c.partitions.sorted(),
                                     aliases: aliases(of: c.name))
    }

    /// Deletes a collection, its rows, its index files and its aliases. An alias cannot name the
    /// collection here (as in Milvus): dropping goes by the collection's own name.
    public func dropCollection(_ name: String) throws {
        try checkWritable()
        try refreshIfChanged()
        if collections[name] == nil, aliases[name] != nil {
            throw StoreError(.invalidArgument, "cannot drop the collection via alias '\(name)'; drop the alias or name the collection",
                             collection: name)
        }
        let c = try collection(name)
        try sqlite.write { db in
            try db.execute(sql: "DELETE FROM aliases WHERE collection_id = ?", arguments: [c.id])
            try db.execute(sql: "DROP TABLE \(SQLiteStore.rowsTable(c.id))")
            for f in c.schema.fields where f.enableKeywordSearch {
                try db.execute(sql: "DROP TABLE \(SQLiteStore.keywordTable(c.id, field: f.name))")
            }
            try db.execute(sql: "DELETE FROM partitions WHERE collection_id = ?", arguments: [c.id])
            try db.execute(sql: "DELETE FROM collections WHERE id = ?", arguments: [c.id])
        }
        IndexFile.removeAll(c, directory: indexDirectory)
        collections[name] = nil
        aliases = aliases.filter { $0.value != name }
    }

    /// Renames a collection (its rows and index files keep their internal id).
    /// Its aliases follow it. `old` must be the collection's own name, not an alias.
    public func renameCollection(_ old: String, to new: String) throws {
        try checkWritable()
        try refreshIfChanged()
        if collections[old] == nil, aliases[old] != nil {
            throw StoreError(.invalidArgument, "cannot rename the collection via alias '\(old)'", collection: old)
        }
        let c = try collection(old)
        guard CollectionSchema.isValidName(new) else {
            throw StoreError(.invalidArgument, "invalid collection name", collection: new)
        }
        guard collections[new] == nil else { throw StoreError(.alreadyExists, "collection exists", collection: new) }
        try checkNotAlias(new)
        try sqlite.write { db in try db.execute(sql: "UPDATE collections SET name = ? WHERE id = ?", arguments: [new, c.id]) }
        c.name = new
        collections[old] = nil
        collections[new] = c
        aliases = aliases.mapValues { $0 == old ? new : $0 }
    }

    /// Row count and index coverage of a collection.
    public func stats(_ name: String) throws -> CollectionStats {
        let c = try collection(name)
        var indexed: [String: Int] = [:]
        var bytes: [String: Double] = [:]
        var pending: [String: Int] = [:]
        var indexing: Set<String> = []
        for (i, f) in c.schema.vectorFields.enumerated() {
            indexed[f.name] = c.graphs[i] == nil ? c.slotCount : c.indexedSlots[i]
            pending[f.name] = c.graphs[i] == nil ? 0 : c.live[c.indexedSlots[i]...].reduce(0) { $1 ? $0 + 1 : $0 }
            if let g = c.graphs[i] { bytes[f.name] = g.bytesPerVector }
            if isBuilding(c, field: i) { indexing.insert(f.name) }
        }
        return CollectionStats(rowCount: c.liveCount, indexedRows: indexed, indexBytesPerVector: bytes,
                               pendingRows: pending, indexing: indexing)
    }

    // MARK: - Partitions

    /// Adds a partition to a collection.
    public func createPartition(_ collectionName: String, partition: String) throws {
        try checkWritable()
        let c = try collection(collectionName)
        guard CollectionSchema.isValidName(partition) else {
            throw StoreError(.invalidArgument, "invalid partition name '\(partition)'", collection: collectionName)
        }
        guard !c.partitions.contains(partition) else {
            throw StoreError(.alreadyExists, "partition '\(partition)' exists", collection: collectionName)
        }
        try sqlite.write { db in
            try db.execute(sql: "INSERT INTO partitions (collection_id, name) VALUES (?, ?)", arguments: [c.id, partition])
        }
        c.partitions.insert(partition)
    }

    /// Partition names of a collection, sorted.
    public func listPartitions(_ collectionName: String) throws -> [String] {
        try collection(collectionName).partitions.sorted()
    }

    /// Whether a collection has a partition.
    public func hasPartition(_ collectionName: String, partition: String) throws -> Bool {
        try collection(collectionName).partitions.contains(partition)
    }

    /// Drops a partition and deletes its rows. `_default` cannot be dropped.
    public func dropPartition(_ collectionName: String, partition: String) throws {
        try checkWritable()
        let c = try collection(collectionName)
        guard partition != "_default" else {
            throw StoreError(.invalidArgument, "the _default partition cannot be dropped", collection: collectionName)
        }
        guard c.partitions.contains(partition) else {
            throw StoreError(.notFound, "no partition '\(partition)'", collection: collectionName, partition: partition)
        }
        let keys = (0..<c.slotCount).filter { c.live[$0] && c.partitionOf[$0] == partition }.map { c.primaryKeys[$0] }
        try deleteRows(c, keys: keys) { db in
            try db.execute(sql: "DELETE FROM partitions WHERE collection_id = ? AND name = ?", arguments: [c.id, partition])
        }
        c.partitions.remove(partition)
    }
}

extension LoupeClient {
    /// Where a collection's rows came from when it was opened (for tests and diagnostics).
    func openedFrom(_ name: String) -> CollectionState.OpenedFrom? { collections[name]?.openedFrom }

    /// Whether the first vector field's values and graph blocks are still read from the mapped files.
    func isMapped(_ name: String) -> (vectors: Bool, graph: Bool)? {
        collections[name].map { ($0.vectors.first?.isMapped ?? false, $0.graphs.first??.blocksAreMapped ?? false) }
    }
}
