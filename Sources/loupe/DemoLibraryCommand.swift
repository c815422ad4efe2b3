import ArgumentParser
import Foundation
import Loupe
import LoupeFixtures

/// Writes the demo library (shape pictures in several formats and a video with three scenes).
struct DemoLibraryCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo-library", abstract: "Write the synthetic shapes library the demo indexes.", shouldDisplay: false)

    @Argument(help: "The folder to write.")
    var folder: String

    @Option(help: "Pictures per colour and shape.")
    var perClass = 2

    func run() async throws {
        try await reportingErrors {
            let pictures = try DemoLibrary.generate(into: URL(fileURLWithPath: folder), perClass: perClass)
            print("wrote \(pictures.count) pictures and scenes.mp4 (yellow triangle 0-4 s, blue square 4-8 s, red circle 8-12 s) to \(folder)")
        }
    }
}
