import Foundation

extension VideoDecoder {
    /// Finds scene cuts in the file at `url` by sampling small frames at `framesPerSecond` (cut
    /// times are accurate to one sampling interval) and feeding them to `detector`.
    ///
    /// - Returns: The start time in seconds of every scene after the first.
    public func sceneCuts(
        contentsOf url: URL, framesPerSecond: Double = 5, shortSide: Int = 64, detector: SceneDetector = SceneDetector()
    ) throws -> [Double] {
        var small = self
        small.configuration.framesPerSecond = framesPerSecond
        small.configuration.shortSide = shortSide
        var detector = detector
        var cuts: [Double] = []
        try small.sample(contentsOf: url) { frame in
            if let cut = detector.process(frame) { cuts.append(cut) }
            return true
        }
        return cuts
    }
}
