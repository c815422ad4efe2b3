import Foundation
import GRDB

/// The SQLite file under a database directory: the source of truth for collections and rows.
///
/// WAL with `synchronous=FULL`: every commit is fsynced to the WAL before the call returns, so an
/// acknowledged write survives `kill -9` and power loss (NORMAL would survive a process crash but could
/// lose the last commits on power loss, which the store promises not to).
///
/// Each collection's rows live in `rows_<id>`: an AUTOINCREMENT `rid` (never reused, so index files can
/// name rows by it), the primary key, the partition, the scalar and dynamic fields as one JSON
/// document, and one fp32 BLOB per vector field.
final class SQLiteStore: @unchecked Sendable {
    let queue: DatabaseQueue
    let path: String

    init(path: String, readOnly: Bool = false) throws {
        self.path = path
        var config = Configuration()
        config.readonly = readOnly
        // A reader may briefly wait on the writer's checkpoint; a writer on a reader's WAL recovery.
        config.busyMode = .timeout(5)
        if !readOnly {
            config.prepareDatabase { db in
                try db.execute(sql: "PRAGMA synchronous = FULL")
            }
        }
        do {
            if readOnly {
                guard FileManager.default.fileExists(atPath: path) else {
                    throw StoreError(.notFound, "no database to open read-only", path: path)
                }
                queue = try DatabaseQueue(path: path, configuration: config)
                return
            }
            queue = try DatabaseQueue(path: path, configuration: config)
            try queue.writeWithoutTransaction { db in
                _ = try String.fetchOne(db, sql: "PRAGMA journal_mode = WAL")
            }
            try queue.write { db in
                try db.execute(sql: """
                    CREATE TABLE IF NOT EXISTS collections (
                        id INTEGER PRIMARY KEY AUTOINCREMENT,
                        name TEXT NOT NULL UNIQUE,
                        schema TEXT NOT NULL,
                        change_seq INTEGER NOT NULL DEFAULT 0,
                        next_auto_id INTEGER NOT NULL DEFAULT 1);
                    CREATE TABLE IF NOT EXISTS partitions (
                        collection_id INTEGER NOT NULL,
                        name TEXT NOT NULL,
                        PRIMARY KEY (collection_id, name));
                    CREATE TABLE IF NOT EXISTS aliases (
                        name TEXT PRIMARY KEY,
                        collection_id INTEGER NOT NULL);
                    """)
            }
        } catch let error as DatabaseError {
            throw StoreError(.storage, error.message ?? "\(error)", path: path)
        }
    }

    static func rowsTable(_ id: Int64) -> String { "rows_\(id)" }
    static func keywordTable(_ id: Int64, field: String) -> String { "fts_\(id)_\(field)" }

    /// Runs `body` in one write transaction, turning SQLite errors into `StoreError`s.
    func write<T>(_ body: (Database) throws -> T) throws -> T {
        do {
            return try queue.write(body)
        } catch let error as DatabaseError {
            throw storeError(error)
        }
    }

    func read<T>(_ body: (Database) throws -> T) throws -> T {
        do {
            return try queue.read(body)
        } catch let error as DatabaseError {
            throw storeError(error)
        }
    }

    /// A busy or locked database is worth retrying (`.locked`); anything else is a storage failure.
    func storeError(_ error: DatabaseError) -> StoreError {
        let busy = error.resultCode == .SQLITE_BUSY || error.resultCode == .SQLITE_LOCKED
        return StoreError(busy ? .locked : .storage, error.message ?? "\(error)", path: path)
    }

    /// Creates the row table (and keyword tables) of a new collection; returns its id.
    func createCollection(name: String, schema: CollectionSchema) throws -> Int64 {
        let schemaText = String(decoding: try JSONEncoder().encode(schema), as: UTF8.self)
        return try write { db in
            try db.execute(sql: "INSERT INTO collections (name, schema) VALUES (?, ?)", arguments: [name, schemaText])
            let id = db.lastInsertedRowID
            let pkType = schema.primaryField.dataType == .int64 ? "INTEGER" : "TEXT"
            var columns = ["rid INTEGER PRIMARY KEY AUTOINCREMENT", "pk \(pkType) NOT NULL UNIQUE",
                           "partition TEXT NOT NULL", "doc TEXT NOT NULL"]
            for (i, _) in schema.vectorFields.enumerated() { columns.append("v\(i) BLOB NOT NULL") }
            try db.execute(sql: "CREATE TABLE \(Self.rowsTable(id)) (\(columns.joined(separator: ", ")))")
            try db.execute(sql: "INSERT INTO partitions (collection_id, name) VALUES (?, '_default')", arguments: [id])
            for f in schema.fields where f.enableKeywordSearch {
                try db.execute(sql: "CREATE VIRTUAL TABLE \(Self.keywordTable(id, field: f.name)) USING fts5(body)")
            }
            return id
        }
    }

    /// A collection as stored.
    struct StoredCollection {
        var id: Int64
        var name: String
        var schema: CollectionSchema
        var changeSeq: Int64
        var nextAutoID: Int64
    }

    /// Collections as stored, by id.
    func loadCollections() throws -> [StoredCollection] {
        try read { db in
            try GRDB.Row.fetchAll(db, sql: "SELECT id, name, schema, change_seq, next_auto_id FROM collections ORDER BY id").map { r in
                // Throwing reads and a validated schema: a damaged database gives an error, never a trap.
                let name = try r.decode(String.self, forColumn: "name")
                let text = try r.decode(String.self, forColumn: "schema")
                let schema: CollectionSchema
                do {
                    schema = try JSONDecoder().decode(CollectionSchema.self, from: Data(text.utf8))
                    try schema.validate(collection: name)
                } catch {
                    throw StoreError(.storage, "the stored schema is damaged: \(error)", collection: name)
                }
                return StoredCollection(id: try r.decode(Int64.self, forColumn: "id"), name: name, schema: schema,
                                        changeSeq: try r.decode(Int64.self, forColumn: "change_seq"),
                                        nextAutoID: try r.decode(Int64.self, forColumn: "next_auto_id"))
            }
        }
    }

    /// SQLite's `data_version`: it changes when another connection commits to the file.
    func dataVersion() throws -> Int64 {
        try read { db in try Int64.fetchOne(db, sql: "PRAGMA data_version") ?? 0 }
    }

    func partitions(collectionID: Int64) throws -> [String] {
        try read { db in
            try String.fetchAll(db, sql: "SELECT name FROM partitions WHERE collection_id = ? ORDER BY name",
                                arguments: [collectionID])
        }
    }

    /// Aliases and the names of their collections. A database written before aliases existed has no
    /// table for them (a reader cannot create it): it has none.
    func loadAliases() throws -> [String: String] {
        try read { db in
            guard try db.tableExists("aliases") else { return [:] }
            var aliases: [String: String] = [:]
            for row in try GRDB.Row.fetchAll(db, sql: """
                SELECT a.name AS alias, c.name AS collection FROM aliases a JOIN collections c ON c.id = a.collection_id
                """) {
                aliases[try row.decode(String.self, forColumn: "alias")] = try row.decode(String.self, forColumn: "collection")
            }
            return aliases
        }
    }
}
