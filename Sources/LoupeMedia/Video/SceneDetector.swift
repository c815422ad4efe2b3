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
        let hsv = Self.hsv(frame.pixels)
        defer {
            previous = hsv
            previousSize = (frame.width, frame.height)
        }
        guard let previous, previousSize == (frame.width, frame.height) else {
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
