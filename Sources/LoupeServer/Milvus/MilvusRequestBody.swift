import Foundation
import LoupeStore

/// The JSON object of a Milvus request, with typed accessors that fail the way Milvus's handler does.
///
/// Keys match case-insensitively when there is no exact match, as Go's `encoding/json` does for the
/// structs Milvus binds requests to (`autoId` and `autoID` are the same key there).
struct MilvusRequestBody: Sendable {
    let members: [String: MilvusJSON]

    init(members: [String: MilvusJSON]) {
        self.members = members
    }

    /// Parses a request body; an empty body or one that is not a JSON object is Milvus's 1801.
    init(data: Data) throws(MilvusError) {
        guard !data.isEmpty else {
            throw .incorrectFormat("the request body should be nil, however {} is valid")
        }
        let parsed: MilvusJSON
        do {
            parsed = try JSONDecoder().decode(MilvusJSON.self, from: data)
        } catch {
            throw .incorrectFormat("the body is not valid JSON")
        }
        guard case .object(let members) = parsed else {
            throw .incorrectFormat("the body must be a JSON object, not \(parsed.typeName)")
        }
        self.members = members
    }

    /// The value under `key`, or nil when absent or null.
    subscript(_ key: String) -> MilvusJSON? {
        let value = members[key] ?? members.first { $0.key.caseInsensitiveCompare(key) == .orderedSame }?.value
        if case .null = value { return nil }
        return value
    }

    func contains(_ key: String) -> Bool { self[key] != nil }

    func string(_ key: String) throws(MilvusError) -> String? {
        guard let value = self[key] else { return nil }
        guard case .string(let s) = value else { throw mismatch(key, value, "string") }
        return s
    }

    /// A string that must be present and non-empty (Go's `binding:"required"`).
    func requiredString(_ key: String) throws(MilvusError) -> String {
        guard let s = try string(key), !s.isEmpty else { throw .missingParameter(key) }
        return s
    }

    func int(_ key: String) throws(MilvusError) -> Int? {
        guard let value = self[key] else { return nil }
        switch value {
        case .int(let i) where i >= Int64(Int32.min) && i <= Int64(Int32.max): return Int(i)
        case .double(let d) where d.rounded() == d && abs(d) <= Double(Int32.max): return Int(d)
        default: throw mismatch(key, value, "int32")
        }
    }

    func double(_ key: String) throws(MilvusError) -> Double? {
        guard let value = self[key] else { return nil }
        guard let d = value.doubleValue else { throw mismatch(key, value, "number") }
        return d
    }

    /// A bool; `"true"`/`"false"` strings are taken too (the reference documents these as strings).
    func bool(_ key: String) throws(MilvusError) -> Bool? {
        guard let value = self[key] else { return nil }
        switch value {
        case .bool(let b): return b
        case .string(let s) where ["true", "false"].contains(s.lowercased()): return s.lowercased() == "true"
        default: throw mismatch(key, value, "bool")
        }
    }

    func strings(_ key: String) throws(MilvusError) -> [String]? {
        guard let value = self[key] else { return nil }
        guard case .array(let items) = value else { throw mismatch(key, value, "[]string") }
        var out: [String] = []
        for item in items {
            guard case .string(let s) = item else { throw mismatch(key, item, "string") }
            out.append(s)
        }
        return out
    }

    func array(_ key: String) throws(MilvusError) -> [MilvusJSON]? {
        guard let value = self[key] else { return nil }
        guard case .array(let items) = value else { throw mismatch(key, value, "array") }
        return items
    }

    func object(_ key: String) throws(MilvusError) -> MilvusRequestBody? {
        guard let value = self[key] else { return nil }
        guard case .object(let members) = value else { throw mismatch(key, value, "object") }
        return MilvusRequestBody(members: members)
    }

    /// A parameter Milvus keeps as text but documents as a number (`dim`, `max_length`, `M`): either form.
    func integerParameter(_ key: String) throws(MilvusError) -> Int? {
        guard let value = self[key] else { return nil }
        switch value {
        case .string(let s):
            guard let i = Int(s.trimmingCharacters(in: .whitespaces)) else {
                throw .invalidParameter("'\(key)' must be an integer, got '\(s)'")
            }
            return i
        case .int(let i) where abs(i) <= Int64(Int32.max): return Int(i)
        default: throw .invalidParameter("'\(key)' must be an integer, got a \(value.typeName)")
        }
    }

    /// `{name}` template values for a filter (`exprParams`).
    func filterParameters(_ key: String) throws(MilvusError) -> [String: FieldValue] {
        guard let params = try object(key) else { return [:] }
        return params.members.mapValues(\.fieldValue)
    }

    private func mismatch(_ key: String, _ value: MilvusJSON, _ expected: String) -> MilvusError {
        .incorrectFormat("json: cannot unmarshal \(value.typeName) into field '\(key)' of type \(expected)")
    }
}
