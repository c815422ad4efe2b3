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
}

/// Cuts a video into keyframe ranges for decoders working side by side, after checking on the file
/// that seeking lands on each range's keyframe and that its group of pictures is closed.
enum KeyframeRanges {
    /// The shortest stretch worth a decoder of its own (each costs a seek and a keyframe), in seconds.
    static let minimumSeconds = 1.0
    /// The longest stretch, in seconds: frames of a finished stretch wait in memory until their turn.
    static let maximumSeconds = 30.0

    /// The ranges for `workers` decoders, or nil when the file should be read by one decoder: no usable
    /// keyframe index, too few keyframes, a seek that lands elsewhere, or an open group of pictures.
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
        let duration = info.duration ?? Double(keyframes.last! - keyframes.first!) * timeBase
        let length = min(maximumSeconds, max(minimumSeconds, duration / Double(8 * workers)))
        var starts = [0]
        for i in 1..<keyframes.count where Double(keyframes[i] - keyframes[starts.last!]) * timeBase >= length - 1e-6 {
            starts.append(i)
        }
        guard starts.count > 1 else { return nil }

        // Seeking by display time (MP4) or by decode time (most others) to just before the next keyframe's
        // decode time lands on this keyframe either way, as long as it shows before the next one decodes.
        let span = stream.pointee.duration > 0 ? stream.pointee.duration : Int64(3600 / timeBase)
        var shows: [Double] = []
        for start in starts {
            let target = start + 1 < keyframes.count ? keyframes[start + 1] - 1 : keyframes[start] + span
            guard let shown = check(input, stream: stream, seekTarget: target, keyframe: keyframes[start]) else { return nil }
            shows.append(Double(shown - (stream.pointee.start_time == loupe_av_nopts_value() ? 0 : stream.pointee.start_time)) * timeBase)
        }
        guard zip(shows, shows.dropFirst()).allSatisfy({ $0 < $1 }) else { return nil }
        return starts.indices.map { r in
            let start = starts[r]
            return KeyframeRange(
                seekTarget: start + 1 < keyframes.count ? keyframes[start + 1] - 1 : keyframes[start] + span,
                keyframe: keyframes[start],
                endKeyframe: r + 1 < starts.count ? keyframes[starts[r + 1]] : nil,
                start: r == 0 ? -.infinity : shows[r],
                end: r + 1 < starts.count ? shows[r + 1] : .infinity)
        }
    }

    /// Seeks to `seekTarget` and reads on: the presentation time of the keyframe there when it is the one
    /// indexed at `keyframe` and no frame after it in decode order shows before it (a closed group).
    private static func check(_ input: InputContext, stream: UnsafeMutablePointer<AVStream>, seekTarget: Int64, keyframe: Int64)
        -> Int64?
    {
        guard input.seek(stream: stream.pointee.index, to: seekTarget), let packet = try? Packet() else { return nil }
        var shown: Int64?
        for _ in 0..<64 {
            // A keyframe that ends the file has nothing after it to check.
            guard (try? input.read(into: packet)) == true else { return shown }
            defer { packet.unreference() }
            let p = packet.pointer.pointee
            guard p.stream_index == stream.pointee.index else { continue }
            guard p.pts != loupe_av_nopts_value() else { return nil }
            if let keyPTS = shown {
                return p.pts > keyPTS ? keyPTS : nil
            }
            guard p.flags & AV_PKT_FLAG_KEY != 0, p.dts == keyframe else { return nil }
            shown = p.pts
        }
        return nil
    }
}
