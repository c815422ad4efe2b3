import Crypto
import Foundation
import LoupeCLIP
import LoupeMedia
import LoupeStore

extension MediaLibrary {
    /// Indexes files, folders and http(s) URLs: new and changed files are embedded, unchanged ones skipped,
    /// moved or copied ones recognised by SHA-256 and their vectors reused, and rows of files that vanished
    /// from the given folders removed.
    ///
    /// Decoding the next batch overlaps embedding the current one, and each batch is stored in one write
    /// (changed files' old rows go in the same transaction as their new ones arrive), so a run that is
    /// cancelled or killed loses nothing it reported done and the next run resumes where it stopped.
    /// Decoding and embedding run in the executor's bulk lane, behind any search. When the run ends the
    /// store is flushed (graphs built, index files written). Problems with single files are collected in
    /// the report, never thrown.
    public func index(
        _ inputs: [String], progress: @escaping @Sendable (IngestProgress) -> Void = { _ in }
    ) async throws -> IngestReport {
        let started = ContinuousClock.now
        return try await ComputeExecutor.$lane.withValue(.bulk) {
            var report = try await indexFiles(inputs, progress: progress)
            try await store.flush()
            report.elapsed = started.duration(to: .now)
            return report
        }
    }

    private func indexFiles(
        _ inputs: [String], progress: @escaping @Sendable (IngestProgress) -> Void
    ) async throws -> IngestReport {
        let clock = ContinuousClock()
        let started = clock.now
        var report = IngestReport()
        // A setting the embedder cannot honour is refused before anything is done.
        if let whole = embedder as? any WholeVideoEmbedder { try whole.check(configuration.segmentation) }

        var roots: [URL] = []
        var fetched: [(ScannedFile, String)] = []
        for input in inputs {
            if let url = URL(string: input), let scheme = url.scheme?.lowercased(), scheme == "http" || scheme == "https" {
                do {
                    fetched.append(try await download(url))
                } catch {
                    report.failures.append(IngestFailure(path: input, error: error))
                }
            } else {
                roots.append(URL(fileURLWithPath: input).standardizedFileURL)
            }
        }
        let scan = LibraryScanner().scan(roots)
        report.failures += scan.problems.map { IngestFailure(path: $0.path, code: $0.message == "no such file or folder" ? "not found" : "unreadable", message: $0.message) }
        let sources = Dictionary(fetched.map { ($0.0.url.path, $0.1) }, uniquingKeysWith: { a, _ in a })
        let files = scan.files + fetched.map(\.0)
        report.scanned = files.count

        // What the collection holds already: one row per image and per whole video.
        let existing = try await indexedFiles()
        var work: [ScannedFile] = []
        for file in files {
            if let known = existing[file.url.path] {
                if known.size == file.size && abs(known.modified - file.modified) < 0.001 {
                    report.unchanged += 1
                    continue
                }
                report.updated += 1
            } else {
                report.added += 1
            }
            work.append(file)
        }
        let present = Set(files.map(\.url.path))
        let vanished = existing.keys.filter { path in
            !present.contains(path) && roots.contains { root in path == root.path || path.hasPrefix(root.path + "/") }
        }

        var tracker = ProgressTracker(total: work.count, started: started, clock: clock, report: progress)
        let reusable = Dictionary(existing.values.map { ($0.sha256, $0.path) }, uniquingKeysWith: { a, _ in a })
        let known = Set(existing.keys)
        do {
            try await indexImages(work.filter { $0.kind == .image }, sources: sources, reusable: reusable, known: known,
                                  report: &report, tracker: &tracker)
            if let whole = embedder as? any WholeVideoEmbedder {
                try await indexWholeVideos(work.filter { $0.kind == .video }, with: whole, sources: sources, reusable: reusable,
                                           known: known, report: &report, tracker: &tracker)
            } else {
                for video in work where video.kind == .video {
                    try Task.checkCancellation()
                    try await indexVideo(video, source: sources[video.url.path], reusable: reusable,
                                         known: known.contains(video.url.path), report: &report, tracker: &tracker)
                }
            }
        } catch is CancellationError {
            report.cancelled = true
        }
        if !report.cancelled && !vanished.isEmpty {
            // One write for all of them; a video's moments go with it.
            _ = try await store.delete(configuration.collection, matching: MediaFilter.files(vanished.sorted()))
            report.removed = vanished.count
        }
        report.elapsed = clock.now - started
        return report
    }

