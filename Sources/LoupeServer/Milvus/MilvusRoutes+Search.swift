import Hummingbird
import Loupe
import LoupeStore

/// `/v2/vectordb/entities/{search, hybrid_search}`.
///
/// Results are one flat list of `{"id", "distance", ...outputFields}` for all query vectors, as in
/// Milvus; `topks` (as newer Milvus versions send it) says how many of them belong to each query.
extension MilvusRoutes {
    func search(_ call: Call) async throws -> Response {
        let body = call.body
        let name = try body.requiredString("collectionName")
        let rows = try await rows(name, call)
        var options = SearchOptions(limit: try body.int("limit") ?? 100, offset: try body.int("offset") ?? 0)
        options.annsField = try body.string("annsField").flatMap { $0.isEmpty ? nil : $0 }
        try checkSearchSize(vectors: try body.array("data")?.count ?? 0, limit: options.limit, offset: options.offset)
        if let keyword = Self.keywordField(options.annsField, schema: rows.schema) {
            return try await keywordSearch(body, collection: name, field: keyword, options: options, rows: rows)
        }
        let vectors = try await queryVectors(body, collection: name, field: options.annsField, schema: rows.schema)
        options.filter = try body.string("filter") ?? ""
        options.filterParameters = try body.filterParameters("exprParams")
        options.outputFields = rows.outputFields(try body.strings("outputFields") ?? [])
        options.partitionNames = try body.strings("partitionNames") ?? []
        let searchParams = try body.object("searchParams") ?? MilvusRequestBody(members: [:])
        try Self.checkMetric(try searchParams.string("metricType"), field: options.annsField, schema: rows.schema)
        // `params` at the top level is what Milvus read before `searchParams` existed.
        let legacyParams = try body.object("params")
        let params = try searchParams.object("params") ?? legacyParams ?? MilvusRequestBody(members: [:])
        options.ef = try params.int("ef")
        options.radius = try params.double("radius").map { Float($0) }
        options.rangeFilter = try params.double("range_filter").map { Float($0) }
        if let group = try body.string("groupingField"), !group.isEmpty {
            options.groupByField = group
            options.groupSize = max(try body.int("groupSize") ?? 1, 1)
        }
        let hits = try await store.search(name, vectors: vectors, options: options)
        return Self.results(hits, rows: rows)
    }

    /// Several searches fused by `rerank` (`rrf` with `k`, or `weighted` with `weights`).
    func hybridSearch(_ call: Call) async throws -> Response {
        let body = call.body
        let name = try body.requiredString("collectionName")
        let rows = try await rows(name, call)
        guard let legs = try body.array("search"), !legs.isEmpty else { throw MilvusError.missingParameter("search") }
        let limit = try body.int("limit") ?? 100
        let offset = try body.int("offset") ?? 0
        if let group = try body.string("groupingField"), !group.isEmpty {
            throw MilvusError.invalidParameter("groupingField in hybrid_search is not supported by Loupe")
        }
        var requests: [AnnSearchRequest] = []
        for leg in legs {
            guard case .object(let members) = leg else {
                throw MilvusError.incorrectFormat("search must hold objects, not \(leg.typeName)")
            }
            let request = try Self.annRequest(MilvusRequestBody(members: members), limit: limit, schema: rows.schema)
            try checkSearchSize(vectors: request.queryCount * legs.count, limit: max(request.limit, limit), offset: offset)
            requests.append(request)
        }
        guard let rerank = try body.object("rerank") else { throw MilvusError.missingParameter("rerank") }
        let ranker = try Self.ranker(rerank)
        let fused = try await store.hybridSearch(name, requests: requests, ranker: ranker, limit: limit + offset,
                                                 outputFields: rows.outputFields(try body.strings("outputFields") ?? []),
                                                 partitionNames: try body.strings("partitionNames") ?? [])
        return Self.results(fused.map { Array($0.dropFirst(offset)) }, rows: rows)
    }

