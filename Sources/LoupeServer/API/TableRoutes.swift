import Foundation
import HTTPTypes
import Hummingbird
import Loupe
import LoupeStore
import NIOCore

/// `/api/tables/...`: the user's own tables whose sourced vectors fill themselves (see `TableClient`),
/// with the operations of `loupe table`.
///
/// - `GET /api/tables`: `{"tables": [names]}`
/// - `POST /api/tables`: `{"name", "primary": "id:int64", "fields": ["image_uri:string"], "vectors": ["image_vec:image_uri"], "dynamic": false}`
/// - `GET /api/tables/{name}`: the fields with their sources, and the row count
/// - `DELETE /api/tables/{name}`
/// - `POST /api/tables/{name}/insert` and `.../upsert`: `{"rows": [...]}`; a row whose source cannot be
///   read fails the call (400 `unreadable_source`, every bad row named) and nothing is written
/// - `POST /api/tables/{name}/search`: `{"query", "kind": "auto", "field", "k", "offset", "filter", "output_fields"}`;
///   results are rows with `_score`
struct TableRoutes {
    let tables: TableClient
    let maxBodyBytes: Int
    /// The library's own collection, which table calls may not drop or write.
    let libraryCollection: String

    func register(on router: Router<LoupeRequestContext>) {
        let api = router.group("api/tables")
        api.get { _, _ in try JSONBody.response(["tables": await tables.listTables().filter { $0 != libraryCollection }]) }
        api.post { request, _ in try await create(request) }
        api.get(":name") { _, context in try await describe(try name(context)) }
        api.delete(":name") { _, context in
            let table = try name(context)
            try await tables.dropTable(table)
            return try JSONBody.response(["dropped": table])
        }
        api.post(":name/insert") { request, context in try await write(request, table: try name(context), replacing: false) }
        api.post(":name/upsert") { request, context in try await write(request, table: try name(context), replacing: true) }
        api.post(":name/search") { request, context in try await search(request, table: try name(context)) }
    }

    private func name(_ context: LoupeRequestContext) throws -> String {
        let name = try context.parameters.require("name")
        guard name != libraryCollection else {
            throw APIError(.forbidden, "library_collection", "'\(name)' is the library's own collection, not a table")
        }
        return name
    }

    /// The request body as a JSON object.
    private func body(_ request: Request) async throws -> [String: FieldValue] {
        let data = try await APIRoutes.collect(request, limit: maxBodyBytes, what: "request body")
        guard case .object(let object)? = try? JSONText.decode(String(decoding: data, as: UTF8.self)) else {
            throw APIError.badRequest("the request body must be a JSON object")
        }
        return object
    }

    private static func strings(_ value: FieldValue?, _ key: String) throws -> [String] {
        guard let value, !value.isNull else { return [] }
        guard case .array(let items) = value, let strings = Optional(items.compactMap(\.stringValue)), strings.count == items.count else {
            throw APIError.badRequest("'\(key)' must be a list of strings")
        }
        return strings
    }

    private func create(_ request: Request) async throws -> Response {
        let object = try await body(request)
        guard let name = object["name"]?.stringValue, !name.isEmpty else { throw APIError.badRequest("'name' is required") }
        guard name != libraryCollection else { throw APIError(.conflict, "already_exists", "'\(name)' is the library's collection") }
        let schema = try TableSchemaSpec.schema(primary: object["primary"]?.stringValue ?? "id:int64",
                                                fields: try Self.strings(object["fields"], "fields"),
                                                vectors: try Self.strings(object["vectors"], "vectors"),
                                                dynamic: object["dynamic"]?.boolValue ?? false)
        try await tables.createTable(name, schema: schema)
        var response = try await describe(name)
        response.status = .created
        return response
    }

    private func describe(_ name: String) async throws -> Response {
        let description = try await tables.describeTable(name)
        let fields: [FieldValue] = description.schema.fields.map { f in
            var out: Row = ["name": .string(f.name), "type": .string(f.dataType.rawValue), "primary": .bool(f.isPrimary),
                            "auto_id": .bool(f.autoID), "nullable": .bool(f.nullable)]
            if let dimension = f.dimension { out["dimension"] = .int(Int64(dimension)) }
            if let metric = f.metric { out["metric"] = .string(metric.rawValue) }
            if let source = f.source {
                var s: Row = ["field": .string(source.field), "kind": .string(source.kind.rawValue), "embedder": .string(source.embedder)]
                if let model = source.model { s["model"] = .string(model) }
                out["source"] = .object(s)
            }
            return .object(out)
        }
        let rows = try await tables.collection(name).count()
        return Self.json(["name": .string(name), "fields": .array(fields), "rows": .int(Int64(rows)),
                          "dynamic": .bool(description.schema.enableDynamicField)])
    }

    private func write(_ request: Request, table: String, replacing: Bool) async throws -> Response {
        let object = try await body(request)
        guard case .array(let items)? = object["rows"] else { throw APIError.badRequest("'rows' must be a list of objects") }
        var rows: [Row] = []
        for (index, item) in items.enumerated() {
            guard case .object(let row) = item else { throw APIError.badRequest("rows[\(index)] is not an object") }
            rows.append(row)
        }
        let result: MutationResult
        do {
            result = replacing ? try await tables.collection(table).upsert(rows) : try await tables.collection(table).insert(rows)
        } catch let error as RowSourceError {
            throw APIError(.badRequest, "unreadable_source", error.description)
        }
        return Self.json(["count": .int(Int64(result.count)), "ids": .array(result.ids)])
    }

    private func search(_ request: Request, table: String) async throws -> Response {
        let object = try await body(request)
        guard let text = object["query"]?.stringValue else { throw APIError.badRequest("'query' (a string) is required") }
        let query = try TableQuery.parse(text, kind: object["kind"]?.stringValue ?? "auto", files: tables.configuration.readsFiles)
        var options = TableSearchOptions(field: object["field"]?.stringValue, limit: Int(object["k"]?.intValue ?? 10),
                                         offset: Int(object["offset"]?.intValue ?? 0), filter: object["filter"]?.stringValue ?? "")
        if object["output_fields"] != nil { options.outputFields = try Self.strings(object["output_fields"], "output_fields") }
        guard (1...16_384).contains(options.limit), (0...16_384).contains(options.offset) else {
            throw APIError.badRequest("k must be within 1...16384 and offset within 0...16384")
        }
        let table = tables.collection(table)
        let primary = try await tables.describeTable(table.name).schema.primaryField.name
        let hits = try await table.search(query, options: options)
        return Self.json(["results": .array(hits.map { .object($0.row(primaryKey: primary)) }), "kind": .string(query.kind)])
    }

    private static func json(_ object: Row) -> Response {
        Response(status: .ok, headers: [.contentType: "application/json; charset=utf-8"],
                 body: .init(byteBuffer: ByteBuffer(string: JSONText.encode(.object(object)))))
    }
}