    /// Stores one batch's rows in one write: the old rows of `changed` files are replaced in the same
    /// transaction, so a crash leaves either the old rows or the new ones, never neither.
    private func write(_ rows: [Row], replacing changed: [String]) async throws {
        if changed.isEmpty {
            try await store.insert(configuration.collection, rows: rows)
        } else {
            try await store.replace(configuration.collection, matching: MediaFilter.files(changed), with: rows)
        }
    }

    // MARK: Images

    private struct PreparedImage {
        var file: ScannedFile
        var sha256: String
        var metadata: ImageMetadata?
        /// The picture as the embedder will look at it (for CLIP: resized and cropped to its input).
        var picture: RGBImage?
        /// A file with the same bytes that is indexed already.
        var twin: String?
    }

    private func indexImages(
        _ files: [ScannedFile], sources: [String: String], reusable: [String: String], known: Set<String>,
        report: inout IngestReport, tracker: inout ProgressTracker
    ) async throws {
        let batches = stride(from: 0, to: files.count, by: configuration.batchSize).map {
            Array(files[$0..<min($0 + configuration.batchSize, files.count)])
        }
        guard !batches.isEmpty else { return }
        let imageDecoder = decoder()
        let embedder = self.embedder
        let executor = configuration.executor
        let decoding = pictureDecoding
        // Decoding and the embedder's resizing run on the executor's CPU slots (bulk lane), one job per
        // file, while the embedder works on the previous batch.
        func prepare(_ batch: [ScannedFile]) -> Task<[Result<PreparedImage, Error>], Never> {
            Task {
                await withTaskGroup(of: (Int, Result<PreparedImage, Error>).self) { group in
                    for (index, file) in batch.enumerated() {
                        group.addTask {
                            do {
                                let (data, sha) = try await executor.run(.cpu, lane: .bulk) {
                                    let data = try Data(contentsOf: file.url, options: .mappedIfSafe)
                                    return (data, SHA256.hash(data: data).map { String(format: "%02x", $0) }.joined())
                                }
                                if let twin = reusable[sha] {
                                    return (index, .success(PreparedImage(file: file, sha256: sha, metadata: nil, picture: nil,
                                                                          twin: twin)))
                                }
                                // Decoding waits for its memory in the budget (the process's, shared with searches
                                // and uploads), outside the CPU slot, so a folder of huge pictures decodes in turn.
                                return (index, .success(try await decoding.decode(
                                    data, path: file.url.path, with: imageDecoder, lane: .bulk
                                ) { image in
                                    PreparedImage(file: file, sha256: sha, metadata: image.metadata,
                                                  picture: embedder.prepare(try RGBImage(image)), twin: nil)
                                }))
                            } catch {
                                return (index, .failure(error))
                            }
                        }
                    }
                    var results = [Result<PreparedImage, Error>?](repeating: nil, count: batch.count)
                    for await (index, result) in group { results[index] = result }
                    return results.map { $0! }
                }
            }
        }

        var next: Task<[Result<PreparedImage, Error>], Never>? = prepare(batches[0])
        for index in batches.indices {
            let prepared = await next!.value
            next = index + 1 < batches.count ? prepare(batches[index + 1]) : nil
            if Task.isCancelled {
                next?.cancel()
                throw CancellationError()
            }
            var ready: [PreparedImage] = []
            for (file, outcome) in zip(batches[index], prepared) {
                switch outcome {
                case .success(let image): ready.append(image)
                case .failure(let error as CancellationError): throw error
                case .failure(let error): report.failures.append(IngestFailure(path: file.url.path, error: error))
                }
            }
            let fresh = ready.filter { $0.picture != nil }
            var rows: [Row] = []
            if !fresh.isEmpty {
                let vectors = try await embedder.embed(images: fresh.map { $0.picture! })
                report.embedded += vectors.count
                for (item, vector) in zip(fresh, vectors) {
                    rows.append(imageRow(item.file, sha256: item.sha256, metadata: item.metadata!, vector: vector,
                                         source: sources[item.file.url.path]))
                }
            }
            for item in ready where item.twin != nil {
                rows += try await copiedRows(from: item.twin!, to: item.file, sha256: item.sha256, source: sources[item.file.url.path])
                report.reused += 1
            }
            try await write(rows, replacing: ready.map(\.file.url.path).filter(known.contains))
            tracker.advance(by: batches[index].count, embedded: report.embedded, failed: report.failures.count,
                            current: batches[index].last?.url.path)
        }
    }

