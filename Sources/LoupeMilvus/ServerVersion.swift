/// A Milvus server's version, as `GetVersion` reports it (`v2.3.5`, `2.4.9-gpu`, `v2.5.0-beta`).
///
/// Only major, minor and patch are compared; a text that holds no number (milvus-lite may answer a
/// name) reads as 0.0.0 with the text kept, so `text` is what error messages show.
public struct ServerVersion: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var major: Int
    public var minor: Int
    public var patch: Int
    /// The version as the server wrote it.
    public var text: String

    public init(major: Int, minor: Int, patch: Int = 0) {
        self.major = major
        self.minor = minor
        self.patch = patch
        self.text = "\(major).\(minor).\(patch)"
    }

    /// Reads the first `major.minor[.patch]` in `text`.
    public init(parsing text: String) {
        self.text = text
        var numbers: [Int] = []
        var current: Int?
        var started = false
        for ch in text {
            if let d = ch.wholeNumberValue, ch.isASCII {
                current = (current ?? 0) * 10 + d
                started = true
            } else if ch == ".", let c = current {
                numbers.append(c)
                current = nil
                if numbers.count == 3 { break }
            } else if started {
                break
            }
        }
        if let c = current, numbers.count < 3 { numbers.append(c) }
        major = numbers.count > 0 ? numbers[0] : 0
        minor = numbers.count > 1 ? numbers[1] : 0
        patch = numbers.count > 2 ? numbers[2] : 0
    }

    public var description: String { "\(major).\(minor).\(patch)" }

    /// Whether this is the Python milvus-lite (`milvus_lite-3.2.2`), whose numbers are its own, not
    /// Milvus's. (The PyPI `milvus` package's real server says `v2.3.5-lite`: that one is Milvus.)
    public var isMilvusLite: Bool {
        let t = text.lowercased()
        return t.hasPrefix("milvus_lite") || t.hasPrefix("milvus-lite")
    }

    public static func < (a: ServerVersion, b: ServerVersion) -> Bool {
        (a.major, a.minor, a.patch) < (b.major, b.minor, b.patch)
    }

    public static func == (a: ServerVersion, b: ServerVersion) -> Bool {
        (a.major, a.minor, a.patch) == (b.major, b.minor, b.patch)
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(major)
        hasher.combine(minor)
        hasher.combine(patch)
    }
}

/// Features that appeared after Milvus 2.3, with the version that brought each.
///
/// The client checks these before sending a request the server would refuse or, worse, silently ignore
/// (a 2.3 server ignores an unknown `group_by_field` search parameter).
enum MilvusFeature: String, CaseIterable, Sendable {
    case hybridSearch = "hybrid search"
    case groupBySearch = "group-by search"

    var since: ServerVersion {
        switch self {
        case .hybridSearch: return ServerVersion(major: 2, minor: 4)
        case .groupBySearch: return ServerVersion(major: 2, minor: 4)
        }
    }
}
