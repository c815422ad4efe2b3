import LoupeStore

/// Milvus 2.5/2.6 schema functions over LoupeStore's vector sources.
///
/// `{"name", "type": "TextEmbedding", "inputFieldNames": ["caption"], "outputFieldNames": ["caption_vec"],
/// "params": {"provider": ...}}` declares that `caption_vec` is computed from the VARCHAR `caption`; Loupe's
/// own type `LoupeImageEmbedding` does the same for a VARCHAR holding a picture's URL, path or `data:`
/// URI. `params.provider` names the embedder (`clip`, the default; `loupe` is read as `clip`); other
/// providers are refused unless the server has an embedder of that name.
///
/// `{"type": "BM25", "inputFieldNames": ["text"], "outputFieldNames": ["sparse"]}` over a VARCHAR maps onto
/// LoupeStore's keyword search (SQLite FTS5, BM25-ranked): the input field gets a keyword index, and the
/// SparseFloatVector output is that index's name. Searches that name the output field with texts in
/// `data` rank rows by BM25, alone or as a hybrid search leg. The scores are FTS5's BM25 (k1 1.2, b 0.75,
/// its own tokeniser), so they rank as Milvus's do but are not the same numbers.
extension MilvusSchema {
    /// Milvus's function type names for each source kind.
    static let textEmbedding = "TextEmbedding"
    static let imageEmbedding = "LoupeImageEmbedding"

    /// The output field names of `schema.functions`, before fields are parsed (their `dim` may be left
    /// out: the embedder gives it).
    static func functionOutputs(_ functions: [MilvusJSON]) -> Set<String> {
        var names = Set<String>()
        for case .object(let members) in functions {
            if case .array(let outputs)? = members["outputFieldNames"] {
                for case .string(let name) in outputs { names.insert(name) }
            }
        }
        return names
    }

    /// Sets the source of each function's output field.
    static func applyFunctions(_ functions: [MilvusJSON], to fields: inout [FieldSchema],
                               sparseFields: Set<String> = []) throws(MilvusError) {
        for item in functions {
            guard case .object(let members) = item else {
                throw .incorrectFormat("schema.functions must hold objects, not \(item.typeName)")
            }
            let function = MilvusRequestBody(members: members)
            let name = try function.string("name") ?? ""
            let type = try function.requiredString("type")
            let kind: VectorSource.Kind
            switch type.lowercased() {
            case textEmbedding.lowercased(): kind = .text
            case imageEmbedding.lowercased(): kind = .image
            case "bm25":
                try applyBM25(function, name: name, to: &fields, sparseFields: sparseFields)
                continue
            default:
                throw .invalidParameter("function '\(name)': unknown function type \(type) (\(textEmbedding) or \(imageEmbedding))")
            }
            let inputs = try function.strings("inputFieldNames") ?? []
            let outputs = try function.strings("outputFieldNames") ?? []
            guard inputs.count == 1, outputs.count == 1 else {
                throw .invalidParameter("function '\(name)': \(type) takes one input field and one output field")
            }
            guard let output = fields.firstIndex(where: { $0.name == outputs[0] }), fields[output].dataType == .floatVector else {
                throw .invalidParameter("function '\(name)': the output field '\(outputs[0])' must be a FloatVector field of the schema")
            }
            let params = try function.object("params") ?? MilvusRequestBody(members: [:])
            let provider = try params.string("provider")?.lowercased() ?? ""
            let embedder = ["", "loupe", "clip"].contains(provider) ? VectorSource.defaultEmbedder : provider
            fields[output].source = VectorSource(field: inputs[0], kind: kind, embedder: embedder)
        }
    }

    private static func applyBM25(_ function: MilvusRequestBody, name: String, to fields: inout [FieldSchema],
                                  sparseFields: Set<String>) throws(MilvusError) {
        let inputs = try function.strings("inputFieldNames") ?? []
        let outputs = try function.strings("outputFieldNames") ?? []
        guard inputs.count == 1, outputs.count == 1 else {
            throw .invalidParameter("function '\(name)': BM25 takes one input field and one output field")
        }
        guard let input = fields.firstIndex(where: { $0.name == inputs[0] }), fields[input].dataType == .string else {
            throw .invalidParameter("function '\(name)': the input field '\(inputs[0])' must be a VarChar field of the schema")
        }
        guard sparseFields.contains(outputs[0]) else {
            throw .invalidParameter("function '\(name)': the output field '\(outputs[0])' must be a SparseFloatVector field of the schema")
        }
        guard fields[input].keywordOutput == nil else {
            throw .invalidParameter("function '\(name)': the field '\(inputs[0])' is already the input of a BM25 function")
        }
        fields[input].enableKeywordSearch = true
        fields[input].keywordOutput = KeywordOutput(field: outputs[0], function: name.isEmpty ? "\(outputs[0])_bm25" : name)
    }

    /// The `functions` of `collections/describe`: one per sourced vector field and one per BM25 output.
    static func describeFunctions(_ schema: CollectionSchema) -> [[String: Any]] {
        schema.fields.compactMap { f -> [String: Any]? in
            guard let output = f.keywordOutput else { return nil }
            return ["name": output.function, "type": "BM25", "description": "", "inputFieldNames": [f.name],
                    "outputFieldNames": [output.field], "params": [[String: String]]()]
        } + schema.sourcedVectorFields.map { f in
            let source = f.source!
            var params: [[String: String]] = [["key": "provider", "value": source.embedder]]
            if let model = source.model { params.append(["key": "model_name", "value": model]) }
            return [
                "name": "\(f.name)_fn", "type": source.kind == .text ? textEmbedding : imageEmbedding, "description": "",
                "inputFieldNames": [source.field], "outputFieldNames": [f.name], "params": params,
            ]
        }
    }
}