    private func imageRow(_ file: ScannedFile, sha256: String, metadata: ImageMetadata, vector: [Float], source: String?) -> Row {
        var row = baseRow(file, sha256: sha256, source: source)
        row[MediaSchema.kind] = .string(MediaKind.image.rawValue)
        row[MediaSchema.scope] = .string(MediaScope.image.rawValue)
        row[MediaSchema.width] = .int(Int64(metadata.width))
        row[MediaSchema.height] = .int(Int64(metadata.height))
        row[MediaSchema.vector] = .vector(vector)
        row["format"] = .string(metadata.format.description)
        if let date = metadata.dateTaken { row["date_taken"] = .string(date) }
        if let make = metadata.cameraMake { row["camera_make"] = .string(make) }
        if let model = metadata.cameraModel { row["camera_model"] = .string(model) }
        if let location = metadata.location {
            row["latitude"] = .double(location.latitude)
            row["longitude"] = .double(location.longitude)
        }
        return row
    }

    private func baseRow(_ file: ScannedFile, sha256: String, source: String?) -> Row {
        var row: Row = [
            MediaSchema.path: .string(file.url.path),
            MediaSchema.name: .string(file.url.lastPathComponent),
            MediaSchema.modified: .double(file.modified),
            MediaSchema.size: .int(file.size),
            MediaSchema.sha256: .string(sha256),
        ]
        if let source { row[MediaSchema.source] = .string(source) }
        // Device and inode, so the server serves only this very file (see FileIdentity).
        FileIdentity.of(path: file.url.path)?.record(into: &row)
        return row
    }

    /// Rows of an indexed file with the same bytes, re-addressed to `file` (a move or a copy): no embedding.
    private func copiedRows(from twin: String, to file: ScannedFile, sha256: String, source: String?) async throws -> [Row] {
        let rows = try await store.query(configuration.collection, matching: MediaFilter.file(twin),
                                         fields: MediaSchema.outputFields + [MediaSchema.vector], limit: nil, offset: 0)
        return rows.map { row in
            var copy = row
            copy[MediaSchema.id] = nil
            for (key, value) in baseRow(file, sha256: sha256, source: source) { copy[key] = value }
            return copy
        }
    }

    // MARK: Videos

    private func indexVideo(
        _ file: ScannedFile, source: String?, reusable: [String: String], known: Bool, report: inout IngestReport,
        tracker: inout ProgressTracker
    ) async throws {
        defer { tracker.advance(by: 1, embedded: report.embedded, failed: report.failures.count, current: file.url.path) }
        do {
            let sha = try hashFile(file.url)
            var rows: [Row]
            if let twin = reusable[sha] {
                rows = try await copiedRows(from: twin, to: file, sha256: sha, source: source)
                report.reused += 1
            } else {
                rows = try await videoRows(file, sha256: sha, source: source, report: &report)
            }
            try await write(rows, replacing: known ? [file.url.path] : [])
        } catch let error as CancellationError {
            throw error
        } catch {
            report.failures.append(IngestFailure(path: file.url.path, error: error))
        }
    }

    /// Frames a second scene detection looks at (cut times are as precise as that).
    static let sceneFramesPerSecond = 5.0

