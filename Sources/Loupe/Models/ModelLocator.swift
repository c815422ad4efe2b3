import Foundation

/// Turns what a user typed after `--model` into a model directory.
public enum ModelLocator {
    /// A folder path is used as it is; an `owner/name` id is looked up in `cache`.
    ///
    /// - Throws: `LoupeError(.notFound)` saying how to get the model when it is neither.
    public static func directory(for argument: String, cache: ModelCache = .standard()) throws -> URL {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: argument, isDirectory: &isDirectory) {
            guard isDirectory.boolValue else {
                throw LoupeError(.invalidArgument, "a model is a folder (config.json, model.safetensors, ...), not a file",
                                 input: argument)
            }
            return URL(fileURLWithPath: argument)
        }
        if let repository = try? HubRepository(argument) {
            if let snapshot = cache.snapshot(repository) { return snapshot }
            throw LoupeError(.notFound, "not a folder and not in the model cache (\(cache.root.path)); "
                             + "run `loupe model pull \(repository.id)` first", input: argument)
        }
        throw LoupeError(.notFound, "no such model folder", input: argument)
    }
}
