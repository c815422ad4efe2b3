import ArgumentParser
import Foundation
import Loupe

struct RemoveCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "remove",
        abstract: "Take files or folders out of the index; the files themselves are left alone.",
        discussion: """
            A video goes with all its moments; a folder takes every file under it. Indexing the same \
            folder again brings its files back (and `loupe index` on a parent folder would too). Exits \
            with 1 when a path given had nothing in the index.
            """)

    @Argument(help: "Files or folders, as they were indexed.")
    var paths: [String]

    @OptionGroup var library: LibraryOptions

    func run() async throws {
        try await reportingErrors {
            let missing = try await library.withLibrary(.writer, mustExist: true) { opened in try await remove(from: opened) }
            for path in missing { FileHandle.standardError.write(Data("loupe: \(path): nothing in the index\n".utf8)) }
            if !missing.isEmpty { throw ExitCode.failure }
        }
    }

    /// Removes each path; returns those that had nothing in the index.
    private func remove(from opened: MediaLibrary) async throws -> [String] {
        var missing: [String] = []
        for path in paths {
            let url = URL(fileURLWithPath: path).standardizedFileURL
            var isFolder: ObjCBool = false
            // A folder that is gone from disk can still be in the index: try it as a file first.
            let rows = try await opened.remove(path: url.path)
            if rows > 0 {
                print("removed \(url.path) (\(rows) rows)")
            } else if FileManager.default.fileExists(atPath: url.path, isDirectory: &isFolder) && !isFolder.boolValue {
                missing.append(url.path)
            } else {
                let removed = try await opened.remove(under: url.path)
                if removed.rows > 0 {
                    print("removed \(removed.files) files under \(url.path) (\(removed.rows) rows)")
                } else {
                    missing.append(url.path)
                }
            }
        }
        return missing
    }
}
