import Foundation
import GRDB

extension LoupeClient {
    /// Inserts rows. Each needs every vector field and the primary key (unless auto id); missing scalar
    /// fields take their default or null; undeclared keys go to the dynamic field.
    /// - Returns: the primary keys written, including assigned auto ids.
    /// - Throws: `.alreadyExists` when a primary key is already present (use `upsert` to replace).
    @discardableResult
    public func insert(_ collectionName: String, _ rows: [Row], partition: String? = nil) throws -> MutationResult {
        try write(collectionName, rows, partition: partition, replacing: false)
    }

    /// Inserts rows, replacing any row with the same primary key.
    @discardableResult
    public func upsert(_ collectionName: String, _ rows: [Row], partition: String? = nil) throws -> MutationResult {
        try write(collectionName, rows, partition: partition, replacing: true)
    }

    /// Deletes the rows matching `expression` and inserts `rows`, in one transaction: a crash leaves either
    /// the old rows or the new ones, never neither. Returns how many rows went and the keys written.
    @discardableResult
    public func replace(_ collectionName: String, matching expression: FilterExpression, with rows: [Row],
                        partition: String? = nil) throws -> (deleted: Int, inserted: MutationResult) {
        try checkWritable()
        let c = try collection(collectionName)
        let allowed = try matchingSlots(c, filter: "", expression: expression, parameters: [:], partitions: [])
        let keys = (0..<c.slotCount).filter { allowed.contains($0) }.map { c.primaryKeys[$0] }
        let inserted = try write(collectionName, rows, partition: partition, replacing: false, deleting: keys)
        return (keys.count, inserted)
    }

    /// Deletes rows by primary key. Keys that are not present are ignored.
    @discardableResult
    public func delete(_ collectionName: String, ids: [FieldValue]) throws -> MutationResult {
        try checkWritable()
        let c = try collection(collectionName)
        let keys = try ids.map { try normalizedKey($0, c) }.filter { c.slotOfKey[$0] != nil }
        try deleteRows(c, keys: keys)
        return MutationResult(count: keys.count, ids: keys)
    }

    /// Deletes the rows matching a filter expression (`filter` text, `expression` built in code, or both).
    @discardableResult
    public func delete(_ collectionName: String, filter: String = "", parameters: [String: FieldValue] = [:],
                       expression: FilterExpression? = nil, partitionNames: [String] = []) throws -> MutationResult {
        try checkWritable()
        let c = try collection(collectionName)
        let allowed = try matchingSlots(c, filter: filter, expression: expression, parameters: parameters,
                                        partitions: partitionNames)
        let keys = (0..<c.slotCount).filter { allowed.contains($0) }.map { c.primaryKeys[$0] }
        try deleteRows(c, keys: keys)
        return MutationResult(count: keys.count, ids: keys)
    }

    /// Rows by primary key, in the order asked (missing keys are skipped).
    public func get(_ collectionName: String, ids: [FieldValue], outputFields: [String] = ["*"]) throws -> [Row] {
        let c = try collection(collectionName)
        try checkOutputFields(c, outputFields)
        return try ids.compactMap { id in
            guard let slot = c.slotOfKey[try normalizedKey(id, c)] else { return nil }
            return try project(c, slot: slot, outputFields: outputFields)
        }
    }

    /// Rows matching `filter` (and `expression`, a filter built in code) in insertion order, after skipping
    /// `offset`, at most `limit`. `outputFields: ["count(*)"]` returns one row holding the number of matches.
    public func query(_ collectionName: String, filter: String = "", expression: FilterExpression? = nil,
                      outputFields: [String] = ["*"], limit: Int? = nil, offset: Int = 0, partitionNames: [String] = [],
                      parameters: [String: FieldValue] = [:]) throws -> [Row] {
        let c = try collection(collectionName)
        guard offset >= 0, (limit ?? 0) >= 0 else {
            throw StoreError(.invalidArgument, "limit and offset must not be negative", collection: collectionName)
        }
        let allowed = try matchingSlots(c, filter: filter, expression: expression, parameters: parameters,
                                        partitions: partitionNames)
        if outputFields.map({ $0.lowercased().replacingOccurrences(of: " ", with: "") }) == ["count(*)"] {
            return [["count(*)": .int(Int64(allowed.population))]]
        }
        try checkOutputFields(c, outputFields)
        var out: [Row] = []
        var skipped = 0
        for slot in 0..<c.slotCount where allowed.contains(slot) {
            if skipped < offset { skipped += 1; continue }
            if let limit, out.count >= limit { break }
            out.append(try project(c, slot: slot, outputFields: outputFields))
        }
        return out
    }

