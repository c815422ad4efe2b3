import LoupeStore

extension MilvusSchema {
    /// The `collections/describe` data: Milvus's keys, filled with what LoupeStore knows. Field ids
    /// count from 100 as Milvus's do; every vector field has an index named after the field.
    static func describe(_ description: CollectionDescription) -> [String: Any] {
        let schema = description.schema
        var fields: [[String: Any]] = []
        for f in schema.fields {
            let offset = fields.count
            var out: [String: Any] = [
                "name": f.name, "id": 100 + offset, "type": typeName(f.dataType), "description": "",
                "primaryKey": f.isPrimary, "autoId": f.autoID, "partitionKey": false, "clusteringKey": false,
                "nullable": f.nullable,
            ]
            var params: [[String: String]] = []
            if let dim = f.dimension { params.append(["key": "dim", "value": String(dim)]) }
            if let length = f.maxLength { params.append(["key": "max_length", "value": String(length)]) }
            if let capacity = f.maxCapacity { params.append(["key": "max_capacity", "value": String(capacity)]) }
            if f.enableKeywordSearch { params.append(["key": "enable_analyzer", "value": "true"]) }
            if !params.isEmpty { out["params"] = params }
            if let element = f.elementType { out["elementType"] = typeName(element) }
            fields.append(out)
            // A BM25 output follows its input field, where a schema declares it.
            if let output = f.keywordOutput {
                fields.append([
                    "name": output.field, "id": 100 + fields.count, "type": "SparseFloatVector", "description": "",
                    "primaryKey": false, "autoId": false, "partitionKey": false, "clusteringKey": false,
                    "nullable": false, "isFunctionOutput": true,
                ])
            }
        }
        let indexes: [[String: Any]] = schema.vectorFields.map { f in
            ["fieldName": f.name, "indexName": f.name, "metricType": (f.metric ?? .cosine).rawValue,
             "indexType": (f.index ?? .hnsw).kind.rawValue]
        } + schema.fields.compactMap(\.keywordOutput).map { output in
            ["fieldName": output.field, "indexName": output.field, "metricType": "BM25", "indexType": "SPARSE_INVERTED_INDEX"]
        }
        return [
            "collectionName": description.name, "description": schema.description,
            "autoId": schema.primaryField.autoID, "fields": fields, "functions": describeFunctions(schema), "aliases": description.aliases,
            "indexes": indexes, "load": "LoadStateLoaded", "shardsNum": 1,
            "partitionsNum": description.partitions.count,
            // Every read sees every write that returned before it.
            "consistencyLevel": "Strong", "enableDynamicField": schema.enableDynamicField, "properties": [Any](),
        ]
    }
}