    private func videoRows(_ file: ScannedFile, sha256: String, source: String?, report: inout IngestReport) async throws -> [Row] {
        var decoder = VideoDecoder()
        decoder.configuration.framesPerSecond = configuration.framesPerSecond
        decoder.configuration.maxPixels = configuration.maxPixels
        if let side = embedder.inputSize { decoder.configuration.shortSide = side }
        let info = try decoder.probe(contentsOf: file.url)
        // Scene detection wants frames about 5 times a second: the same pass samples at a multiple of the
        // embedding rate, embeds the frames of every `every`-th sampling time (exactly the frames a pass at
        // the embedding rate would give) and shows all of them to the detector.
        var every = 1
        var detector: SceneDetector?
        if case .scenes = configuration.segmentation {
            every = max(1, CheckedArithmetic.saturatingInt((Self.sceneFramesPerSecond / configuration.framesPerSecond).rounded()))
            decoder.configuration.framesPerSecond = configuration.framesPerSecond * Double(every)
            detector = SceneDetector()
        } else {
            decoder.configuration.keyframeTolerance = configuration.keyframeTolerance
        }

        // Frames are decoded on their own thread, at most a few batches ahead, and embedded as they arrive:
        // only vectors are kept, so a long video needs no more memory than a short one.
        var frames: [FrameEmbedding] = []
        let batches = FrameBatches.decode(file.url, decoder: decoder, batchSize: configuration.batchSize, ahead: 3,
                                          every: every, detector: detector)
        do {
            for try await batch in batches.stream {
                let vectors = try await embedder.embed(images: batch.map(\.1))
                frames += zip(batch, vectors).map { FrameEmbedding(time: $0.0.0, vector: $0.1) }
                report.embedded += vectors.count
                batches.consumed()
            }
        } catch {
            batches.stop()
            throw error
        }
        guard !frames.isEmpty else {
            throw LoupeError(.invalidArgument, "no frame could be decoded", input: file.url.path)
        }
        let duration = info.duration ?? (frames.last!.time + 1 / configuration.framesPerSecond)
        let strategy: SegmentationStrategy
        switch configuration.segmentation {
        case .fixed(let seconds):
            strategy = .fixed(seconds: seconds)
        case .scenes(let maxSeconds):
            strategy = .scenes(cuts: Self.splitLongScenes(cuts: batches.cuts, duration: duration, maxSeconds: maxSeconds))
        }
        let (segments, whole) = try VideoSegmenter(strategy: strategy).segments(frames: frames, duration: duration)
        report.moments += segments.count

        return videoRows(file, sha256: sha256, source: source, info: info, duration: duration, moments: segments, whole: whole)
    }

    /// A video's rows: one per moment (scope `clip`) and one for the whole video, each with the file's and
    /// the stream's fields. The whole video's thumbnail is its first moment's.
    private func videoRows(_ file: ScannedFile, sha256: String, source: String?, info: VideoInfo, duration: Double,
                           moments: [VideoSegment], whole: [Float]) -> [Row] {
        var base = baseRow(file, sha256: sha256, source: source)
        base[MediaSchema.kind] = .string(MediaKind.video.rawValue)
        base[MediaSchema.width] = .int(Int64(info.width))
        base[MediaSchema.height] = .int(Int64(info.height))
        base[MediaSchema.duration] = .double(duration)
        base["codec"] = .string(info.codec)
        base["container"] = .string(info.container)
        if let rate = info.frameRate { base["frame_rate"] = .double(rate) }
        if let created = info.creationTime { base["creation_time"] = .string(created) }
        var rows = moments.map { segment -> Row in
            var row = base
            row[MediaSchema.scope] = .string(MediaScope.clip.rawValue)
            row[MediaSchema.start] = .double(segment.start)
            row[MediaSchema.end] = .double(segment.end)
            row[MediaSchema.thumbnail] = .double(segment.thumbnailTime)
            row[MediaSchema.vector] = .vector(segment.vector)
            return row
        }
        var videoRow = base
        videoRow[MediaSchema.scope] = .string(MediaScope.video.rawValue)
        videoRow[MediaSchema.start] = .double(0)
        videoRow[MediaSchema.end] = .double(duration)
        videoRow[MediaSchema.thumbnail] = .double(moments.first?.thumbnailTime ?? 0)
        videoRow[MediaSchema.vector] = .vector(whole)
        rows.append(videoRow)
        return rows
    }

    // MARK: Whole videos (a remote embedder cuts and embeds them)

    /// What became of one video sent to a whole-video embedder.
    private struct WholeVideoOutcome: Sendable {
        var rows: [Row]
        var reused: Bool
        var moments: Int
    }