    // MARK: - Internals

    func normalizedKey(_ id: FieldValue, _ c: CollectionState) throws -> FieldValue {
        let pk = c.schema.primaryField
        switch (pk.dataType, id) {
        case (.int64, .int): return id
        case (.string, .string): return id
        default:
            throw StoreError(.invalidArgument, "primary key \(id) is not \(pk.dataType.rawValue)", collection: c.name,
                             field: pk.name)
        }
    }

    /// Validates one row; returns its key, scalar/dynamic document and vectors.
    func prepare(_ row: Row, _ c: CollectionState, replacing: Bool) throws -> (key: FieldValue, doc: Row, vectors: [[Float]]) {
        let schema = c.schema
        let pk = schema.primaryField
        var doc: Row = [:]
        var vectors: [[Float]] = []
        var key: FieldValue
        if pk.autoID && !replacing {
            guard row[pk.name] == nil else {
                throw StoreError(.invalidArgument, "the primary key is assigned automatically; leave it out",
                                 collection: c.name, field: pk.name)
            }
            // String keys get the number's decimal text, as Milvus assigns VarChar auto ids.
            key = pk.dataType == .string ? .string(String(c.nextAutoID)) : .int(c.nextAutoID)
            c.nextAutoID += 1
        } else {
            guard let given = row[pk.name], !given.isNull else {
                throw StoreError(.invalidArgument, "row has no primary key", collection: c.name, field: pk.name)
            }
            key = try schema.normalize(given, for: FieldSchema(name: pk.name, dataType: pk.dataType, maxLength: pk.maxLength),
                                       collection: c.name)
            // An upserted id must never be handed out again by auto id.
            if pk.autoID, let id = key.intValue ?? key.stringValue.flatMap({ Int64($0) }), id >= c.nextAutoID {
                c.nextAutoID = id + 1
            }
        }
        doc[pk.name] = key
        for f in schema.fields where !f.isPrimary {
            let value = row[f.name] ?? .null
            if f.dataType.isVector {
                guard !value.isNull else {
                    if let source = f.source {
                        throw StoreError(.invalidArgument,
                                         "row \(key) has no vector; it is computed from '\(source.field)' by the \(source.embedder) embedder "
                                         + "only when rows are written through Loupe's tables (TableClient, /api/tables, loupe table)",
                                         collection: c.name, field: f.name)
                    }
                    throw StoreError(.invalidArgument, "row \(key) has no vector", collection: c.name, field: f.name)
                }
                guard case .vector(let v) = try schema.normalize(value, for: f, collection: c.name) else { continue }
                vectors.append(v)
            } else {
                doc[f.name] = try schema.normalize(value, for: f, collection: c.name)
            }
        }
        for (name, value) in row where schema.field(name) == nil {
            guard schema.enableDynamicField else {
                throw StoreError(.invalidArgument, "field is not in the schema and the dynamic field is off",
                                 collection: c.name, field: name)
            }
            if case .vector(let v) = value { doc[name] = .array(v.map { .double(Double($0)) }) } else { doc[name] = value }
        }
        return (key, doc, vectors)
    }

