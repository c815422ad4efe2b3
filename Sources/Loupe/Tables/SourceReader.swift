import Foundation
import LoupeCLIP
import LoupeMedia

/// Reads image sources (file paths, http(s) URLs, `data:` URIs, bytes) into pictures ready for an
/// embedder: downloaded with the client's limits, decoded and resized on the executor's CPU slots.
struct SourceReader: Sendable {
    let configuration: TableClient.Configuration

    /// What an image source names.
    enum Location {
        case file(URL)
        case url(URL)
        case bytes(Data, label: String)
    }

    /// How an image source string is read: `data:` URI, http(s) URL, `file:` URL, or a path.
    func locate(_ source: String) throws -> Location {
        let trimmed = source.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !trimmed.isEmpty else { throw LoupeError(.invalidArgument, "the image source is empty") }
        if trimmed.lowercased().hasPrefix("data:") { return .bytes(try Self.base64(trimmed), label: "data: URI") }
        if let url = URL(string: trimmed), let scheme = url.scheme?.lowercased() {
            if scheme == "http" || scheme == "https" { return .url(url) }
            if scheme == "file" { return .file(url) }
        }
        return .file(URL(fileURLWithPath: trimmed))
    }

    /// The bytes of base64 text, bare or as a `data:[type];base64,` URI.
    static func base64(_ text: String) throws -> Data {
        var payload = Substring(text.trimmingCharacters(in: .whitespacesAndNewlines))
        if payload.lowercased().hasPrefix("data:") {
            guard let comma = payload.firstIndex(of: ",") else {
                throw LoupeError(.invalidArgument, "a data: URI needs a comma before its payload")
            }
            let header = payload[payload.index(payload.startIndex, offsetBy: 5)..<comma].lowercased()
            guard header.split(separator: ";").contains("base64") else {
                throw LoupeError(.invalidArgument, "only base64 data: URIs hold pictures (data:image/png;base64,...)")
            }
            payload = payload[payload.index(after: comma)...]
        }
        guard let data = Data(base64Encoded: String(payload), options: .ignoreUnknownCharacters), !data.isEmpty else {
            throw LoupeError(.invalidArgument, "the payload is not valid base64")
        }
        return data
    }

    /// The picture at `location`, as `embedder` will look at it, decoded within the process's decode
    /// budget like every other picture (`PictureDecoding`).
    func picture(_ location: Location, for embedder: any Embedder) async throws -> RGBImage {
        let decoding = PictureDecoding(maxPixels: configuration.maxPixels, fastJPEGDecoding: configuration.fastJPEGDecoding,
                                       budget: configuration.decodeBudget, executor: configuration.executor)
        let decoder = decoding.decoder(inputSize: embedder.inputSize)
        let data: Data
        let label: String
        switch location {
        case .file(let url):
            guard configuration.readsFiles else {
                throw LoupeError(.invalidArgument, "files on this machine cannot be read here; give an http(s) URL or base64",
                                 input: url.path)
            }
            label = url.path
            data = try await configuration.executor.run(.cpu) { try ImageDecoder.read(url) }
        case .url(let url):
            data = try await RemoteFetcher(limits: configuration.remote).fetch(url)
            label = url.absoluteString
        case .bytes(let bytes, let name):
            data = bytes
            label = name
        }
        return try await decoding.decode(data, path: label, with: decoder) { embedder.prepare(try RGBImage($0)) }
    }

    /// Pictures for many sources at once (at most `concurrentReads` in flight), each a picture or the
    /// error that kept it from being read, in the order given.
    func pictures(_ sources: [String], for embedder: any Embedder) async -> [Result<RGBImage, any Error>] {
        var results = [Result<RGBImage, any Error>?](repeating: nil, count: sources.count)
        await withTaskGroup(of: (Int, Result<RGBImage, any Error>).self) { group in
            var next = 0
            func start() {
                let index = next
                next += 1
                let source = sources[index]
                group.addTask {
                    do { return (index, .success(try await picture(try locate(source), for: embedder))) }
                    catch { return (index, .failure(error)) }
                }
            }
            for _ in 0..<min(max(1, configuration.concurrentReads), sources.count) { start() }
            for await (index, result) in group {
                results[index] = result
                if next < sources.count { start() }
            }
        }
        return results.map { $0 ?? .failure(LoupeError(.invalidArgument, "not read")) }
    }
}
