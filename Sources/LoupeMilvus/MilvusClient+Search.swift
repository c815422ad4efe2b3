import Foundation
import GRPCCore
import LoupeStore

@available(LoupeMilvus 1.0, *)
extension MilvusClient {
    /// Searches `vectors` (one result list each) with LoupeStore's `SearchOptions`: limit, offset,
    /// filter, output fields, ef, range search and group-by (Milvus 2.4+). Partitions and filter
    /// template parameters are passed on as Milvus has them; `groupSize` other than 1 is refused
    /// (Milvus 2.5 has it, this protocol version does not).
    public func search(_ collection: String, vectors: [[Float]], options: SearchOptions = SearchOptions(),
                       consistency: MilvusConsistency = .strong) async throws -> [[SearchHit]] {
        try await connect()
        if options.groupByField != nil { try await require(.groupBySearch) }
        guard options.groupSize <= 1 else {
            throw MilvusError(.unsupportedFeature, "groups of more than one hit need Milvus 2.5's group_size",
                              operation: "Search", collection: collection, requiredVersion: "2.5.0")
        }
        guard options.filterParameters.isEmpty else {
            throw MilvusError(.unsupportedFeature, "filter template parameters need Milvus 2.4.14's expression templates",
                              operation: "Search", collection: collection, requiredVersion: "2.4.14")
        }
        var request = try await searchRequest(collection, vectors: vectors, field: options.annsField,
                                              limit: options.limit, filter: options.filter, ef: options.ef)
        request.outputFields = options.outputFields
        request.partitionNames = options.partitionNames
        if options.offset > 0 { request.searchParams.append(.init(key: "offset", value: String(options.offset))) }
        if let group = options.groupByField { request.searchParams.append(.init(key: "group_by_field", value: group)) }
        if options.radius != nil || options.rangeFilter != nil {
            var params: [String: FieldValue] = [:]
            if let ef = options.ef { params["ef"] = .int(Int64(ef)) }
            if let r = options.radius { params["radius"] = .double(Double(r)) }
            if let r = options.rangeFilter { params["range_filter"] = .double(Double(r)) }
            request.searchParams.removeAll { $0.key == "params" }
            request.searchParams.append(.init(key: "params", value: JSONText.encode(.object(params))))
        }
        request.setConsistency(consistencyParameters(consistency, collection: collection))
        let reply = try await unary("Search", collection: collection) { service, md, options in
            try await service.search(request, metadata: md, options: options)
        }
        return try hits(reply.results, wanted: options.outputFields, groupBy: options.groupByField,
                        operation: "Search", collection: collection)
    }

    /// Searches several vector fields at once and fuses the lists with `ranker` (Milvus 2.4+).
    /// Each leg's `limit` is how many hits it contributes; `limit` is the fused list's length.
    public func hybridSearch(_ collection: String, requests: [AnnSearchRequest], ranker: Ranker = .rrf(),
                             limit: Int = 10, offset: Int = 0, outputFields: [String] = [],
                             consistency: MilvusConsistency = .strong) async throws -> [[SearchHit]] {
        try await require(.hybridSearch)
        var request = Milvus_Proto_Milvus_HybridSearchRequest()
        request.collectionName = collection
        request.dbName = configuration.database ?? ""
        request.outputFields = outputFields
        for leg in requests {
            guard case .vectors(let vectors) = leg.payload else {
                throw MilvusError(.unsupportedFeature, "keyword (BM25) legs need Milvus 2.5's full-text search functions",
                                  operation: "HybridSearch", collection: collection, field: leg.field,
                                  requiredVersion: "2.5.0")
            }
            request.requests.append(try await searchRequest(collection, vectors: vectors, field: leg.field,
                                                            limit: leg.limit, filter: leg.filter, ef: leg.ef))
        }
        let strategy: (String, FieldValue)
        switch ranker {
        case .rrf(let k): strategy = ("rrf", ["k": .double(k)])
        case .weighted(let weights, let normalize):
            guard weights.count == requests.count else {
                throw MilvusError(.invalidArgument, "\(weights.count) weights for \(requests.count) legs",
                                  operation: "HybridSearch", collection: collection)
            }
            strategy = ("weighted", ["weights": .array(weights.map { .double($0) }), "norm_score": .bool(normalize)])
        }
        request.rankParams = [
            .init(key: "strategy", value: strategy.0),
            .init(key: "params", value: JSONText.encode(strategy.1)),
            .init(key: "limit", value: String(limit)),
            .init(key: "offset", value: String(offset)),
            .init(key: "round_decimal", value: "-1"),
        ]
        request.setConsistency(consistencyParameters(consistency, collection: collection))
        let reply = try await unary("HybridSearch", collection: collection) { service, md, options in
            try await service.hybridSearch(request, metadata: md, options: options)
        }
        return try hits(reply.results, wanted: outputFields, groupBy: nil, operation: "HybridSearch",
                        collection: collection)
    }