    /// A search of a BM25 output: each text in `data` ranks rows by BM25 over the function's input field.
    func keywordSearch(_ body: MilvusRequestBody, collection: String, field: FieldSchema, options: SearchOptions,
                       rows: MilvusRows) async throws -> Response {
        let texts = try Self.texts(body, field: options.annsField ?? field.keywordOutput!.field)
        for unsupported in ["groupingField", "exprParams"] where body.contains(unsupported) {
            throw MilvusError.invalidParameter("\(unsupported) in a search of a BM25 output is not supported by Loupe")
        }
        let params = try body.object("searchParams")?.object("params") ?? MilvusRequestBody(members: [:])
        for unsupported in ["radius", "range_filter"] where params.contains(unsupported) {
            throw MilvusError.invalidParameter("\(unsupported) in a search of a BM25 output is not supported by Loupe")
        }
        let metric = try body.object("searchParams")?.string("metricType")
        if let metric, !metric.isEmpty, metric.uppercased() != "BM25" {
            throw MilvusError(code: 1100, "metric type not match: invalid parameter[expected=BM25][actual=\(metric)]")
        }
        let filter = try body.string("filter") ?? ""
        let outputFields = rows.outputFields(try body.strings("outputFields") ?? [])
        let partitions = try body.strings("partitionNames") ?? []
        var hits: [[SearchHit]] = []
        for text in texts {
            let found = try await store.keywordSearch(collection, field: field.name, text: text, limit: options.limit + options.offset,
                                                      filter: filter, partitionNames: partitions, outputFields: outputFields)
            hits.append(Array(found.dropFirst(options.offset)))
        }
        return Self.results(hits, rows: rows)
    }

    /// The keyword-searchable field behind a search's `annsField` when it names a BM25 output (or, with no
    /// `annsField`, when the collection's only searchable field is one).
    static func keywordField(_ annsField: String?, schema: CollectionSchema) -> FieldSchema? {
        if let annsField { return schema.keywordField(output: annsField) }
        let outputs = schema.fields.filter { $0.keywordOutput != nil }
        return schema.vectorFields.isEmpty && outputs.count == 1 ? outputs[0] : nil
    }

    /// `data` of a BM25 search: texts.
    static func texts(_ body: MilvusRequestBody, field: String) throws(MilvusError) -> [String] {
        guard let data = try body.array("data"), !data.isEmpty else { throw .missingParameter("data") }
        return try data.map { item throws(MilvusError) in
            guard case .string(let text) = item else {
                throw .incorrectFormat("data must hold texts to search the BM25 output '\(field)', not \(item.typeName)")
            }
            return text
        }
    }

    // MARK: Request parts

    /// `data` of a search: float vectors, or for a function field texts (and, for a picture function,
    /// http(s) URLs or `data:` URIs of pictures) that the field's embedder turns into vectors.
    func queryVectors(_ body: MilvusRequestBody, collection: String, field: String?, schema: CollectionSchema) async throws
        -> [[Float]]
    {
        guard let data = try body.array("data"), !data.isEmpty else { throw MilvusError.missingParameter("data") }
        guard data.contains(where: { if case .string = $0 { return true } else { return false } }) else {
            return try Self.queryVectors(body)
        }
        let vectorField = field.flatMap { schema.field($0) } ?? (schema.vectorFields.count == 1 ? schema.vectorFields[0] : nil)
        guard let vectorField, let source = vectorField.source else {
            throw MilvusError.incorrectFormat(vectorField == nil
                ? "annsField is required to search with text when the collection has several vector fields"
                : "data must be a list of float vectors: '\(vectorField!.name)' has no function that embeds text")
        }
        let tables = try sourcedTables(collection)
        let table = tables.collection(collection)
        var vectors: [[Float]] = []
        for item in data {
            if let vector = item.floatVector { vectors.append(vector); continue }
            guard case .string(let text) = item else {
                throw MilvusError.incorrectFormat("data must hold texts or float vectors, not \(item.typeName)")
            }
            let query: TableQuery = source.kind == .text ? .text(text) : .guess(text, files: tables.configuration.readsFiles)
            vectors.append(try await table.queryVector(query, field: vectorField))
        }
        return vectors
    }

    /// `data`: a list of float vectors.
    static func queryVectors(_ body: MilvusRequestBody) throws(MilvusError) -> [[Float]] {
        guard let data = try body.array("data"), !data.isEmpty else { throw .missingParameter("data") }
        var vectors: [[Float]] = []
        for item in data {
            guard let vector = item.floatVector else {
                throw .incorrectFormat("data must be a list of float vectors; Loupe does not embed text or bytes here")
            }
            vectors.append(vector)
        }
        return vectors
    }

