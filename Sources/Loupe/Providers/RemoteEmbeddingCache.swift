import Crypto
import Foundation
import LoupeCLIP

/// Embeddings a cloud provider already returned, kept in the data folder so re-indexing, moved files and
/// repeated queries never pay twice. One small file per vector under
/// `remote-embeddings/<model>/<ab>/<key>`, the key being the SHA-256 of the input (the text's UTF-8, or
/// the picture's size and pixels) with the model and its options: the same input under another model is
/// another entry. Files are written atomically, so a crash leaves an entry whole or absent.
public struct RemoteEmbeddingCache: Sendable {
    public let directory: URL

    public init(directory: URL) {
        self.directory = directory
    }

    /// The cache in a library's data folder.
    public static func inDataDirectory(_ data: URL) -> RemoteEmbeddingCache {
        RemoteEmbeddingCache(directory: data.appendingPathComponent("remote-embeddings"))
    }

    /// The key of a text.
    public static func key(text: String) -> String {
        var hash = SHA256()
        hash.update(data: Data("text\0".utf8))
        hash.update(data: Data(text.utf8))
        return hex(hash.finalize())
    }

    /// The key of a picture's pixels.
    public static func key(image: RGBImage) -> String {
        var hash = SHA256()
        hash.update(data: Data("rgb8\0\(image.width)x\(image.height)\0".utf8))
        image.pixels.withUnsafeBytes { hash.update(bufferPointer: $0) }
        return hex(hash.finalize())
    }

    /// The key of arbitrary bytes (a whole video file, for instance).
    public static func key(bytes: Data, kind: String) -> String {
        var hash = SHA256()
        hash.update(data: Data("\(kind)\0".utf8))
        hash.update(data: bytes)
        return hex(hash.finalize())
    }

    /// The stored payload for `key` under `model`, or nil.
    public func data(_ key: String, model: String) -> Data? {
        try? Data(contentsOf: url(key, model: model))
    }

    /// Stores `payload` for `key` under `model` (failures to write only cost a later call).
    public func store(_ payload: Data, _ key: String, model: String) {
        let url = url(key, model: model)
        try? FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try? payload.write(to: url, options: .atomic)
    }

    /// Forgets the entry for `key` under `model`, if there is one.
    public func remove(_ key: String, model: String) {
        try? FileManager.default.removeItem(at: url(key, model: model))
    }

    /// The vector for `key`, or nil.
    public func vector(_ key: String, model: String, dimension: Int? = nil) -> [Float]? {
        guard let data = data(key, model: model), data.count % 4 == 0, !data.isEmpty else { return nil }
        let vector = data.withUnsafeBytes { raw in (0..<(data.count / 4)).map { raw.loadUnaligned(fromByteOffset: $0 * 4, as: Float.self) } }
        if let dimension, vector.count != dimension { return nil }
        return vector
    }

    public func store(_ vector: [Float], _ key: String, model: String) {
        store(vector.withUnsafeBytes { Data($0) }, key, model: model)
    }

    private func url(_ key: String, model: String) -> URL {
        let folder = model.map { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "." || $0 == "_" ? String($0) : "_" }.joined()
        return directory.appendingPathComponent(folder).appendingPathComponent(String(key.prefix(2)))
            .appendingPathComponent(key)
    }

    private static func hex(_ digest: SHA256.Digest) -> String { digest.map { String(format: "%02x", $0) }.joined() }
}
