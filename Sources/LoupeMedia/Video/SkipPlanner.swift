import CFFmpeg

/// Decides, before each packet, what the decoder may skip on the way to the next sample: a seek
/// over a whole group of pictures, non-reference frames that cannot be the sample, or (with a
/// keyframe tolerance) everything but the keyframe standing in for the target. It also tells when
/// the frame for the next sample has been handed to the decoder, so the decoder can be drained
/// rather than fed frames that only push it out.
struct SkipPlanner {
    let stream: UnsafeMutablePointer<AVStream>
    let tolerance: Double
    /// Keyframes at or after this index (decode) time are out of reach (they start another decoder's stretch).
    let limit: Int64?
    /// The furthest decode timestamp read so far.
    private var lastRead = Int64.min
    private var plannedTarget = -1.0
    private var keyframesOnly = false
    private var keyframeRead = false
    /// How far keyframes' display times trail their decode times (the B-frame delay), once seen.
    private var reorderDelay: Int64?
    /// Display times of the frames sure to come out of the decoder since it started or last sought:
    /// packets it accepted with nothing allowed to be discarded (those well before the next sample are
    /// dropped as it advances).
    private var shown: [Int64] = []
    /// False once a packet showed before it decodes, lacked a time, or went back in decode time, or the
    /// decoder met damaged data: then `settled(by:sampler:)` never answers and only frames showing
    /// before the next sample's earliest time are skipped.
    private var trusted = true
    /// The decode time of the last packet read since the last seek.
    private var lastDTS: Int64?

    /// Frames a seek must jump over to be worth flushing the frames in flight.
    static let seekGain = 12.0

    /// A planner for a decoder at the start of the file, or (with `range`) one that has just sought to
    /// the range's keyframe and must neither seek back before it nor reach past the range's end.
    init(stream: UnsafeMutablePointer<AVStream>, tolerance: Double, range: KeyframeRange? = nil) {
        self.stream = stream
        self.tolerance = tolerance
        limit = range?.endKeyframe
        if let range { lastRead = range.keyframe }
    }

    /// Called once per loop; returns a timestamp to seek to when the next target is better reached that way.
    mutating func plan(for sampler: inout FrameSampler) -> Int64? {
        guard sampler.nextTarget != plannedTarget else { return nil }
        plannedTarget = sampler.nextTarget
        keyframesOnly = false
        keyframeRead = false
        sampler.requiresKeyframe = false
        let target = sampler.nextTarget
        let frame = sampler.frameDuration
        if tolerance > 0, let key = keyframe(atOrBefore: sampler.timestamp(target + tolerance)),
            sampler.seconds(key) >= target - tolerance - 3 * frame, key > lastRead
        {
            // Decode only that keyframe (index times are decode times, a few frames before display).
            keyframesOnly = true
            sampler.requiresKeyframe = true
            sampler.earliest = min(sampler.earliest, sampler.seconds(key) - frame / 2)
            return jump(to: key, sampler: sampler, minimum: 1)
        }
        // Index entries carry decode times, which precede display times by the reordering delay:
        // search that much early (three frames until a keyframe has shown it) for a keyframe that is
        // shown no later than the target.
        let early = reorderDelay ?? CheckedArithmetic.subtract(sampler.timestamp(3 * frame), sampler.timestamp(0))
        guard let key = keyframe(atOrBefore: CheckedArithmetic.subtract(sampler.timestamp(target), early)) else { return nil }
        return jump(to: key, sampler: sampler, minimum: Self.seekGain)
    }

    /// The timestamp to seek to for the keyframe whose index (decode) time is `key`, when that
    /// skips at least `frames` frames: the keyframe's display time, since demuxers such as MP4's
    /// seek by display time and would otherwise land on the keyframe before.
    private mutating func jump(to key: Int64, sampler: FrameSampler, minimum frames: Double) -> Int64? {
        let gain = CheckedArithmetic.subtract(sampler.timestamp(frames * sampler.frameDuration), sampler.timestamp(0))
        guard lastRead == .min || key > CheckedArithmetic.add(lastRead, gain) else { return nil }
        lastRead = key
        return CheckedArithmetic.add(key, reorderDelay ?? 0)
    }