    /// A search request for one vector field: the placeholder group of query vectors, the filter, and
    /// Milvus's search parameters (`anns_field`, `topk`, `params` with `ef`).
    private func searchRequest(_ collection: String, vectors: [[Float]], field: String?, limit: Int,
                               filter: String, ef: Int?) async throws -> Milvus_Proto_Milvus_SearchRequest {
        func fail(_ message: String, field: String? = nil) -> MilvusError {
            MilvusError(.invalidArgument, message, operation: "Search", collection: collection, field: field)
        }
        guard !vectors.isEmpty else { throw fail("no query vectors") }
        guard limit >= 1 else { throw fail("limit must be at least 1, got \(limit)") }
        let schema = try await schema(of: collection)
        let vectorField: MilvusField
        if let field {
            guard let f = schema.field(field) else { throw fail("no such field", field: field) }
            guard f.type == .floatVector else { throw fail("not a float vector field", field: field) }
            vectorField = f
        } else {
            let candidates = schema.vectorFields
            guard candidates.count == 1, let only = candidates.first else {
                throw fail("the collection has \(candidates.count) vector fields; name one (annsField)")
            }
            vectorField = only
        }
        let dim = vectorField.dimension ?? vectors[0].count
        var value = Milvus_Proto_Common_PlaceholderValue()
        value.tag = "$0"
        value.type = .floatVector
        for (i, v) in vectors.enumerated() {
            guard v.count == dim else {
                throw fail("query vector \(i) has \(v.count) dimensions, the field has \(dim)", field: vectorField.name)
            }
            // Little-endian float32s, as Milvus reads them.
            value.values.append(v.withUnsafeBufferPointer { Data(buffer: $0) })
        }
        var group = Milvus_Proto_Common_PlaceholderGroup()
        group.placeholders = [value]
        var request = Milvus_Proto_Milvus_SearchRequest()
        request.collectionName = collection
        request.dbName = configuration.database ?? ""
        request.dsl = filter
        request.dslType = .boolExprV1
        request.placeholderGroup = try group.serializedBytes()
        request.nq = Int64(vectors.count)
        var params: [String: FieldValue] = [:]
        if let ef { params["ef"] = .int(Int64(ef)) }
        request.searchParams = [
            .init(key: "anns_field", value: vectorField.name),
            .init(key: "topk", value: String(limit)),
            .init(key: "round_decimal", value: "-1"),
            .init(key: "params", value: JSONText.encode(.object(params))),
        ]
        return request
    }

    /// Splits Milvus's flat result columns into one hit list per query (`topks` says how many each has).
    private func hits(_ data: Milvus_Proto_Schema_SearchResultData, wanted: [String], groupBy: String?,
                      operation: String, collection: String) throws -> [[SearchHit]] {
        do {
            let ids = FieldDataCodec.ids(data.ids)
            let rows = try FieldDataCodec.rows(from: data.fieldsData, count: ids.count, wanted: wanted)
            let groups = data.hasGroupByFieldValue ? try FieldDataCodec.values(of: data.groupByFieldValue) : []
            guard data.scores.count == ids.count else {
                throw MilvusError(.protocolError, "\(data.scores.count) scores for \(ids.count) hits")
            }
            var out: [[SearchHit]] = []
            var start = 0
            let topks = data.topks.isEmpty && data.numQueries == 1 ? [Int64(ids.count)] : data.topks
            for k in topks {
                let end = start + Int(k)
                guard end <= ids.count else {
                    throw MilvusError(.protocolError, "the server listed \(end) hits but sent \(ids.count)")
                }
                out.append((start..<end).map { i in
                    var fields = rows[i]
                    if let groupBy, i < groups.count, fields[groupBy] == nil { fields[groupBy] = groups[i] }
                    return SearchHit(id: ids[i], distance: data.scores[i], fields: fields)
                })
                start = end
            }
            return out
        } catch var error as MilvusError {
            error.operation = operation
            error.collection = collection
            error.server = configuration.address
            throw error
        }
    }
}
