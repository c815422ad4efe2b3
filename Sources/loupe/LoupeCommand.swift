import ArgumentParser
import Foundation

@main
struct LoupeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "loupe",
        abstract: "Multimodal semantic search for your images and videos, on your own machine.",
        subcommands: [
            IndexCommand.self, SearchCommand.self, RemoveCommand.self, ServeCommand.self, DedupCommand.self, ClusterCommand.self, OutliersCommand.self,
            EmbedCommand.self, ProbeCommand.self, ModelCommand.self, BenchCommand.self, StoreWriterCommand.self,
            DemoLibraryCommand.self, GenerateCommand.self, TableCommand.self,
        ])

    static func main() async {
        MemoryTuning.apply()
        await main(nil)
    }
}

/// Turns library errors into one line on stderr and a non-zero exit, instead of a stack trace.
func reportingErrors<T>(_ body: () async throws -> T) async throws -> T {
    do {
        return try await body()
    } catch let error as ExitCode {
        throw error
    } catch let error as CleanExit {
        throw error
    } catch {
        FileHandle.standardError.write(Data("loupe: error: \(error)\n".utf8))
        throw ExitCode.failure
    }
}