    /// Writes rows in one transaction, first deleting the rows with keys in `deleting` (and, when
    /// `replacing`, those the new rows replace).
    func write(_ collectionName: String, _ rows: [Row], partition: String?, replacing: Bool,
               deleting: [FieldValue] = []) throws -> MutationResult {
        try checkWritable()
        let c = try collection(collectionName)
        let partition = partition ?? "_default"
        guard c.partitions.contains(partition) else {
            throw StoreError(.notFound, "no partition '\(partition)'", collection: collectionName, partition: partition)
        }
        let autoIDBefore = c.nextAutoID
        var prepared: [(key: FieldValue, doc: Row, vectors: [[Float]])] = []
        prepared.reserveCapacity(rows.count)
        var seen = Set<FieldValue>()
        let doomed = Set(deleting)
        do {
            for row in rows {
                let p = try prepare(row, c, replacing: replacing)
                guard seen.insert(p.key).inserted else {
                    throw StoreError(.invalidArgument, "primary key \(p.key) appears twice in one call", collection: collectionName)
                }
                if !replacing, c.slotOfKey[p.key] != nil, !doomed.contains(p.key) {
                    throw StoreError(.alreadyExists, "primary key \(p.key) exists (use upsert to replace)", collection: collectionName)
                }
                prepared.append(p)
            }
        } catch {
            c.nextAutoID = autoIDBefore
            throw error
        }
        let keywordFields = c.schema.fields.filter(\.enableKeywordSearch)
        let vectorCount = c.schema.vectorFields.count
        let table = SQLiteStore.rowsTable(c.id)
        var replaced = deleting
        if replacing { replaced += prepared.map(\.key).filter { c.slotOfKey[$0] != nil && !doomed.contains($0) } }
        var rids: [Int64] = []
        do {
            rids = try sqlite.write { db in
                try deleteStatements(c, keys: replaced, db: db)
                let columns = ["pk", "partition", "doc"] + (0..<vectorCount).map { "v\($0)" }
                let insert = try db.makeStatement(
                    sql: "INSERT INTO \(table) (\(columns.joined(separator: ", "))) VALUES (\(columns.map { _ in "?" }.joined(separator: ", ")))")
                let keywordInserts = try keywordFields.map {
                    try db.makeStatement(sql: "INSERT INTO \(SQLiteStore.keywordTable(c.id, field: $0.name)) (rowid, body) VALUES (?, ?)")
                }
                var out: [Int64] = []
                out.reserveCapacity(prepared.count)
                for p in prepared {
                    var arguments: [(any DatabaseValueConvertible)?] = [
                        p.key.intValue.map { $0 as any DatabaseValueConvertible } ?? p.key.stringValue, partition,
                        JSONText.encode(.object(p.doc)),
                    ]
                    for v in p.vectors { arguments.append(v.withUnsafeBytes { Data($0) }) }
                    try insert.execute(arguments: StatementArguments(arguments))
                    let rid = db.lastInsertedRowID
                    out.append(rid)
                    for (i, f) in keywordFields.enumerated() {
                        if case .string(let text) = p.doc[f.name] ?? .null {
                            try keywordInserts[i].execute(arguments: [rid, text])
                        }
                    }
                }
                try db.execute(sql: "UPDATE collections SET change_seq = change_seq + 1, next_auto_id = ? WHERE id = ?",
                               arguments: [c.nextAutoID, c.id])
                return out
            }
        } catch {
            c.nextAutoID = autoIDBefore
            throw error
        }
        for key in replaced { c.remove(key: key) }
        for (p, rid) in zip(prepared, rids) {
            c.append(rid: rid, key: p.key, partition: partition, document: p.doc, vectors: p.vectors)
        }
        c.changeSeq += 1
        // Grow the graphs while rows arrive (in the background), so a long ingest does not end with one
        // long build, and searches meanwhile scan few pending rows.
        if configuration.backgroundIndexing {
            for field in c.graphs.indices { prepareIndex(c, field: field) }
        }
        return MutationResult(count: prepared.count, ids: prepared.map(\.key))
    }

    func deleteStatements(_ c: CollectionState, keys: [FieldValue], db: Database) throws {
        guard !keys.isEmpty else { return }
        let delete = try db.makeStatement(sql: "DELETE FROM \(SQLiteStore.rowsTable(c.id)) WHERE rid = ?")
        let keywordDeletes = try c.schema.fields.filter(\.enableKeywordSearch).map {
            try db.makeStatement(sql: "DELETE FROM \(SQLiteStore.keywordTable(c.id, field: $0.name)) WHERE rowid = ?")
        }
        for key in keys {
            guard let slot = c.slotOfKey[key] else { continue }
            try delete.execute(arguments: [c.rids[slot]])
            for k in keywordDeletes { try k.execute(arguments: [c.rids[slot]]) }
        }
    }

    /// Deletes rows in one transaction (plus `extra` statements), then marks them dead in memory.
    func deleteRows(_ c: CollectionState, keys: [FieldValue], extra: ((Database) throws -> Void)? = nil) throws {
        guard !keys.isEmpty || extra != nil else { return }
        try sqlite.write { db in
            try deleteStatements(c, keys: keys, db: db)
            try extra?(db)
            try db.execute(sql: "UPDATE collections SET change_seq = change_seq + 1 WHERE id = ?", arguments: [c.id])
        }
        for key in keys { c.remove(key: key) }
        c.changeSeq += 1
    }

