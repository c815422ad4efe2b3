import LoupeStore

/// A table's schema in the short form `loupe table create` and `POST /api/tables` take, and the text
/// `describe` prints.
///
/// ```swift
/// let schema = try TableSchemaSpec.schema(primary: "id:int64", fields: ["name:string", "price:double?", "image_uri:string"],
///                                         vectors: ["image_vec:image_uri"])
/// ```
/// Scalar fields are `NAME:TYPE` (string, int64, double, bool, json; `TYPE?` for nullable); vectors are
/// `NAME:SOURCE[:image|text[:EMBEDDER]]`, where EMBEDDER is `clip` (the default) or a remote one
/// (`jina:MODEL`, `twelvelabs:MODEL`: the rest of the spec, colons and all); the primary key is `NAME:int64` (assigned on insert) or
/// `NAME:string` (given by each row).
public enum TableSchemaSpec {
    /// The schema the short forms describe.
    /// - Throws: `LoupeError(.invalidArgument)` naming the spec at fault.
    public static func schema(primary: String, fields: [String], vectors: [String], dynamic: Bool) throws -> CollectionSchema {
        let key = primary.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        guard key.count == 2, !key[0].isEmpty else { throw LoupeError(.invalidArgument, "the primary key '\(primary)' must be NAME:int64 or NAME:string") }
        var all: [FieldSchema]
        switch key[1].lowercased() {
        case "int64", "int": all = [.int64Primary(key[0], autoID: true)]
        case "string", "varchar": all = [.stringPrimary(key[0])]
        default: throw LoupeError(.invalidArgument, "the primary key '\(primary)': the key must be int64 or string")
        }
        for spec in fields {
            let parts = spec.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
            guard parts.count == 2, !parts[0].isEmpty else { throw LoupeError(.invalidArgument, "the field '\(spec)' must be NAME:TYPE") }
            let nullable = parts[1].hasSuffix("?")
            let typeName = nullable ? String(parts[1].dropLast()) : parts[1]
            let type: DataType
            switch typeName.lowercased() {
            case "string", "varchar", "text": type = .string
            case "int64", "int", "integer": type = .int64
            case "double", "float", "number": type = .double
            case "bool", "boolean": type = .bool
            case "json": type = .json
            default: throw LoupeError(.invalidArgument, "the field '\(spec)': unknown type '\(typeName)' (string, int64, double, bool, json)")
            }
            all.append(.scalar(parts[0], type, nullable: nullable, maxLength: type == .string ? 65_535 : nil))
        }
        for spec in vectors {
            let parts = spec.split(separator: ":", maxSplits: 3, omittingEmptySubsequences: false).map(String.init)
            guard (2...4).contains(parts.count), !parts[0].isEmpty, !parts[1].isEmpty else {
                throw LoupeError(.invalidArgument, "the vector '\(spec)' must be NAME:SOURCE[:image|text[:EMBEDDER]]")
            }
            guard let kind = parts.count > 2 ? VectorSource.Kind(rawValue: parts[2].lowercased()) : .image else {
                throw LoupeError(.invalidArgument, "the vector '\(spec)': the source kind must be image or text")
            }
            all.append(.sourcedVector(parts[0], from: parts[1], kind: kind,
                                      embedder: parts.count > 3 ? parts[3] : VectorSource.defaultEmbedder))
        }
        guard !vectors.isEmpty else { throw LoupeError(.invalidArgument, "a table needs at least one vector NAME:SOURCE") }
        return CollectionSchema(fields: all, enableDynamicField: dynamic)
    }

    /// A table's fields, one a line, with each vector's source, embedder and model.
    public static func describe(_ description: CollectionDescription) throws -> String {
        var lines = ["table \(description.name)"]
        for f in description.schema.fields {
            var line = "  \(f.name): \(f.dataType.rawValue)"
            if f.isPrimary { line += " primary key" + (f.autoID ? " (auto id)" : "") }
            if f.nullable { line += " nullable" }
            if f.dataType == .floatVector {
                line += "(\(f.dimension ?? 0)) \(f.metric?.rawValue ?? "COSINE")"
                if let source = f.source {
                    line += " from \(source.field) (\(source.kind.rawValue), embedder \(source.embedder)"
                        + (source.model.map { ", model \($0)" } ?? "") + ")"
                }
            }
            lines.append(line)
        }
        if description.schema.enableDynamicField { lines.append("  (dynamic field on)") }
        return lines.joined(separator: "\n")
    }
}