    /// Sends each video whole to `remote`, `videosInFlight` at a time (most of a video's time is spent
    /// waiting for the provider), and stores each one's rows as soon as it is done. The remote stages show
    /// in the progress reports.
    private func indexWholeVideos(
        _ files: [ScannedFile], with remote: any WholeVideoEmbedder, sources: [String: String], reusable: [String: String],
        known: Set<String>, report: inout IngestReport, tracker: inout ProgressTracker
    ) async throws {
        guard !files.isEmpty else { return }
        let limit = max(1, configuration.videosInFlight)
        let stage = tracker.stageReporter()
        // The address goes instead of the bytes only when it was checked to be public (the provider fetches it).
        let sendsAddresses = configuration.remote.refusesPrivateAddresses
        try await withThrowingTaskGroup(of: (ScannedFile, Result<WholeVideoOutcome, Error>).self) { group in
            var next = 0
            func launch() {
                let file = files[next]
                next += 1
                let source = sources[file.url.path]
                group.addTask {
                    do {
                        return (file, .success(try await self.wholeVideoRows(
                            file, source: source, sendsAddress: sendsAddresses, reusable: reusable, with: remote,
                            stage: { stage($0.rawValue, file.url.path) })))
                    } catch {
                        return (file, .failure(error))
                    }
                }
            }
            while next < min(limit, files.count) { launch() }
            while let (file, outcome) = try await group.next() {
                do {
                    let done = try outcome.get()
                    try await write(done.rows, replacing: known.contains(file.url.path) ? [file.url.path] : [])
                    if done.reused {
                        report.reused += 1
                    } else {
                        report.moments += done.moments
                        report.embedded += done.rows.count
                    }
                } catch let error as CancellationError {
                    throw error
                } catch {
                    report.failures.append(IngestFailure(path: file.url.path, error: error))
                }
                tracker.advance(by: 1, embedded: report.embedded, failed: report.failures.count, current: file.url.path)
                try Task.checkCancellation()
                if next < files.count { launch() }
            }
        }
    }

    /// One video's rows from a whole-video embedder, or a twin's rows when the same bytes are indexed already.
    private func wholeVideoRows(
        _ file: ScannedFile, source: String?, sendsAddress: Bool, reusable: [String: String], with remote: any WholeVideoEmbedder,
        stage: @escaping @Sendable (RemoteVideoStage) -> Void
    ) async throws -> WholeVideoOutcome {
        // Hashing and probing read the file: CPU slots of the bulk lane, not the threads tasks share.
        let executor = configuration.executor
        let sha = try await executor.run(.cpu, lane: .bulk) { try self.hashFile(file.url) }
        if let twin = reusable[sha] {
            return WholeVideoOutcome(rows: try await copiedRows(from: twin, to: file, sha256: sha, source: source), reused: true,
                                     moments: 0)
        }
        guard case .fixed(let seconds) = configuration.segmentation else {
            throw LoupeError(.invalidArgument, "a whole-video embedder cuts fixed-length clips only", input: file.url.path)
        }
        // The stream's fields come from the file itself, as on the local path; nothing is decoded.
        let info = try await executor.run(.cpu, lane: .bulk) { try VideoDecoder().probe(contentsOf: file.url) }
        let address = sendsAddress ? source.flatMap(URL.init(string:)) : nil
        let embedded = try await remote.embed(
            video: WholeVideo(file: file.url, sha256: sha, url: address, segmentSeconds: seconds), stage: stage)
        guard !embedded.clips.isEmpty else {
            throw LoupeError(.invalidArgument, "the embedder answered no clips", input: file.url.path)
        }
        let duration = info.duration ?? embedded.clips.map(\.end).max()!
        // A clip's thumbnail is its middle frame: the provider does not say which frame is most typical.
        let moments = embedded.clips.map { clip in
            VideoSegment(start: clip.start, end: clip.end, thumbnailTime: (clip.start + clip.end) / 2, vector: clip.vector)
        }
        return WholeVideoOutcome(rows: videoRows(file, sha256: sha, source: source, info: info, duration: duration,
                                                 moments: moments, whole: embedded.video),
                                 reused: false, moments: moments.count)
    }