    /// A `metricType` given with a search must be the field's own, as in Milvus.
    static func checkMetric(_ name: String?, field: String?, schema: CollectionSchema) throws(MilvusError) {
        guard let name, !name.isEmpty else { return }
        let vectorField = field.flatMap { schema.field($0) } ?? (schema.vectorFields.count == 1 ? schema.vectorFields[0] : nil)
        guard let metric = vectorField?.metric, metric.rawValue != name.uppercased() else { return }
        throw MilvusError(code: 1100, "metric type not match: invalid parameter[expected=\(metric.rawValue)][actual=\(name)]")
    }

    /// One leg of a hybrid search. Range search, grouping and filter templates are per-search
    /// features LoupeStore's hybrid legs do not carry; they are refused rather than ignored.
    static func annRequest(_ leg: MilvusRequestBody, limit: Int, schema: CollectionSchema) throws(MilvusError)
        -> AnnSearchRequest
    {
        var field = try leg.string("annsField") ?? ""
        if let keyword = keywordField(field.isEmpty ? nil : field, schema: schema) {
            let metric = try leg.string("metricType")
            if let metric, !metric.isEmpty, metric.uppercased() != "BM25" {
                throw MilvusError(code: 1100, "metric type not match: invalid parameter[expected=BM25][actual=\(metric)]")
            }
            return AnnSearchRequest(text: try texts(leg, field: keyword.keywordOutput!.field), field: keyword.name,
                                    limit: try leg.int("limit") ?? limit, filter: try leg.string("filter") ?? "")
        }
        if field.isEmpty {
            guard schema.vectorFields.count == 1 else {
                throw .invalidParameter("annsField is required when the collection has several vector fields")
            }
            field = schema.vectorFields[0].name
        }
        try checkMetric(try leg.string("metricType"), field: field, schema: schema)
        let params = try leg.object("params") ?? MilvusRequestBody(members: [:])
        for unsupported in ["radius", "range_filter"] where params.contains(unsupported) {
            throw .invalidParameter("\(unsupported) in a hybrid_search leg is not supported by Loupe")
        }
        for unsupported in ["groupingField", "exprParams"] where leg.contains(unsupported) {
            throw .invalidParameter("\(unsupported) in a hybrid_search leg is not supported by Loupe")
        }
        return AnnSearchRequest(vectors: try queryVectors(leg), field: field, limit: try leg.int("limit") ?? limit,
                                filter: try leg.string("filter") ?? "", ef: try params.int("ef"))
    }

    static func ranker(_ rerank: MilvusRequestBody) throws(MilvusError) -> Ranker {
        let params = try rerank.object("params") ?? MilvusRequestBody(members: [:])
        switch try rerank.string("strategy")?.lowercased() ?? "" {
        case "rrf":
            let k = try params.double("k") ?? 60
            guard k > 0, k < 16384 else { throw .invalidParameter("rrf k must be in (0, 16384), got \(k)") }
            return .rrf(k: k)
        case "weighted":
            guard let weights = try params.array("weights"), !weights.isEmpty else {
                throw .missingParameter("rerank.params.weights")
            }
            var values: [Double] = []
            for w in weights {
                guard let d = w.doubleValue, (0...1).contains(d) else {
                    throw .invalidParameter("rank param weight should be in range [0, 1]")
                }
                values.append(d)
            }
            return .weighted(values, normalizeScores: try params.bool("norm_score") ?? true)
        case let other:
            throw .invalidParameter("unsupported rerank strategy '\(other)': use rrf or weighted")
        }
    }

    // MARK: Response

    static func results(_ hits: [[SearchHit]], rows: MilvusRows) -> Response {
        var data: [[String: Any]] = []
        for hit in hits.joined() {
            var row = rows.json(hit.fields)
            row["id"] = rows.json(key: hit.id)
            row["distance"] = MilvusRows.shortest(hit.distance)
            data.append(row)
        }
        return MilvusReply.success(data, extra: ["topks": hits.map(\.count)])
    }
}
