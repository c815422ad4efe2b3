import Testing

@testable import LoupeMedia

struct SceneDetectorTests {
    static func frame(_ time: Double, _ color: (UInt8, UInt8, UInt8), size: Int = 8) -> VideoFrame {
        VideoFrame(
            timestamp: time, width: size, height: size,
            pixels: (0..<(size * size)).flatMap { _ in [color.0, color.1, color.2] })
    }

    @Test("HSV follows OpenCV's 8-bit convention (hue in degrees / 2)")
    func hsv() {
        let rgb: [UInt8] = [255, 0, 0, 0, 255, 0, 0, 0, 255, 128, 128, 128, 255, 255, 0, 0, 0, 0]
        #expect(SceneDetector.hsv(rgb) == [0, 255, 255, 60, 255, 255, 120, 255, 255, 0, 0, 128, 30, 255, 255, 0, 0, 0])
    }

    @Test("an abrupt change is a cut; a slow fade is not")
    func cutsAndFades() {
        var frames: [VideoFrame] = []
        // 0-2 s red, cut to blue, then a 3-second fade from blue to green in 0.2 s steps.
        for step in 0..<10 { frames.append(Self.frame(Double(step) * 0.2, (200, 30, 30))) }
        for step in 0..<16 {
            let t = Double(step) / 15
            frames.append(Self.frame(2 + Double(step) * 0.2, (30, UInt8(30 + 170 * t), UInt8(200 - 170 * t))))
        }
        #expect(SceneDetector.cuts(in: frames) == [2.0])
    }

    @Test("large frames are averaged down first: the same cuts at 224 pixels as at 64")
    func sizeIndependent() {
        #expect(SceneDetector.shrink([0, 0, 0, 4, 8, 12, 8, 16, 24, 12, 24, 36], width: 2, height: 2, by: 2).0 == [6, 12, 18])
        #expect(SceneDetector.shrink(Array(repeating: 9, count: 5 * 3 * 3), width: 5, height: 3, by: 2) == ([9, 9, 9, 9, 9, 9], 2, 1))
        var frames: [[VideoFrame]] = [[], []]
        for (index, size) in [64, 224].enumerated() {
            for step in 0..<20 {
                let colour: (UInt8, UInt8, UInt8) = step < 7 ? (200, 30, 30) : step < 14 ? (30, 30, 200) : (200, 200, 30)
                frames[index].append(Self.frame(Double(step) * 0.2, colour, size: size))
            }
        }
        #expect(SceneDetector.cuts(in: frames[0]).map { ($0 * 10).rounded() } == [14, 28])
        #expect(SceneDetector.cuts(in: frames[1]) == SceneDetector.cuts(in: frames[0]))
    }

    @Test("no second cut within the minimum scene length")
    func minimumLength() {
        let frames = [
            // Red (hue 0) and blue (240°, 120 on OpenCV's 0...179 scale) score 120 / 3 = 40.
            Self.frame(0, (200, 30, 30)), Self.frame(0.2, (200, 30, 30)), Self.frame(1.0, (30, 30, 200)),
            Self.frame(1.2, (200, 30, 30)), Self.frame(2.0, (30, 30, 200)),
        ]
        #expect(SceneDetector.cuts(in: frames, minimumSceneLength: 0.5) == [1.0, 2.0])
        #expect(SceneDetector.cuts(in: frames, minimumSceneLength: 0.1) == [1.0, 1.2, 2.0])
    }
}
