import CFFmpeg
import Foundation

/// Probes video files and decodes frames sampled at a steady rate, scaled in FFmpeg straight to the
/// size a model needs and turned upright by the stream's display matrix.
///
/// ```swift
/// var decoder = VideoDecoder()
/// decoder.configuration.shortSide = 224
/// try decoder.sample(contentsOf: url) { frame in
///     print(frame.timestamp, frame.width, frame.height)
///     return true   // keep going
/// }
/// ```
public struct VideoDecoder: Sendable {
    /// Settings for `VideoDecoder`.
    public struct Configuration: Sendable {
        /// Frames kept per second of video (default 1).
        public var framesPerSecond = 1.0
        /// Scale frames so the shorter displayed side is this long (never enlarging); nil keeps the full size.
        public var shortSide: Int?
        /// Streams with more pixels per frame are refused with `.tooManyPixels` (default 100 megapixels).
        public var maxPixels = 100_000_000
        /// Decoder threads; 0 lets FFmpeg pick one per core. Only used when one decoder reads the whole file.
        public var threads = 0
        /// Decoders that sample disjoint keyframe-delimited stretches of the file at once, each on its own
        /// thread with one FFmpeg thread; the frames still come out in order (0, the default: one per core;
        /// 1: a single decoder with `threads`). Files without a keyframe index, or whose groups of pictures
        /// are open (frames shown before a keyframe but decoded after it), always use a single decoder.
        public var rangeWorkers = 0
        /// Skip what the samples do not need (default true): non-reference frames well before the
        /// next sample are not decoded, and when a keyframe lies between the decoder's position and
        /// the next sample, the demuxer seeks to it instead of decoding the frames in between.
        public var skipsUnneededFrames = true
        /// When a keyframe lies within this many seconds of a sampling target, that keyframe is
        /// taken instead of the exact frame, and only keyframes are decoded to reach it (0, the
        /// default: every sample is the frame at its target time). Timestamps stay those of the
        /// frames returned. Needs `skipsUnneededFrames`.
        public var keyframeTolerance = 0.0
        /// Sampling times before this many seconds are skipped: the decoder seeks to the keyframe before the
        /// first one at or after it (default 0: from the start). For a stretch of a long video, with the body
        /// returning false past its end.
        public var startTime = 0.0

        /// The defaults: 1 frame per second at full size, 100-megapixel limit, skipping on, exact times.
        public init() {}

        /// The largest `framesPerSecond` accepted.
        public static let maximumFramesPerSecond = 1000.0
        /// The latest `startTime` accepted, in seconds (about 31 years): sampling-time arithmetic stays exact.
        public static let maximumStartTime = 1e9

        /// Checks the numbers before any arithmetic uses them (they may come from a request).
        ///
        /// - Throws: `MediaError` with code `.invalidArgument` naming the setting and its value.
        func validate(path: String) throws {
            func fail(_ message: String) -> MediaError { MediaError(code: .invalidArgument, message: message, path: path) }
            guard framesPerSecond.isFinite, framesPerSecond > 0, framesPerSecond <= Self.maximumFramesPerSecond else {
                throw fail("frames per second \(framesPerSecond) must be a number above 0 and at most \(Self.maximumFramesPerSecond)")
            }
            guard startTime.isFinite, startTime >= 0, startTime <= Self.maximumStartTime else {
                throw fail("start time \(startTime) s must be a number from 0 to \(Self.maximumStartTime)")
            }
            guard keyframeTolerance.isFinite, keyframeTolerance >= 0, keyframeTolerance <= 3600 else {
                throw fail("keyframe tolerance \(keyframeTolerance) s must be a number from 0 to 3600")
            }
            if let shortSide, !(1...65536).contains(shortSide) {
                throw fail("short side \(shortSide) must be within 1...65536")
            }
        }
    }

    /// The settings in use.
    public var configuration: Configuration

    /// A decoder with `configuration`.
    public init(configuration: Configuration = Configuration()) {
        self.configuration = configuration
    }

    /// Reads the container and stream headers of the file at `url`.
    ///
    /// - Throws: `MediaError` naming the file: `.unreadable`, `.notAnImage` (not a media file),
    ///   `.notAVideo` (no video stream).
    public func probe(contentsOf url: URL) throws -> VideoInfo {
        let input = try open(url)
        return try info(input, stream: videoStream(input))
    }

