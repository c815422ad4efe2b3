import LoupeStore

/// Milvus 2.5/2.6 schema functions over LoupeStore's vector sources.
///
/// `{"name", "type": "TextEmbedding", "inputFieldNames": ["caption"], "outputFieldNames": ["caption_vec"],
/// "params": {"provider": ...}}` declares that `caption_vec` is computed from the VARCHAR `caption`; Loupe's
/// own type `LoupeImageEmbedding` does the same for a VARCHAR holding a picture's URL, path or `data:`
/// URI. `params.provider` names the embedder (`clip`, the default; `loupe` is read as `clip`); other
/// providers are refused unless the server has an embedder of that name. BM25 functions (sparse
/// outputs) are not supported yet and are refused with a message saying so.
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
    static func applyFunctions(_ functions: [MilvusJSON], to fields: inout [FieldSchema]) throws(MilvusError) {
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
                throw .invalidParameter("function '\(name)': BM25 functions (sparse vectors) are not supported by Loupe; "
                                        + "its keyword search is reached through hybrid_search on a VARCHAR with enable_analyzer")
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

    /// The `functions` of `collections/describe`: one per sourced vector field.
    static func describeFunctions(_ schema: CollectionSchema) -> [[String: Any]] {
        schema.sourcedVectorFields.map { f in
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