    /// Parses a filter and checks that it names only known fields (or the dynamic field is on).
    func compileFilter(_ c: CollectionState, _ text: String, parameters: [String: FieldValue]) throws -> FilterExpression? {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        guard !trimmed.isEmpty else { return nil }
        let expression = try FilterExpression.parse(text, parameters: parameters)
        try checkFilterFields(c, expression, text: text)
        return expression
    }

    /// Checks that a filter names only known fields (or the dynamic field is on), and no vector field.
    func checkFilterFields(_ c: CollectionState, _ expression: FilterExpression, text: String) throws {
        if !c.schema.enableDynamicField {
            for name in expression.fieldNames where c.schema.field(name) == nil {
                throw StoreError(.invalidFilter, "unknown field '\(name)' (the dynamic field is off)", collection: c.name,
                                 field: name, expression: text)
            }
        }
        for name in expression.fieldNames {
            if let f = c.schema.field(name), f.dataType.isVector {
                throw StoreError(.invalidFilter, "vector fields cannot be filtered", collection: c.name, field: name,
                                 expression: text)
            }
        }
    }

    /// Live slots in the given partitions (all when empty) that match the filter text and the expression
    /// built in code (both, when both are given), cached per change.
    func matchingSlots(_ c: CollectionState, filter: String, expression built: FilterExpression? = nil,
                       parameters: [String: FieldValue], partitions: [String]) throws -> LabelBitset {
        for p in partitions where !c.partitions.contains(p) {
            throw StoreError(.notFound, "no partition '\(p)'", collection: c.name, partition: p)
        }
        let cacheKey = parameters.isEmpty ? MaskKey(filter: filter, expression: built, partitions: partitions.sorted()) : nil
        if c.bitsetCacheSeq != c.changeSeq {
            c.bitsetCache.removeAll()
            c.bitsetCacheSeq = c.changeSeq
        }
        if let cacheKey, let cached = c.bitsetCache[cacheKey] { return cached }
        var expression = try compileFilter(c, filter, parameters: parameters)
        if let built {
            try checkFilterFields(c, built, text: built.description)
            expression = expression.map { .and($0, built) } ?? built
        }
        let partitionSet = Set(partitions)
        // Only the fields the filter reads are taken from each document (all of them for `$meta`).
        let names = expression.flatMap { $0.fieldNames.contains("$meta") ? nil : DocumentCodec.Selection($0.fieldNames) }
        let bitset = LabelBitset(count: c.slotCount) { slot in
            guard c.live[slot] else { return false }
            if !partitionSet.isEmpty && !partitionSet.contains(c.partitionOf[slot]) { return false }
            return expression?.matches(c.documents.fields(names, of: slot)) ?? true
        }
        if let cacheKey {
            if c.bitsetCache.count >= 16 { c.bitsetCache.removeAll() }
            c.bitsetCache[cacheKey] = bitset
        }
        return bitset
    }

    func checkOutputFields(_ c: CollectionState, _ fields: [String]) throws {
        guard !c.schema.enableDynamicField else { return }
        for f in fields where f != "*" && c.schema.field(f) == nil {
            throw StoreError(.invalidArgument, "no output field '\(f)'", collection: c.name, field: f)
        }
    }

    /// The requested fields of one row: `*` means every scalar and dynamic field; vector fields only by name.
    func project(_ c: CollectionState, slot: Int, outputFields: [String]) throws -> Row {
        let doc = c.documents[slot]
        let pk = c.schema.primaryField.name
        var out: Row = [pk: c.primaryKeys[slot]]
        for name in outputFields {
            if name == "*" {
                out.merge(doc) { a, _ in a }
            } else if let f = c.schema.field(name), f.dataType.isVector {
                let i = try c.vectorFieldIndex(name)
                let data = try sqlite.read { db in
                    try Data.fetchOne(db, sql: "SELECT v\(i) FROM \(SQLiteStore.rowsTable(c.id)) WHERE rid = ?",
                                      arguments: [c.rids[slot]])
                }
                if let data { out[name] = .vector(data.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }) }
            } else if let v = doc[name] {
                out[name] = v
            }
        }
        return out
    }
}
