/// Finds scene cuts from the content difference of consecutive small frames, in the spirit of
/// PySceneDetect's `ContentDetector`: each frame is converted to HSV (OpenCV's 8-bit scale, hue
/// 0...179), and a cut is reported where the mean absolute change of H, S and V, averaged over the
/// three channels, reaches `threshold`, provided the scene so far lasts `minimumSceneLength` seconds.
///
/// ```swift
/// var detector = SceneDetector()
/// for frame in frames { if let cut = detector.process(frame) { print("cut at", cut) } }
/// ```
public struct SceneDetector: Sendable {
    /// Content difference (0...255 scale) at or above which a cut is declared (PySceneDetect's default: 27).
    public var threshold: Double
    /// Seconds a scene must last before another cut may be declared.
    public var minimumSceneLength: Double
    /// Frames whose shorter side is at least twice this are averaged down by a whole factor first, so the
    /// detector sees about the same picture (and does about the same work) whatever size it is given.
    public var analysisShortSide = 64

    private var previous: [UInt8]?
    private var previousSize = (0, 0)
    private var sceneStart = 0.0
    /// The last frame's content difference from its predecessor.
    public private(set) var lastScore = 0.0

    /// A detector with PySceneDetect's default threshold and a half-second minimum scene.
    public init(threshold: Double = 27, minimumSceneLength: Double = 0.5) {
        self.threshold = threshold
        self.minimumSceneLength = minimumSceneLength
    }

    /// Feeds the next frame; returns its timestamp when a new scene starts there.
    public mutating func process(_ frame: VideoFrame) -> Double? {
        let factor = analysisShortSide > 0 ? max(1, min(frame.width, frame.height) / analysisShortSide) : 1
        let (pixels, width, height) = Self.shrink(frame.pixels, width: frame.width, height: frame.height, by: factor)
        let hsv = Self.hsv(pixels)
        defer {
            previous = hsv
            previousSize = (width, height)
        }
        guard let previous, previousSize == (width, height) else {
            sceneStart = frame.timestamp
            return nil
        }
        var sum = 0
        for i in hsv.indices { sum += abs(Int(hsv[i]) - Int(previous[i])) }
        lastScore = Double(sum) / Double(hsv.count)
        guard lastScore >= threshold, frame.timestamp - sceneStart >= minimumSceneLength else { return nil }
        sceneStart = frame.timestamp
        return frame.timestamp
    }

    /// The cut times in `frames`.
    public static func cuts(in frames: [VideoFrame], threshold: Double = 27, minimumSceneLength: Double = 0.5) -> [Double] {
        var detector = SceneDetector(threshold: threshold, minimumSceneLength: minimumSceneLength)
        return frames.compactMap { detector.process($0) }
    }

    /// The mean of each `factor` x `factor` block (a partial block at the right or bottom edge is dropped).
    static func shrink(_ rgb: [UInt8], width: Int, height: Int, by factor: Int) -> ([UInt8], Int, Int) {
        guard factor > 1 else { return (rgb, width, height) }
        let outWidth = width / factor, outHeight = height / factor
        var out = [UInt8](repeating: 0, count: outWidth * outHeight * 3)
        var sums = [Int](repeating: 0, count: outWidth * 3)
        let area = factor * factor
        rgb.withUnsafeBufferPointer { source in
            for y in 0..<outHeight {
                for i in sums.indices { sums[i] = 0 }
                for row in (y * factor)..<((y + 1) * factor) {
                    let line = row * width * 3
                    for x in 0..<outWidth {
                        var p = line + x * factor * 3
                        for _ in 0..<factor {
                            sums[3 * x] += Int(source[p])
                            sums[3 * x + 1] += Int(source[p + 1])
                            sums[3 * x + 2] += Int(source[p + 2])
                            p += 3
                        }
                    }
                }
                for i in sums.indices { out[y * outWidth * 3 + i] = UInt8((sums[i] + area / 2) / area) }
            }
        }
        return (out, outWidth, outHeight)
    }

    /// RGB8 to OpenCV-style 8-bit HSV (`COLOR_BGR2HSV`): H = degrees / 2, S and V in 0...255.
    static func hsv(_ rgb: [UInt8]) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: rgb.count)
        for p in stride(from: 0, to: rgb.count, by: 3) {
            let r = Int(rgb[p]), g = Int(rgb[p + 1]), b = Int(rgb[p + 2])
            let v = max(r, g, b)
            let delta = v - min(r, g, b)
            let s = v == 0 ? 0 : (delta * 255 + v / 2) / v
            var h = 0.0
            if delta > 0 {
                if v == r {
                    h = 60 * Double(g - b) / Double(delta)
                } else if v == g {
                    h = 120 + 60 * Double(b - r) / Double(delta)
                } else {
                    h = 240 + 60 * Double(r - g) / Double(delta)
                }
                if h < 0 { h += 360 }
            }
            out[p] = UInt8(min(179, Int((h / 2).rounded())))
            out[p + 1] = UInt8(s)
            out[p + 2] = UInt8(v)
        }
        return out
    }
}