    /// Records a packet read from the stream.
    ///
    /// Only packets up to the stand-in keyframe are discarded: the ones after it are decoded as
    /// usual, so the frames that follow keep their references if a later target needs them.
    mutating func read(_ packet: Packet) {
        let p = packet.pointer.pointee
        if p.flags & AV_PKT_FLAG_KEY != 0 {
            if keyframesOnly { keyframeRead = true }
            if p.pts != loupe_av_nopts_value() && p.dts != loupe_av_nopts_value() && p.pts >= p.dts {
                reorderDelay = max(reorderDelay ?? 0, CheckedArithmetic.subtract(p.pts, p.dts))
            }
        }
        if p.dts != loupe_av_nopts_value() { lastRead = max(lastRead, p.dts) }
        if p.pts == loupe_av_nopts_value() || p.dts == loupe_av_nopts_value() || p.pts < p.dts
            || lastDTS.map({ p.dts < $0 }) == true
        {
            trusted = false
        }
        if p.dts != loupe_av_nopts_value() { lastDTS = p.dts }
    }

    /// Records that the decoder accepted `packet` with `discard` in force.
    mutating func sent(_ packet: Packet, discard: AVDiscard, sampler: FrameSampler) {
        let p = packet.pointer.pointee
        // Only frames sure to come out may stand in the way of others (a discarded non-reference frame,
        // or a reference frame that was allowed to be, is simply not counted).
        guard discard == AVDISCARD_DEFAULT, p.pts != loupe_av_nopts_value(), p.flags & AV_PKT_FLAG_DISCARD == 0 else { return }
        // Display times a second or more before the next sample can no longer matter.
        let horizon = sampler.earliest - 1
        shown.removeAll { sampler.seconds($0) < horizon }
        shown.append(p.pts)
    }

    /// The decoder met damaged data: a frame sent may not come out, so stop reasoning from what was sent.
    mutating func distrust() {
        trusted = false
    }

    /// Forgets the packets read so far: the decoder was flushed and the input moved.
    mutating func didSeek() {
        shown.removeAll()
        lastDTS = nil
    }

    /// What the decoder may discard for `packet`: a non-reference frame is no sample when it shows
    /// before the earliest time allowed for the next one, or when a frame read before it shows
    /// between it and the earliest time allowed for the last target it could serve (each sample is
    /// the first frame to show in time, so that frame would be taken instead, for that target and
    /// every one before it). Reference frames are always decoded, so every frame kept is decoded
    /// exactly as without skipping.
    ///
    /// Times are compared in seconds, exactly as the sampler compares them when it keeps a frame.
    func discard(_ packet: Packet, sampler: FrameSampler) -> AVDiscard {
        if keyframesOnly && !keyframeRead { return AVDISCARD_NONKEY }
        let pts = packet.pointer.pointee.pts
        guard pts != loupe_av_nopts_value() else { return AVDISCARD_DEFAULT }
        let time = sampler.seconds(pts)
        if time < sampler.earliest { return AVDISCARD_NONREF }
        guard trusted else { return AVDISCARD_DEFAULT }
        let window = sampler.earliestTime(forLastTargetBy: time)
        return shown.contains { $0 < pts && sampler.seconds($0) >= window } ? AVDISCARD_NONREF : AVDISCARD_DEFAULT
    }

    /// When `packet` (about to be read) proves that the frame for the next sample is already with the
    /// decoder, the seconds at which that frame shows; otherwise nil.
    ///
    /// The sample is the first frame to show at or after `sampler.earliest`. Display times never
    /// precede decode times and decode times only grow (checked on every packet so far, this one
    /// included), so once a packet decodes at or after the earliest qualifying display time of a frame
    /// sure to come out, no packet after it can show before that frame.
    func settled(by packet: Packet, sampler: FrameSampler) -> Double? {
        guard !keyframesOnly, !sampler.requiresKeyframe, trusted else { return nil }
        let p = packet.pointer.pointee
        guard p.dts != loupe_av_nopts_value(), p.pts != loupe_av_nopts_value(), p.pts >= p.dts,
            lastDTS.map({ p.dts >= $0 }) ?? true
        else { return nil }
        guard let first = shown.lazy.filter({ sampler.seconds($0) >= sampler.earliest }).min(), p.dts >= first else {
            return nil
        }
        return sampler.seconds(first)
    }

    /// The index (decode) time of the last indexed keyframe at or before `timestamp`.
    private func keyframe(atOrBefore timestamp: Int64) -> Int64? {
        let entryIndex = av_index_search_timestamp(stream, min(timestamp, CheckedArithmetic.subtract(limit ?? .max, 1)), AVSEEK_FLAG_BACKWARD)
        guard entryIndex >= 0, let entry = avformat_index_get_entry(stream, entryIndex) else { return nil }
        return entry.pointee.timestamp
    }
}
