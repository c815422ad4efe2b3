import Foundation
import GRPCCore
import LoupeMilvus
import LoupeStore
import SwiftProtobuf

/// Search and hybrid search. Parameters arrive as Milvus's key-value `search_params` (`topk`, `offset`,
/// `metric_type`, `anns_field`, `params` as JSON with `ef`, `radius`, `range_filter`, `group_by_field`,
/// `group_size`, `round_decimal`); vectors as a serialized `PlaceholderGroup` of little-endian float32s.
extension MilvusGRPCService {
    func search(request: Milvus_Proto_Milvus_SearchRequest, context: ServerContext) async throws
        -> Milvus_Proto_Milvus_SearchResults
    {
        await answer("Search") {
            try checkDatabase(request.dbName)
            let name = request.collectionName
            let schema = try await schema(name)
            let columns = MilvusGRPCColumns(schema: schema)
            let vectors = try Self.queryVectors(request.placeholderGroup)
            let params = Self.searchParameters(request.searchParams)
            var options = SearchOptions(limit: try params.int("topk") ?? 10, offset: try params.int("offset") ?? 0)
            try rules.checkSearchSize(vectors: vectors.count, limit: options.limit, offset: options.offset)
            options.annsField = try params.string("anns_field").flatMap { $0.isEmpty ? nil : $0 }
            try MilvusRoutes.checkMetric(try params.string("metric_type"), field: options.annsField, schema: schema)
            options.filter = request.dsl
            let fields = try columns.outputFields(request.outputFields, withPrimary: false)
            options.outputFields = columns.storeOutputFields(fields)
            options.partitionNames = request.partitionNames
            options.ef = try params.int("ef")
            options.radius = try params.double("radius").map { Float($0) }
            options.rangeFilter = try params.double("range_filter").map { Float($0) }
            if let group = try params.string("group_by_field"), !group.isEmpty {
                options.groupByField = group
                options.groupSize = max(try params.int("group_size") ?? 1, 1)
                if !options.outputFields.contains(group) && !options.outputFields.contains("*") { options.outputFields.append(group) }
            }
            let hits = try await store.search(name, vectors: vectors, options: options)
            var reply = Self.success(Milvus_Proto_Milvus_SearchResults.self)
            reply.collectionName = name
            reply.results = try Self.results(hits, columns: columns, fields: fields, limit: options.limit,
                                             groupBy: options.groupByField, roundDecimal: try params.int("round_decimal") ?? -1)
            return reply
        }
    }

    /// Several searches fused by a ranker (`rank_params`: `strategy` rrf with `k`, or weighted with
    /// `weights`), as the REST surface's hybrid search.
    func hybridSearch(request: Milvus_Proto_Milvus_HybridSearchRequest, context: ServerContext) async throws
        -> Milvus_Proto_Milvus_SearchResults
    {
        await answer("HybridSearch") {
            try checkDatabase(request.dbName)
            let name = request.collectionName
            let schema = try await schema(name)
            let columns = MilvusGRPCColumns(schema: schema)
            guard !request.requests.isEmpty else { throw MilvusError.missingParameter("requests") }
            let rank = Self.parameters(request.rankParams)
            let limit = try rank.int("limit") ?? 10
            let offset = try rank.int("offset") ?? 0
            var legs: [AnnSearchRequest] = []
            let legCount = request.requests.count
            for leg in request.requests {
                let params = Self.searchParameters(leg.searchParams)
                var field = try params.string("anns_field") ?? ""
                if field.isEmpty {
                    guard schema.vectorFields.count == 1 else {
                        throw MilvusError.invalidParameter("anns_field is required when the collection has several vector fields")
                    }
                    field = schema.vectorFields[0].name
                }
                try MilvusRoutes.checkMetric(try params.string("metric_type"), field: field, schema: schema)
                for unsupported in ["radius", "range_filter", "group_by_field"] where params.contains(unsupported) {
                    throw MilvusError.invalidParameter("\(unsupported) in a hybrid_search request is not supported by Loupe")
                }
                let vectors = try Self.queryVectors(leg.placeholderGroup)
                let request = AnnSearchRequest(vectors: vectors, field: field, limit: try params.int("topk") ?? limit,
                                               filter: leg.dsl, ef: try params.int("ef"))
                try rules.checkSearchSize(vectors: vectors.count * legCount, limit: max(request.limit, limit), offset: offset)
                legs.append(request)
            }
            var rerank = rank.members
            if case .string(let text)? = rank["params"] { rerank["params"] = Self.json(text) }
            let ranker = try MilvusRoutes.ranker(MilvusRequestBody(members: rerank))
            let fields = try columns.outputFields(request.outputFields, withPrimary: false)
            let fused = try await store.hybridSearch(name, requests: legs, ranker: ranker, limit: limit + offset,
                                                     outputFields: columns.storeOutputFields(fields),
                                                     partitionNames: request.partitionNames)
            var reply = Self.success(Milvus_Proto_Milvus_SearchResults.self)
            reply.collectionName = name
            reply.results = try Self.results(fused.map { Array($0.dropFirst(offset)) }, columns: columns, fields: fields,
                                             limit: limit, groupBy: nil, roundDecimal: try rank.int("round_decimal") ?? -1)
            return reply
        }
    }

