import CFFmpeg

/// A stretch of a video that starts at a keyframe and ends where the next stretch's keyframe shows,
/// so a decoder that seeks to its keyframe needs nothing from before it.
struct KeyframeRange: Sendable {
    /// Where to seek (in the stream's time base) to land on the range's keyframe.
    var seekTarget: Int64
    /// The keyframe's index (decode) time.
    var keyframe: Int64
    /// The index (decode) time of the next range's keyframe, where reading stops; nil for the last range.
    var endKeyframe: Int64?
    /// Seconds from the stream start at which the range's keyframe shows (-infinity for the first range,
    /// which also takes any frames before the first keyframe).
    var start: Double
    /// Seconds at which the next range's keyframe shows (+infinity for the last range).
    var end: Double
    /// The next range's keyframe opens its group of pictures: frames decoded after it show before it and
    /// refer to this range's frames, so this range reads on past it until those have come out.
    var endsOpen = false
}

/// Cuts a video into keyframe ranges for decoders working side by side, after checking on the file
/// that seeking lands on each range's keyframe. An open group of pictures (frames decoded after its
/// keyframe that show before it, as x265 and open-GOP x264 write) is read to its end by the range before,
/// which holds their references; the range that starts there drops them.
enum KeyframeRanges {
    /// The shortest stretch worth a decoder of its own (each costs a seek and a keyframe), in seconds.
    static let minimumSeconds = 1.0
    /// The longest stretch, in seconds: frames of a finished stretch wait in memory until their turn.
    static let maximumSeconds = 30.0

    /// The ranges for `workers` decoders, or nil when the file should be read by one decoder: no usable
    /// keyframe index, too few keyframes, or a seek that lands elsewhere.
    ///
    /// Leaves `input` at an arbitrary position.
    static func plan(
        _ input: InputContext, stream: UnsafeMutablePointer<AVStream>, info: VideoInfo,
        configuration: VideoDecoder.Configuration, workers: Int
    ) -> [KeyframeRange]? {
        let count = Int(avformat_index_get_entries_count(stream))
        guard count > 1 else { return nil }
        var keyframes: [Int64] = []
        for i in 0..<count {
            guard let entry = avformat_index_get_entry(stream, Int32(i)) else { return nil }
            if entry.pointee.flags & AVINDEX_KEYFRAME != 0, keyframes.last.map({ entry.pointee.timestamp > $0 }) ?? true {
                keyframes.append(entry.pointee.timestamp)
            }
        }
        guard keyframes.count > 1 else { return nil }
        let timeBase = av_q2d(stream.pointee.time_base)
        guard timeBase > 0 else { return nil }
        // About four stretches per decoder, so the last ones finish together, within the bounds above.
        let duration = info.duration ?? (Double(keyframes.last!) - Double(keyframes.first!)) * timeBase
        let length = min(maximumSeconds, max(minimumSeconds, duration / Double(8 * workers)))
        var starts = [0]
        for i in 1..<keyframes.count where (Double(keyframes[i]) - Double(keyframes[starts.last!])) * timeBase >= length - 1e-6 {
            starts.append(i)
        }
        guard starts.count > 1 else { return nil }

        // Seeking by display time (MP4) or by decode time (most others) to just before the next keyframe's
        // decode time lands on this keyframe either way, as long as it shows before the next one decodes.
        let span = stream.pointee.duration > 0 ? stream.pointee.duration : CheckedArithmetic.saturatingInt64(3600 / timeBase)
        var shows: [Double] = []
        var open: [Bool] = []
        for start in starts {
            let target = start + 1 < keyframes.count ? keyframes[start + 1] - 1 : CheckedArithmetic.add(keyframes[start], span)
            guard let (shown, isOpen) = check(input, stream: stream, seekTarget: target, keyframe: keyframes[start]) else { return nil }
            let origin = stream.pointee.start_time == loupe_av_nopts_value() ? 0 : stream.pointee.start_time
            shows.append((Double(shown) - Double(origin)) * timeBase)
            open.append(isOpen)
        }
        guard zip(shows, shows.dropFirst()).allSatisfy({ $0 < $1 }) else { return nil }
        return starts.indices.map { r in
            let start = starts[r]
            return KeyframeRange(
                seekTarget: start + 1 < keyframes.count ? keyframes[start + 1] - 1 : CheckedArithmetic.add(keyframes[start], span),
                keyframe: keyframes[start],
                endKeyframe: r + 1 < starts.count ? keyframes[starts[r + 1]] : nil,
                start: r == 0 ? -.infinity : shows[r],
                end: r + 1 < starts.count ? shows[r + 1] : .infinity,
                endsOpen: r + 1 < starts.count && open[r + 1])
        }
    }

    /// Seeks to `seekTarget` and reads on: the presentation time of the keyframe there when it is the one
    /// indexed at `keyframe`, and whether frames decoded after it show before it (an open group).
    private static func check(_ input: InputContext, stream: UnsafeMutablePointer<AVStream>, seekTarget: Int64, keyframe: Int64)
        -> (shown: Int64, open: Bool)?
    {
        guard input.seek(stream: stream.pointee.index, to: seekTarget), let packet = try? Packet() else { return nil }
        var shown: Int64?
        var open = false
        for _ in 0..<64 {
            // A keyframe that ends the file has nothing after it to check.
            guard (try? input.read(into: packet)) == true else { return shown.map { ($0, open) } }
            defer { packet.unreference() }
            let p = packet.pointer.pointee
            guard p.stream_index == stream.pointee.index else { continue }
            guard p.pts != loupe_av_nopts_value() else { return nil }
            if let keyPTS = shown {
                // Leading pictures come right after the keyframe; the first frame showing after it ends them.
                if p.pts > keyPTS { return (keyPTS, open) }
                open = true
                continue
            }
            guard p.flags & AV_PKT_FLAG_KEY != 0, p.dts == keyframe else { return nil }
            shown = p.pts
        }
        return nil
    }
}
