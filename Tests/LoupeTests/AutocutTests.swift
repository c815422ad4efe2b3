import Foundation
import LoupeCLIP
import LoupeStore
import Testing
@testable import Loupe

/// An embedder for libraries filled with vectors directly: it embeds nothing.
private struct VectorsOnly: Embedder {
    let dimension: Int
    var modelName: String { "random-vectors-\(dimension)" }
    func embed(texts: [String]) async throws -> [[Float]] { throw LoupeError(.invalidQuery, "no text model") }
    func embed(images: [RGBImage]) async throws -> [[Float]] { throw LoupeError(.invalidQuery, "no image model") }
}

/// A library of `count` random unit vectors (no structure at all), with its query vectors drawn the same way.
private func randomLibrary(count: Int, dimension: Int, seed: UInt64) async throws -> (MediaLibrary, URL) {
    let root = FileManager.default.temporaryDirectory.appendingPathComponent("loupe-autocut-\(UUID().uuidString)")
    let library = try await MediaLibrary.open(at: root, embedder: VectorsOnly(dimension: dimension))
    var generator = SplitMix64(seed: seed)
    let rows: [Row] = (0..<count).map { index in
        [MediaSchema.path: .string("/random/\(index).png"), MediaSchema.name: .string("\(index).png"),
         MediaSchema.kind: .string(MediaKind.image.rawValue), MediaSchema.scope: .string(MediaScope.image.rawValue),
         MediaSchema.modified: .double(0), MediaSchema.size: .int(1), MediaSchema.sha256: .string("\(index)"),
         MediaSchema.vector: .vector(randomUnit(dimension, &generator))]
    }
    try await library.store.insert(library.configuration.collection, rows: rows)
    return (library, root)
}

/// A uniformly random direction: normalised Gaussian values (Box-Muller on the seeded generator).
private func randomUnit(_ dimension: Int, _ generator: inout SplitMix64) -> [Float] {
    let values = (0..<dimension).map { _ -> Float in
        let u = max(generator.nextUnit(), 1e-12), v = generator.nextUnit()
        return Float((-2 * Foundation.log(u)).squareRoot() * cos(2 * Double.pi * v))
    }
    return VectorMath.normalized(values)!
}

@Suite("Autocut: relevance groups at score cliffs")
struct AutocutTests {
    @Test("a tight group above a large drop is one group; the drop starts the next")
    func groupsAtCliffs() {
        #expect(Autocut.groups([0.52, 0.51, 0.50, 0.21, 0.18, 0.15]) == [0, 0, 0, 1, 1, 1])
        // Two cliffs: the second drop is large again and the group above it (0.21-0.18) is tight.
        #expect(Autocut.groups([0.9, 0.89, 0.5, 0.49, 0.1, 0.09]) == [0, 0, 1, 1, 2, 2])
        // A steady decline has no cliff; a drop after a spread-out group is not one either.
        #expect(Autocut.groups((0..<20).map { 0.5 - Float($0) * 0.01 }) == [Int](repeating: 0, count: 20))
        #expect(Autocut.groups([0.9, 0.85, 0.8, 0.75, 0.7, 0.55, 0.5, 0.45, 0.4]) == [0, 0, 0, 0, 0, 0, 0, 0, 0])
        #expect(Autocut.groups([]) == [] && Autocut.groups([0.3]) == [0] && Autocut.groups([0.3, 0.3, 0.3]) == [0, 0, 0])
        // Scores out of order or not finite end the search for cliffs; nothing traps.
        #expect(Autocut.groups([0.9, 0.1, .nan, 0.5]) == [0, 1, 1, 1])
        #expect(Autocut.groups([.infinity, 0.1]) == [0, 0])
    }

    @Test("autocut N keeps the first N groups, never fewer than the minimum, all when 0")
    func keptCounts() {
        let groups = [0, 0, 0, 0, 0, 1, 1, 2, 2, 2]
        #expect(Autocut.kept(groups, autocut: 0) == 10)
        #expect(Autocut.kept(groups, autocut: 1) == 5)
        #expect(Autocut.kept(groups, autocut: 2) == 7)
        #expect(Autocut.kept(groups, autocut: 3) == 10)
        #expect(Autocut.kept([0, 1, 1, 1, 1, 1], autocut: 1) == Autocut.minimumKept)
        #expect(Autocut.kept([0, 1], autocut: 1) == 2)
    }

    @Test("random-vector libraries with no structure keep every result or exactly the documented minimum",
          arguments: [(30, 64), (200, 64), (200, 512), (1000, 64)])
    func randomLibrariesAreNotCutArbitrarily(count: Int, dimension: Int) async throws {
        let (library, root) = try await randomLibrary(count: count, dimension: dimension, seed: UInt64(count * 1000 + dimension))
        defer { try? FileManager.default.removeItem(at: root) }
        var generator = SplitMix64(seed: 99)
        let limit = min(count, 50)
        var outcomes: [String: Int] = [:]
        for _ in 0..<40 {
            var request = SearchRequest(.vector(randomUnit(dimension, &generator)), limit: limit)
            request.autocut = 1
            let response = try await library.search(request)
            let kept = response.results.count
            #expect(kept == limit || kept == Autocut.minimumKept,
                    "\(count) random \(dimension)-d vectors: autocut kept \(kept) of \(limit), scores \(response.results.map(\.score))")
            #expect(kept + response.cutByAutocut == limit)
            outcomes[kept == limit ? "all" : "minimum", default: 0] += 1
        }
        print("autocut on \(count) random \(dimension)-d vectors, 40 queries: \(outcomes)")
        try await library.close()
    }

    @Test("a negative or absurd autocut is refused with an error naming it")
    func badAutocut() async throws {
        let (library, root) = try await randomLibrary(count: 8, dimension: 16, seed: 1)
        defer { try? FileManager.default.removeItem(at: root) }
        for value in [-1, Autocut.maximum + 1, Int.max, Int.min] {
            var request = SearchRequest(.vector(TestVectors.axis(0, dimension: 16)), limit: 5)
            request.autocut = value
            let error = await #expect(throws: LoupeError.self) { try await library.search(request) }
            #expect(error?.code == .invalidArgument && error?.input == "autocut" && error?.message.contains("\(value)") == true,
                    "\(String(describing: error))")
        }
        try await library.close()
    }
}