    /// Scene cuts plus extra cuts so no moment is longer than `maxSeconds`.
    static func splitLongScenes(cuts: [Double], duration: Double, maxSeconds: Double) -> [Double] {
        let edges = [0] + cuts.filter { $0 > 0 && $0 < duration }.sorted() + [duration]
        var result: [Double] = []
        for (start, end) in zip(edges, edges.dropFirst()) {
            if start > 0 { result.append(start) }
            // Durations come from the container: a damaged one (or a tiny maxSeconds) must not trap or run away.
            let pieces = min(CheckedArithmetic.saturatingInt(((end - start) / maxSeconds).rounded(.up)), 100_000)
            if pieces > 1 {
                for k in 1..<pieces { result.append(start + (end - start) * Double(k) / Double(pieces)) }
            }
        }
        return result
    }

    // MARK: Bookkeeping

    struct IndexedFile {
        var path: String
        var size: Int64
        var modified: Double
        var sha256: String
    }

    /// One entry per indexed file (image rows and whole-video rows).
    func indexedFiles() async throws -> [String: IndexedFile] {
        let rows = try await store.query(configuration.collection,
                                         matching: .oneOf(MediaSchema.scope, [.string(MediaScope.image.rawValue),
                                                                              .string(MediaScope.video.rawValue)]),
                                         fields: [MediaSchema.path, MediaSchema.size, MediaSchema.modified, MediaSchema.sha256],
                                         limit: nil, offset: 0)
        var files: [String: IndexedFile] = [:]
        for row in rows {
            guard let path = row[MediaSchema.path]?.stringValue else { continue }
            files[path] = IndexedFile(path: path, size: row[MediaSchema.size]?.intValue ?? -1,
                                      modified: row[MediaSchema.modified]?.doubleValue ?? -1,
                                      sha256: row[MediaSchema.sha256]?.stringValue ?? "")
        }
        return files
    }

    private func hashFile(_ url: URL) throws -> String {
        var hasher = SHA256()
        let handle = try FileHandle(forReadingFrom: url)
        defer { try? handle.close() }
        while let chunk = try handle.read(upToCount: 4 << 20), !chunk.isEmpty { hasher.update(data: chunk) }
        return hasher.finalize().map { String(format: "%02x", $0) }.joined()
    }

    /// Fetches a URL into the library's downloads folder (named by the URL's hash, so a second run reuses it).
    private func download(_ url: URL) async throws -> (ScannedFile, String) {
        /// The kind of media the bytes are, by the classifier the scanner and the decoders agree on.
        func mediaKind(_ format: MediaFormat?) throws -> MediaKind {
            switch format {
            case .image: return .image
            case .video: return .video
            case .unsupported(let name):
                throw LoupeError(.invalidArgument, "\(name) pictures are not decoded", input: url.absoluteString)
            case nil:
                throw LoupeError(.invalidArgument, "not an image or video Loupe reads", input: url.absoluteString)
            }
        }
        let folder = dataDirectory.appendingPathComponent("downloads")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let key = SHA256.hash(data: Data(url.absoluteString.utf8)).prefix(16).map { String(format: "%02x", $0) }.joined()
        let ext = url.pathExtension.isEmpty ? "bin" : String(url.pathExtension.prefix(8))
        let destination = folder.appendingPathComponent("\(key).\(ext)")
        if !FileManager.default.fileExists(atPath: destination.path) {
            let data = try await RemoteFetcher(limits: configuration.remote).fetch(url)
            _ = try mediaKind(MediaFormat.detect(data))
            try data.write(to: destination, options: .atomic)
        }
        let values = try destination.resourceValues(forKeys: [.fileSizeKey, .contentModificationDateKey])
        let kind = try mediaKind(MediaFormat.detect(contentsOf: destination))
        return (ScannedFile(url: destination, size: Int64(values.fileSize ?? 0),
                            modified: values.contentModificationDate?.timeIntervalSince1970 ?? 0, kind: kind),
                url.absoluteString)
    }
}

/// Counts work done and reports it, at most ten times a second (and always at the end).
struct ProgressTracker {
    let total: Int
    let started: ContinuousClock.Instant
    let clock: ContinuousClock
    let report: @Sendable (IngestProgress) -> Void
    var done = 0
    /// The last progress reported, for stage reports from other tasks.
    private let last = LastProgress()

