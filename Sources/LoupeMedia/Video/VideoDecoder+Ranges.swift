import CFFmpeg
import Foundation

extension VideoDecoder {
    /// Samples `ranges` on `workers` threads, each with its own demuxer and single-threaded decoder, and
    /// hands the frames to `body` on the calling thread in time order.
    ///
    /// A decoder's frames wait until every earlier range has been handed over; a decoder starts a range
    /// only while fewer than `workers + 1` finished or started ranges are waiting, which bounds memory.
    func sampleInParallel(
        _ url: URL, info: VideoInfo, streamIndex: Int32, ranges: [KeyframeRange], workers: Int,
        _ body: (VideoFrame) throws -> Bool
    ) throws {
        let board = RangeBoard(count: ranges.count, ahead: workers + 1)
        defer { board.stop() }
        for worker in 0..<workers {
            let thread = Thread { [self] in
                do {
                    try decodeRanges(url, info: info, streamIndex: streamIndex, ranges: ranges, board: board)
                } catch {
                    board.fail(error)
                }
            }
            thread.name = "loupe.video-range-\(worker)"
            thread.start()
        }
        for index in ranges.indices {
            let (frames, error) = try board.wait(for: index)
            for frame in frames {
                guard try body(frame) else { return }
            }
            if let error { throw error }
        }
    }

    /// One worker: claims ranges from `board` until none are left, decoding each from its keyframe.
    private func decodeRanges(
        _ url: URL, info: VideoInfo, streamIndex: Int32, ranges: [KeyframeRange], board: RangeBoard
    ) throws {
        let input = try InputContext(path: url.path, streamInfo: .skipIfHeaderDescribes(stream: streamIndex))
        guard streamIndex < input.pointer.pointee.nb_streams, let stream = input.pointer.pointee.streams[Int(streamIndex)] else {
            throw MediaError(code: .corrupt, message: "the video stream is missing on a second reading", path: url.path)
        }
        let context = try decoderContext(for: stream, path: url.path, threads: 1)
        while let index = board.claim() {
            let range = ranges[index]
            var frames: [VideoFrame] = []
            var failure: (any Error)?
            do {
                guard input.seek(stream: streamIndex, to: range.seekTarget) else {
                    throw MediaError(code: .corrupt, message: "seeking to a keyframe failed", path: url.path)
                }
                context.flush()
                var sampler = FrameSampler(info: info, stream: stream, configuration: configuration, path: url.path)
                if range.start > -.infinity { sampler.begin(at: range.start) }
                var planner = SkipPlanner(stream: stream, tolerance: configuration.keyframeTolerance, range: range)
                _ = try decode(input, stream: stream, context: context, sampler: &sampler, planner: &planner, range: range) {
                    frames.append($0)
                    return !board.isStopped
                }
            } catch {
                failure = error
            }
            board.finish(index, frames: frames, error: failure)
        }
    }
}

/// Where range workers and the consumer meet: which range to decode next, and the finished ones.
private final class RangeBoard: @unchecked Sendable {
    private let condition = NSCondition()
    private let count: Int
    private let ahead: Int
    private var claimed = 0
    private var consumed = 0
    private var stopped = false
    private var finished: [Int: ([VideoFrame], (any Error)?)] = [:]
    /// An error that ended a worker outside any range (opening the file): it fails every range left.
    private var failure: (any Error)?

    init(count: Int, ahead: Int) {
        self.count = count
        self.ahead = ahead
    }

    /// The next range to decode, once few enough are waiting; nil when all are taken or sampling stopped.
    func claim() -> Int? {
        condition.lock()
        defer { condition.unlock() }
        while !stopped && claimed < count && claimed >= consumed + ahead { condition.wait() }
        guard !stopped, claimed < count else { return nil }
        claimed += 1
        return claimed - 1
    }

    func finish(_ index: Int, frames: [VideoFrame], error: (any Error)?) {
        condition.lock()
        finished[index] = (frames, error)
        condition.broadcast()
        condition.unlock()
    }

    func fail(_ error: any Error) {
        condition.lock()
        if failure == nil { failure = error }
        condition.broadcast()
        condition.unlock()
    }

    /// The frames of range `index` (and the error that cut it short), once decoded.
    func wait(for index: Int) throws -> ([VideoFrame], (any Error)?) {
        condition.lock()
        defer { condition.unlock() }
        while finished[index] == nil {
            if let failure { throw failure }
            condition.wait()
        }
        consumed = index + 1
        condition.broadcast()
        return finished.removeValue(forKey: index)!
    }

    /// Ends sampling early: workers finish the range at hand and claim no more.
    func stop() {
        condition.lock()
        stopped = true
        condition.broadcast()
        condition.unlock()
    }

    var isStopped: Bool {
        condition.lock()
        defer { condition.unlock() }
        return stopped
    }
}