    /// Decodes the frames nearest to `0, 1/fps, 2/fps, ...` seconds and hands each to `body`,
    /// which returns false to stop early.
    ///
    /// Timestamps count from the stream's first frame; each sampled frame is the first whose
    /// presentation time reaches the target minus half a frame.
    public func sample(contentsOf url: URL, _ body: (VideoFrame) throws -> Bool) throws {
        try configuration.validate(path: url.path)
        var input = try open(url)
        var stream = try videoStream(input)
        let info = try info(input, stream: stream)
        let base = stream.pointee.time_base
        guard base.num > 0, base.den > 0 else {
            throw MediaError(code: .corrupt, message: "the video stream's time base \(base.num)/\(base.den) is not a positive fraction",
                             path: url.path)
        }
        // A start past the end samples nothing (and keeps the arithmetic on sampling times in range).
        if let duration = info.duration, configuration.startTime > duration { return }
        let (pixels, overflow) = info.storedWidth.multipliedReportingOverflow(by: info.storedHeight)
        guard !overflow, pixels <= configuration.maxPixels else {
            throw MediaError(
                code: .tooManyPixels, message: "\(info.storedWidth)x\(info.storedHeight) frames exceed the limit of \(configuration.maxPixels) pixels",
                path: url.path)
        }
        let workers = configuration.rangeWorkers > 0 ? configuration.rangeWorkers : ProcessInfo.processInfo.activeProcessorCount
        // A stretch from the middle of a file is reached by seeking, by one decoder.
        if workers > 1 && configuration.startTime <= 0 {
            if let ranges = KeyframeRanges.plan(input, stream: stream, info: info, configuration: configuration, workers: workers) {
                return try sampleInParallel(url, info: info, streamIndex: stream.pointee.index, ranges: ranges,
                                            workers: min(workers, ranges.count), body)
            }
            // Planning read the file from several places: start again from the beginning with one decoder.
            input = try open(url)
            stream = try videoStream(input)
        }
        let context = try decoderContext(for: stream, path: url.path, threads: configuration.threads)
        var sampler = FrameSampler(info: info, stream: stream, configuration: configuration, path: url.path)
        if configuration.startTime > 0 { sampler.skip(to: configuration.startTime) }
        var planner = SkipPlanner(stream: stream, tolerance: configuration.keyframeTolerance)
        _ = try decode(input, stream: stream, context: context, sampler: &sampler, planner: &planner, range: nil, body)
    }

    /// An opened decoder for `stream`.
    func decoderContext(for stream: UnsafeMutablePointer<AVStream>, path: String, threads: Int) throws -> CodecContext {
        let context = try CodecContext.decoder(for: stream.pointee.codecpar.pointee.codec_id, path: path)
        try FFmpegResult.check(
            avcodec_parameters_to_context(context.pointer, stream.pointee.codecpar), "configuring the decoder",
            stage: .open, path: path)
        context.pointer.pointee.pkt_timebase = stream.pointee.time_base
        context.pointer.pointee.thread_count = Int32(threads)
        try context.open(stage: .decode)
        return context
    }

    /// Reads and decodes from the input's position, handing sampled frames to `body`, to the end of the
    /// file or, with `range`, to the end of that stretch (the input is expected at the range's keyframe).
    ///
    /// - Returns: false when `body` asked to stop.
    func decode(
        _ input: InputContext, stream: UnsafeMutablePointer<AVStream>, context: CodecContext, sampler: inout FrameSampler,
        planner: inout SkipPlanner, range: KeyframeRange?, _ body: (VideoFrame) throws -> Bool
    ) throws -> Bool {
        let packet = try Packet()
        let frame = try Frame()
        let index = stream.pointee.index
        let lower = range?.start ?? -.infinity
        let upper = range?.end ?? .infinity
        var running = true
        var stopped = false
        // Keeps a decoded frame when it belongs to this stretch; false once frames pass its end or `body` says stop.
        func offer(_ frame: Frame) throws -> Bool {
            let timestamp = frame.pointer.pointee.best_effort_timestamp
            if timestamp != loupe_av_nopts_value() {
                let time = sampler.seconds(timestamp)
                if time >= upper { return false }
                if time < lower { return true }
            }
            stopped = try !sampler.offer(frame, to: body)
            return !stopped
        }
        reading: while running {
            if configuration.skipsUnneededFrames, let seek = planner.plan(for: &sampler),
                input.seek(stream: index, to: seek)
            {
                context.flush()
                planner.didSeek()
            }
            // Every target left belongs to the next stretch: its decoder takes them from there.
            if upper < .infinity && sampler.owns(sampler.nextTarget, from: upper) { return true }
            // No frame left in the file is late enough for the next target.
            if configuration.skipsUnneededFrames && sampler.isPastLastFrame { return true }
            guard try input.read(into: packet) else { break }
            defer { packet.unreference() }
            guard packet.pointer.pointee.stream_index == index else { continue }
            if let range, let end = range.endKeyframe, packet.pointer.pointee.flags & AV_PKT_FLAG_KEY != 0,
                packet.pointer.pointee.dts >= end
            {
                // The next stretch starts here. Frames of an open group that show before its keyframe are
                // this stretch's to decode (it holds their references): read on until they are out (`offer`
                // stops at the first frame showing from the keyframe on), at most to the keyframe after.
                if !range.endsOpen || packet.pointer.pointee.dts > end { break reading }
            }
            // The last frame wanted is with the decoder: drain it instead of decoding more to push it out.
            // Only in a stretch, whose group of pictures was checked to be closed: after a seek elsewhere a
            // decoder may drop frames that show before the keyframe it resumed at.
            if configuration.skipsUnneededFrames, range != nil, let shown = planner.settled(by: packet, sampler: sampler),
                shown >= lower, sampler.wantsNothing(after: shown, before: upper)
            {
                break reading
            }
            planner.read(packet)
            var discard = AVDISCARD_DEFAULT
            if configuration.skipsUnneededFrames {
                discard = planner.discard(packet, sampler: sampler)
                context.pointer.pointee.skip_frame = discard
            }
            let accepted = context.sendTolerantly(packet)
            if accepted { planner.sent(packet, discard: discard, sampler: sampler) }
            while accepted, running, try context.receiveTolerantly(into: frame) {
                running = try offer(frame)
                frame.unreference()
            }
            if context.damaged { planner.distrust() }
        }
        if running {
            context.pointer.pointee.skip_frame = AVDISCARD_DEFAULT
            context.sendTolerantly(nil)
            while running, try context.receiveTolerantly(into: frame) {
                running = try offer(frame)
                frame.unreference()
            }
        }
        return !stopped
    }

