import Hummingbird
import LoupeStore

/// `/v2/vectordb/entities/{insert, upsert, delete, get, query}`.
extension MilvusRoutes {
    /// Milvus's cap on offset + limit for one query or search.
    static let maxResultWindow = 16384

    /// Inserts or upserts `data`; answers the count and the primary keys (assigned ones for auto id).
    func write(_ call: Call, replacing: Bool) async throws -> Response {
        let name = try call.body.requiredString("collectionName")
        // The library's rows are the indexer's: a client's row would be a picture with no file behind it.
        try await checkNotProtected(name, action: replacing ? "upsert into" : "insert into")
        let rows = try await rows(name, call)
        let data = try rows.rows(call.body["data"])
        for field in rows.schema.fields {
            guard let output = field.keywordOutput else { continue }
            if let row = data.firstIndex(where: { $0[output.field] != nil }) {
                throw MilvusError.invalidInsertData("row \(row): '\(output.field)' is the output of the BM25 function '\(output.function)'; "
                                                    + "Loupe computes it from '\(field.name)', so leave it out")
            }
        }
        let partition = try call.body.string("partitionName").flatMap { $0.isEmpty ? nil : $0 }
        let result: MutationResult
        if !rows.schema.sourcedVectorFields.isEmpty {
            // Function outputs left out are computed from their input fields (all rows, or none, are written).
            let table = try sourcedTables(name).collection(name)
            result = replacing ? try await table.upsert(data, partition: partition) : try await table.insert(data, partition: partition)
        } else {
            result = replacing ? try await store.upsert(name, data, partition: partition)
                : try await store.insert(name, data, partition: partition)
        }
        let ids = result.ids.map { rows.json(key: $0) }
        return MilvusReply.success(replacing ? ["upsertCount": result.count, "upsertIds": ids]
            : ["insertCount": result.count, "insertIds": ids])
    }

    /// Deletes by `filter` (with `exprParams`), or by primary key (`id`) when there is no filter.
    func delete(_ call: Call) async throws -> Response {
        let name = try call.body.requiredString("collectionName")
        try await checkNotProtected(name, action: "delete from")
        let rows = try await rows(name, call)
        let filter = try call.body.string("filter") ?? ""
        let result: MutationResult
        if !filter.trimmingCharacters(in: .whitespaces).isEmpty {
            let partition = try call.body.string("partitionName").flatMap { $0.isEmpty ? nil : $0 }
            result = try await store.delete(name, filter: filter, parameters: try call.body.filterParameters("exprParams"),
                                            partitionNames: partition.map { [$0] } ?? [])
        } else if let id = call.body["id"] {
            result = try await store.delete(name, ids: try rows.primaryKeys(id))
        } else {
            throw MilvusError.missingParameter("filter")
        }
        return MilvusReply.success(["deleteCount": result.count])
    }

    /// Rows by primary key (`id`: one key or a list).
    func get(_ call: Call) async throws -> Response {
        let name = try call.body.requiredString("collectionName")
        let rows = try await rows(name, call)
        guard let id = call.body["id"] else { throw MilvusError.missingParameter("id") }
        let keys = try rows.primaryKeys(id)
        let output = rows.outputFields(try call.body.strings("outputFields") ?? ["*"])
        let partitions = try call.body.strings("partitionNames") ?? []
        let found: [Row]
        if partitions.isEmpty {
            found = try await store.get(name, ids: keys, outputFields: output)
        } else {
            // Milvus answers get as a query `pk in [...]`, which is how partitions apply to it.
            found = try await store.query(name, filter: "\(rows.schema.primaryField.name) in {ids}", outputFields: output,
                                          partitionNames: partitions, parameters: ["ids": .array(keys)])
        }
        return MilvusReply.success(found.map(rows.json))
    }

    /// Rows matching `filter`, with Milvus's defaults: every field, at most 100 rows.
    func query(_ call: Call) async throws -> Response {
        let name = try call.body.requiredString("collectionName")
        let rows = try await rows(name, call)
        let output = rows.outputFields(try call.body.strings("outputFields") ?? ["*"])
        let limit = try call.body.int("limit") ?? 100
        let offset = try call.body.int("offset") ?? 0
        guard limit >= 0, offset >= 0, limit + offset <= Self.maxResultWindow else {
            throw MilvusError.invalidParameter(
                "invalid max query result window, (offset+limit) should be in range [1, \(Self.maxResultWindow)], but got \(offset + limit)")
        }
        let found = try await store.query(name, filter: try call.body.string("filter") ?? "", outputFields: output,
                                          limit: limit > 0 ? limit : nil, offset: offset,
                                          partitionNames: try call.body.strings("partitionNames") ?? [],
                                          parameters: try call.body.filterParameters("exprParams"))
        return MilvusReply.success(found.map(rows.json))
    }
}
