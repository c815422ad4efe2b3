import ArgumentParser
import Foundation
import Loupe

/// `loupe generate PROMPT`: retrieval-augmented image generation with Gemini's image model.
struct GenerateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "generate",
        abstract: "Generate a picture with Gemini from a prompt and reference pictures retrieved from the library.",
        discussion: """
            References: the top -k pictures for --refs (default: the prompt itself), plus --ref FILE and \
            --ref-item ID (a video moment gives its thumbnail frame). Each is re-encoded as JPEG, longest side \
            at most \(GenerationReference.longestSide), and sent with the prompt to \
            $GEMINI_BASE_URL (default https://generativelanguage.googleapis.com) with the key from --api-key, \
            $GEMINI_API_KEY or $GOOGLE_API_KEY. Every returned picture is saved under --out with a sidecar \
            JSON. A blocked prompt, a safety stop or an answer without a picture exits with status 3.
            """)

    @Argument(help: "What to generate.")
    var prompt: String

    @Option(name: .long, help: "The query that retrieves reference pictures (default: the prompt).")
    var refs: String?

    @Option(name: [.customShort("k"), .long], help: "How many pictures to retrieve (0: none).")
    var limit = 3

    @Option(name: .customLong("ref"), help: "A reference picture file (repeatable).")
    var refFiles: [String] = []

    @Option(name: .customLong("ref-item"), help: "An indexed item id as a reference (repeatable).")
    var refItems: [Int64] = []

    @Option(name: .long, help: "The Gemini model.")
    var model = GeminiImageGenerator.defaultModel

    @Option(name: .customLong("aspect-ratio"), help: "The picture's aspect ratio, e.g. 1:1, 16:9 (default: the model's).")
    var aspectRatio: String?

    @Option(name: .long, help: "Where generated pictures go.")
    var out = "generated"

    @Option(name: .customLong("api-key"), help: "The Gemini API key (default: $GEMINI_API_KEY, else $GOOGLE_API_KEY).")
    var apiKey: String?

    @Flag(name: .long, help: "Also add the generated pictures to the library.")
    var index = false

    @Flag(name: .long, help: "Print JSON: {\"images\": [paths], \"text\": ..., \"references\": [{\"path\", \"score\"}]}.")
    var json = false

    @Option(name: .long, help: "The database folder.")
    var data = "loupe-data"

    @Option(name: .long, help: "The collection inside the database.")
    var collection = "media"

    @Option(name: .customLong("clip-model"), help: "The CLIP model folder or pulled id the library was indexed with.")
    var clipModel = HubRepository.defaultCLIP.id

    /// Exit status for a generation the provider declined.
    static let refusedStatus: Int32 = 3

    func validate() throws {
        guard limit >= 0 else { throw ValidationError("-k must not be negative") }
        guard !prompt.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else { throw ValidationError("the prompt is empty") }
    }

    func run() async throws {
        let generator: GeminiImageGenerator
        do {
            generator = try GeminiImageGenerator.fromEnvironment(model: model, key: apiKey)
        } catch {
            FileHandle.standardError.write(Data("loupe: error: \(error)\n".utf8))
            throw ExitCode.failure
        }
        let references = try await reportingErrors { try await gatherReferences() }
        let result: GeminiImageGenerator.Result
        do {
            result = try await generator.generate(prompt: prompt, references: references.map(\.jpeg), aspectRatio: aspectRatio)
        } catch let error as ProviderError where error.code == .refused {
            FileHandle.standardError.write(Data("loupe: \(error)\n".utf8))
            throw ExitCode(Self.refusedStatus)
        } catch {
            FileHandle.standardError.write(Data("loupe: error: \(error)\n".utf8))
            throw ExitCode.failure
        }
        let output = try await reportingErrors {
            try GenerationOutput.save(result, prompt: prompt, model: model, references: references,
                                      to: URL(fileURLWithPath: out))
        }
        if index {
            try await reportingErrors {
                try await libraryOptions().withLibrary(.writer) { library in
                    let report = try await library.index(output.images.map(\.path))
                    if !report.failures.isEmpty { throw ValidationError("indexing the generated pictures failed: \(report.failures)") }
                }
            }
        }
        if json {
            let object: [String: Any] = [
                "images": output.images.map(\.path), "text": output.text,
                "references": GenerationOutput.referenceObjects(references),
            ]
            let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])
            print(String(decoding: data, as: UTF8.self))
        } else {
            for reference in references {
                print("reference  \(reference.score.map { String(format: "%.3f", $0) } ?? "  -  ")  \(reference.path)")
            }
            for image in output.images { print("generated  \(image.path)") }
            if !output.text.isEmpty { print(output.text) }
        }
    }

    /// Retrieved references first (when a library exists at --data), then --ref-item, then --ref files.
    private func gatherReferences() async throws -> [GenerationReference] {
        var references: [GenerationReference] = []
        let hasLibrary = FileManager.default.fileExists(atPath: URL(fileURLWithPath: data).appendingPathComponent("loupe.sqlite").path)
        let retrieving = limit > 0 && (refs != nil || hasLibrary)
        if retrieving || !refItems.isEmpty {
            references += try await libraryOptions().withLibrary(.reader, mustExist: true) { library in
                try await library.generationReferences(query: retrieving ? refs ?? prompt : nil, limit: limit, items: refItems)
            }
        }
        for file in refFiles {
            references.append(try GenerationReference.file(URL(fileURLWithPath: file)))
        }
        return references
    }

    private func libraryOptions() throws -> LibraryOptions {
        try LibraryOptions.parse(["--data", data, "--collection", collection, "--model", clipModel])
    }
}