    /// Every sampled frame, in order.
    public func sampleFrames(contentsOf url: URL) throws -> [VideoFrame] {
        var frames: [VideoFrame] = []
        try sample(contentsOf: url) { frames.append($0); return true }
        return frames
    }

    func open(_ url: URL) throws -> InputContext {
        guard FileManager.default.isReadableFile(atPath: url.path) else {
            throw MediaError(code: .unreadable, message: "the file does not exist or cannot be read", path: url.path)
        }
        if let size = try? FileManager.default.attributesOfItem(atPath: url.path)[.size] as? Int, size == 0 {
            throw MediaError(code: .emptyFile, message: "the file is empty", path: url.path)
        }
        return try InputContext(path: url.path, streamInfo: .skipIfMP4HeaderDescribesVideo)
    }

    func videoStream(_ input: InputContext) throws -> UnsafeMutablePointer<AVStream> {
        guard let stream = input.bestVideoStream() else {
            throw MediaError(code: .notAVideo, message: "the file has no video stream", path: input.path)
        }
        return stream
    }

    private func info(_ input: InputContext, stream: UnsafeMutablePointer<AVStream>) throws -> VideoInfo {
        let parameters = stream.pointee.codecpar.pointee
        let format = input.pointer.pointee.iformat.pointee
        // FFmpeg's "image2" demuxer is chosen by file extension alone, so any file named .png
        // opens as a one-frame "video"; a stream without a size is nothing it could decode either.
        if String(cString: format.name) == "image2" || parameters.width <= 0 || parameters.height <= 0 {
            throw MediaError(code: .notAnImage, message: "not a video or image FFmpeg can read", path: input.path)
        }
        let rotation = loupe_stream_rotation(stream)
        // FFmpeg reports the display matrix's rotation counter-clockwise; players turn the picture back.
        let clockwise = rotation.isFinite ? (CheckedArithmetic.saturatingInt((-rotation).rounded()) % 360 + 360) % 360 : 0
        // The nominal rate (r_frame_rate) is what players show for constant-rate video; the average
        // can be a little off when an edit list trims the first frames. Fall back to the average for
        // variable-rate video, where the two disagree.
        let average = stream.pointee.avg_frame_rate
        let nominal = stream.pointee.r_frame_rate
        var rate = average
        if nominal.num > 0 && nominal.den > 0
            && (average.num <= 0 || abs(av_q2d(nominal) / av_q2d(average) - 1) < 0.05)
        {
            rate = nominal
        }
        // The container's duration is what players show (an MP4 edit list can leave the stream's a
        // frame short); the stream's is the fallback for containers that do not record one.
        var duration: Double?
        if input.pointer.pointee.duration != loupe_av_nopts_value() && input.pointer.pointee.duration > 0 {
            duration = Double(input.pointer.pointee.duration) / Double(loupe_av_time_base())
        } else if stream.pointee.duration != loupe_av_nopts_value() && stream.pointee.duration > 0 {
            duration = Double(stream.pointee.duration) * av_q2d(stream.pointee.time_base)
        }
        return VideoInfo(
            container: String(cString: format.name),
            codec: String(cString: avcodec_get_name(parameters.codec_id)),
            storedWidth: Int(parameters.width), storedHeight: Int(parameters.height),
            rotation: [0, 90, 180, 270].min { abs($0 - clockwise) < abs($1 - clockwise) } ?? 0,
            duration: duration,
            frameRate: rate.den > 0 && rate.num > 0 ? av_q2d(rate) : nil,
            frameCount: stream.pointee.nb_frames > 0 ? Int(stream.pointee.nb_frames) : nil,
            creationTime: input.metadata("creation_time") ?? input.metadata("creation_time", stream: stream))
    }
}