    // MARK: Request parts

    /// `search_params` with the JSON `params` spread in (`params` wins for `ef`, `radius`, `range_filter`).
    static func searchParameters(_ pairs: [Milvus_Proto_Common_KeyValuePair]) -> MilvusRequestBody {
        var members = parameters(pairs).members
        if case .object(let nested)? = members["params"] {
            members.merge(nested) { _, inner in inner }
        }
        return MilvusRequestBody(members: members)
    }

    /// The query vectors of a serialized `PlaceholderGroup` (float vectors only).
    static func queryVectors(_ bytes: Data) throws(MilvusError) -> [[Float]] {
        let group: Milvus_Proto_Common_PlaceholderGroup
        do {
            group = try Milvus_Proto_Common_PlaceholderGroup(serializedBytes: bytes)
        } catch {
            throw .invalidParameter("the placeholder group of the search cannot be read")
        }
        guard let placeholder = group.placeholders.first, !placeholder.values.isEmpty else {
            throw .invalidParameter("the search has no query vectors (Loupe searches float vectors, not text or ids)")
        }
        guard placeholder.type == .floatVector else {
            throw .invalidParameter("query vectors of type \(placeholder.type) are not supported by Loupe (float vectors only)")
        }
        var vectors: [[Float]] = []
        vectors.reserveCapacity(placeholder.values.count)
        for value in placeholder.values {
            guard value.count % 4 == 0, !value.isEmpty else {
                throw .invalidParameter("a query vector of \(value.count) bytes is not a whole number of float32s")
            }
            let floats = value.withUnsafeBytes { raw in
                (0..<value.count / 4).map { Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * 4, as: UInt32.self))) }
            }
            vectors.append(floats)
        }
        return vectors
    }

    // MARK: Reply

    /// Milvus's `SearchResultData`: all queries' hits in one list, `topks` saying how many belong to each,
    /// output fields as columns aligned with the hits, and the primary key's name (field 13, which
    /// newer protos than the pinned one define and pymilvus reads).
    static func results(_ hits: [[SearchHit]], columns: MilvusGRPCColumns, fields: (declared: [String], dynamic: [String], all: Bool),
                        limit: Int, groupBy: String?, roundDecimal: Int) throws -> Milvus_Proto_Schema_SearchResultData
    {
        var data = Milvus_Proto_Schema_SearchResultData()
        data.numQueries = Int64(hits.count)
        data.topK = Int64(limit)
        data.topks = hits.map { Int64($0.count) }
        let flat = Array(hits.joined())
        data.ids = columns.ids(flat.map(\.id))
        data.scores = flat.map { hit in
            guard roundDecimal >= 0 else { return hit.distance }
            let scale = Float(pow(10, Double(min(roundDecimal, 6))))
            return (hit.distance * scale).rounded() / scale
        }
        let rows = flat.map(\.fields)
        data.fieldsData = try columns.columns(rows, fields: fields)
        data.outputFields = fields.declared + fields.dynamic + (fields.all ? [MilvusGRPCSchema.dynamicFieldName] : [])
        if let groupBy, let field = columns.schema.field(groupBy) {
            data.groupByFieldValue = try columns.column(field, rows.map { $0[groupBy] ?? .null })
        }
        return try MilvusGRPCWire.appending(data, field: MilvusGRPCWire.primaryFieldNameField,
                                           bytes: Array(columns.schema.primaryField.name.utf8))
    }
}