    init(total: Int, started: ContinuousClock.Instant, clock: ContinuousClock, report: @escaping @Sendable (IngestProgress) -> Void) {
        self.total = total
        self.started = started
        self.clock = clock
        self.report = report
    }

    mutating func advance(by count: Int, embedded: Int, failed: Int, current: String?) {
        done += count
        let progress = IngestProgress(filesDone: done, filesTotal: total, embedded: embedded, failed: failed,
                                      elapsed: clock.now - started, current: current)
        last.set(progress)
        report(progress)
    }

    /// A reporter, callable from any task, of where a remote embedder stands with a file: the counts of the
    /// last report, with the file as `current` and the stage.
    func stageReporter() -> @Sendable (_ stage: String, _ file: String) -> Void {
        let last = last, report = report, clock = clock, started = started, total = total
        return { stage, file in
            var progress = last.get() ?? IngestProgress(filesDone: 0, filesTotal: total, embedded: 0, failed: 0, elapsed: .zero,
                                                        current: nil)
            progress.elapsed = clock.now - started
            progress.current = file
            progress.stage = stage
            report(progress)
        }
    }

    final class LastProgress: @unchecked Sendable {
        private let lock = NSLock()
        private var progress: IngestProgress?
        func set(_ value: IngestProgress) { lock.withLock { progress = value } }
        func get() -> IngestProgress? { lock.withLock { progress } }
    }
}

/// Video frames decoded on a dedicated thread into batches, with back-pressure: the decoder waits while
/// `ahead` batches are queued and not yet embedded. With a scene detector, every frame decoded goes through
/// it and only the frames of every `every`-th sampling time are batched.
final class FrameBatches: @unchecked Sendable {
    let stream: AsyncThrowingStream<[(Double, RGBImage)], Error>
    private let permits: DispatchSemaphore
    private let lock = NSLock()
    private var stopped = false
    private var foundCuts: [Double] = []

    /// The scene cuts found, once the stream has finished.
    var cuts: [Double] { lock.withLock { foundCuts } }

    private init(stream: AsyncThrowingStream<[(Double, RGBImage)], Error>, ahead: Int) {
        self.stream = stream
        permits = DispatchSemaphore(value: ahead)
    }

    static func decode(_ url: URL, decoder: VideoDecoder, batchSize: Int, ahead: Int, every: Int = 1,
                       detector: SceneDetector? = nil) -> FrameBatches {
        let (stream, continuation) = AsyncThrowingStream<[(Double, RGBImage)], Error>.makeStream()
        let batches = FrameBatches(stream: stream, ahead: ahead)
        let thread = Thread {
            var batch: [(Double, RGBImage)] = []
            var detector = detector
            do {
                try decoder.sample(contentsOf: url) { frame in
                    if detector != nil, let cut = detector!.process(frame) { batches.lock.withLock { batches.foundCuts.append(cut) } }
                    // The first multiple of `every` at or after the frame's first sampling time, if it stands for it.
                    let wanted = (frame.samples.lowerBound + every - 1) / every * every
                    guard every == 1 || frame.samples.contains(wanted) else { return !batches.isStopped }
                    batch.append((frame.timestamp, try RGBImage(width: frame.width, height: frame.height, pixels: frame.pixels)))
                    if batch.count == batchSize {
                        batches.permits.wait()
                        continuation.yield(batch)
                        batch.removeAll(keepingCapacity: true)
                    }
                    return !batches.isStopped
                }
                if !batch.isEmpty { continuation.yield(batch) }
                continuation.finish()
            } catch {
                continuation.finish(throwing: error)
            }
        }
        thread.name = "loupe.video-decode"
        thread.start()
        continuation.onTermination = { _ in batches.stop() }
        return batches
    }

    /// One queued batch has been embedded: the decoder may go on.
    func consumed() { permits.signal() }

    /// Ends decoding early (an error or cancellation downstream).
    func stop() {
        lock.withLock { stopped = true }
        permits.signal()
    }

    private var isStopped: Bool { lock.withLock { stopped } }
}
