import LoupeTensor
import Synchronization

/// The executors and buffers of a model's forward passes, one set per concurrent caller: a call borrows
/// one for its duration, so results never depend on what else is running, and returns it for reuse.
final class ForwardContextPool: Sendable {
    private let threads: Int?
    private let contexts = Mutex<[ForwardContext]>([])

    /// - Parameter threads: oneDNN threads per forward pass; all cores when nil.
    init(threads: Int?) {
        self.threads = threads
    }

    /// Runs `body` with a context borrowed for the call, its thread count applied to this thread.
    func withContext<T>(_ body: (ForwardContext) throws -> T) throws -> T {
        let context = try contexts.withLock { $0.popLast() } ?? ForwardContext(threads: threads)
        defer { contexts.withLock { $0.append(context) } }
        context.executor.prepareThread()
        return try body(context)
    }

    /// Names of the oneDNN kernels the contexts have used (for benchmark reports).
    var kernelImplementations: [String] {
        contexts.withLock { contexts in Array(Set(contexts.flatMap(\.executor.implementations))).sorted() }
    }

    /// Preprocesses `images` to `size x size` and embeds them with the tower `loadTower` gives (called only
    /// when there are images), `batchSize` at a time; each result L2-normalised.
    func embed<Tower: ImageTower>(
        images: [RGBImage], size: Int, tower loadTower: () throws -> Tower, preprocessor: ImagePreprocessor,
        batchSize: Int
    ) throws -> [[Float]] {
        guard !images.isEmpty else { return [] }
        let tower = try loadTower()
        let perImage = 3 * size * size
        var results: [[Float]] = []
        results.reserveCapacity(images.count)
        try withContext { context in
            for start in stride(from: 0, to: images.count, by: batchSize) {
                let chunk = images[start..<min(start + batchSize, images.count)]
                context.pixels.reserve(chunk.count * perImage * 4)
                let pixels = context.pixels.floats()
                for (slot, image) in chunk.enumerated() {
                    preprocessor.preprocess(image, into: pixels + slot * perImage)
                }
                results += try context.run(count: chunk.count, dimension: tower.outputDimension) { output in
                    try tower.embed(pixels: pixels, batch: chunk.count, executor: context.executor,
                                    workspace: context.workspace, output: output)
                }
            }
        }
        return results
    }

    /// Embeds `count` preprocessed channel-planar `[3, size, size]` images stored back to back, with the
    /// tower `loadTower` gives (called once the values are checked and there is an image).
    func embed<Tower: ImageTower>(
        pixelValues: [Float], count: Int, size: Int, tower loadTower: () throws -> Tower, batchSize: Int
    ) throws -> [[Float]] {
        let perImage = 3 * size * size
        guard count >= 0, pixelValues.count == count * perImage else {
            throw CLIPError(.invalidInput, "expected \(count) x 3 x \(size) x \(size) pixel values, got \(pixelValues.count)")
        }
        guard count > 0 else { return [] }
        let tower = try loadTower()
        var results: [[Float]] = []
        try withContext { context in
            try pixelValues.withUnsafeBufferPointer { all in
                for start in stride(from: 0, to: count, by: batchSize) {
                    let n = min(batchSize, count - start)
                    results += try context.run(count: n, dimension: tower.outputDimension) { output in
                        try tower.embed(pixels: all.baseAddress! + start * perImage, batch: n,
                                        executor: context.executor, workspace: context.workspace, output: output)
                    }
                }
            }
        }
        return results
    }
}

/// An image encoder as the models run it: `batch` preprocessed images in, their embeddings out.
protocol ImageTower {
    var outputDimension: Int { get }
    /// Embeds `batch` images of channel-planar pixel values (`[batch, 3, size, size]`) into `output`
    /// (`[batch, outputDimension]`, not yet normalised).
    func embed(pixels: UnsafePointer<Float>, batch: Int, executor: TensorExecutor, workspace: EncoderWorkspace,
               output: UnsafeMutablePointer<Float>) throws
}

/// One caller's executor and buffers; borrowed from the model's pool for the duration of a call.
final class ForwardContext: @unchecked Sendable {
    let executor: TensorExecutor
    let workspace = EncoderWorkspace()
    let pixels = AlignedBuffer()
    let output = AlignedBuffer()

    init(threads: Int?) throws {
        executor = try TensorExecutor(threads: threads)
    }

    /// Runs `body` into an output buffer of `count x dimension` and returns the rows L2-normalised.
    func run(count: Int, dimension: Int, _ body: (UnsafeMutablePointer<Float>) throws -> Void) throws -> [[Float]] {
        output.reserve(count * dimension * 4)
        let out = output.floats()
        try body(out)
        return (0..<count).map { row in
            let start = out + row * dimension
            var norm: Float = 0
            for i in 0..<dimension { norm += start[i] * start[i] }
            let scale = norm > 0 ? 1 / norm.squareRoot() : 0
            return (0..<dimension).map { start[$0] * scale }
        }
    }
}
