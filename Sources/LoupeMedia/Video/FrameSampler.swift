import CFFmpeg

/// Decides which decoded frames to keep for a target sampling rate, scales the kept ones to the
/// output size and turns them upright.
struct FrameSampler {
    let info: VideoInfo
    let timeBase: Double
    let startTime: Int64
    let interval: Double
    let frameDuration: Double
    /// How far before a stretch's keyframe the targets it owns begin (see `owns(_:from:)`).
    let handoff: Double
    /// When the last frame shows, if the header's frame count, rate and duration agree on it (constant
    /// rate): no frame is kept once `earliest` lies past it, so decoding can stop before the end of the file.
    let lastFrameTime: Double?
    let outputSize: (width: Int, height: Int)
    let path: String
    /// The index `k` of the next sampling time, `k * interval` seconds.
    private(set) var targetIndex = 0
    /// The time, in seconds, the next kept frame should show.
    var nextTarget: Double { time(ofTarget: targetIndex) }
    /// The earliest time a frame may show to be kept for `nextTarget` (half a frame early, or
    /// earlier when a nearby keyframe stands in for the target).
    var earliest = 0.0
    /// Keep only keyframes for the next target (set while the decoder discards everything else:
    /// a non-key frame that still comes out then was decoded without its references).
    var requiresKeyframe = false
    private var scaler: ScaleContext?

    init(info: VideoInfo, stream: UnsafeMutablePointer<AVStream>, configuration: VideoDecoder.Configuration, path: String) {
        self.info = info
        self.path = path
        timeBase = av_q2d(stream.pointee.time_base)
        startTime = stream.pointee.start_time == loupe_av_nopts_value() ? 0 : stream.pointee.start_time
        interval = 1 / max(configuration.framesPerSecond, 1e-6)
        frameDuration = 1 / (info.frameRate ?? 25)
        earliest = -frameDuration / 2
        if let count = info.frameCount, let rate = info.frameRate, let duration = info.duration,
            abs(duration - Double(count) / rate) < 0.5 / rate
        {
            lastFrameTime = Double(count - 1) / rate
        } else {
            lastFrameTime = nil
        }
        handoff = configuration.keyframeTolerance > 0 && configuration.skipsUnneededFrames
            ? configuration.keyframeTolerance + 1e-9 : frameDuration / 2
        // The scaled size is computed on the displayed picture, then mapped back to stored axes.
        var width = info.width
        var height = info.height
        if let side = configuration.shortSide, side < min(width, height) {
            if width <= height {
                height = max(1, CheckedArithmetic.saturatingInt((Double(height) * Double(side) / Double(width)).rounded()))
                width = side
            } else {
                width = max(1, CheckedArithmetic.saturatingInt((Double(width) * Double(side) / Double(height)).rounded()))
                height = side
            }
        }
        outputSize = info.rotation % 180 == 0 ? (width, height) : (height, width)
    }

    /// Starts sampling at a stretch of the file whose first frame shows at `start` seconds, with the first
    /// target that stretch owns (see `owns(_:from:)`).
    mutating func begin(at start: Double) {
        var index = CheckedArithmetic.saturatingInt((start - handoff) / interval)
        while !owns(time(ofTarget: index), from: start) { index += 1 }
        targetIndex = max(0, index)
        earliest = nextTarget - frameDuration / 2
        requiresKeyframe = false
    }

    /// Skips the sampling times before `time` seconds.
    mutating func skip(to time: Double) {
        var index = max(targetIndex, CheckedArithmetic.saturatingInt(time / interval))
        while self.time(ofTarget: index) < time - 1e-9 { index += 1 }
        targetIndex = index
        earliest = nextTarget - frameDuration / 2
    }

    /// Seconds of the sampling time with index `index` (computed, not accumulated, so every decoder agrees).
    func time(ofTarget index: Int) -> Double { Double(index) * interval }

    /// Whether `target` belongs to a stretch of the file starting at `start` (a keyframe) rather than to the
    /// stretch before it: past `start` minus half a frame, so the frame picked is the one the whole-file
    /// pass would pick, or with a keyframe tolerance, within the tolerance before the keyframe, which then
    /// stands in for it.
    func owns(_ target: Double, from start: Double) -> Bool { target > start - handoff }

    /// Whether every frame left to show comes before `earliest` (a quarter frame spare for rounding).
    var isPastLastFrame: Bool { lastFrameTime.map { earliest > $0 + frameDuration / 4 } ?? false }

    /// A timestamp in the stream's time base for `seconds` from the stream start.
    /// Saturates rather than traps for times beyond the range a timestamp can hold.
    func timestamp(_ seconds: Double) -> Int64 {
        CheckedArithmetic.add(startTime, CheckedArithmetic.saturatingInt64(seconds / timeBase))
    }

    /// Seconds from the stream start for a timestamp in the stream's time base.
    func seconds(_ timestamp: Int64) -> Double { (Double(timestamp) - Double(startTime)) * timeBase }

    /// The earliest time a frame may show to be kept for the last target a frame showing at `time`
    /// could be kept for (at or after `earliest`).
    func earliestTime(forLastTargetBy time: Double) -> Double {
        let steps = max(0, CheckedArithmetic.saturatingInt((time + frameDuration / 2 - nextTarget) / interval))
        return self.time(ofTarget: targetIndex.addingReportingOverflow(steps).overflow ? .max : targetIndex + steps) - frameDuration / 2
    }

    /// Whether, once the frame showing at `time` is kept for the next target, every target after it
    /// lies at or past `upper` (a later stretch's) or after the last frame of the file.
    func wantsNothing(after time: Double, before upper: Double) -> Bool {
        var index = targetIndex
        repeat { index += 1 } while self.time(ofTarget: index) <= time + frameDuration / 2
        let target = self.time(ofTarget: index)
        if upper < .infinity && owns(target, from: upper) { return true }
        return lastFrameTime.map { target - frameDuration / 2 > $0 + frameDuration / 4 } ?? false
    }

    /// Keeps `frame` if it is the first to reach the next target; returns what `body` returns
    /// (true when no frame was kept).
    mutating func offer(_ frame: Frame, to body: (VideoFrame) throws -> Bool) throws -> Bool {
        let timestamp = frame.pointer.pointee.best_effort_timestamp
        guard timestamp != loupe_av_nopts_value() else { return true }
        let time = seconds(timestamp)
        guard time >= earliest, !requiresKeyframe || frame.pointer.pointee.key_frame != 0 else { return true }
        let first = targetIndex
        repeat { targetIndex += 1 } while nextTarget <= time + frameDuration / 2
        earliest = nextTarget - frameDuration / 2
        requiresKeyframe = false

        if scaler == nil || !scaler!.matches(frame) {
            scaler = try ScaleContext(
                from: (frame.width, frame.height, frame.pixelFormat), to: (outputSize.width, outputSize.height, AV_PIX_FMT_RGB24),
                flags: SWS_BILINEAR | SWS_ACCURATE_RND, path: path)
            scaler!.useColorimetry(of: frame)
        }
        let count = outputSize.width * outputSize.height * 3
        let pixels = [UInt8](unsafeUninitializedCapacity: count) { buffer, initialized in
            scaler!.scale(frame, into: buffer.baseAddress!)
            initialized = count
        }
        let upright = Orientation.apply(info.orientation, pixels: pixels, width: outputSize.width, height: outputSize.height)
        return try body(VideoFrame(timestamp: time, width: upright.width, height: upright.height, pixels: upright.pixels,
                                   samples: first..<targetIndex))
    }
}
