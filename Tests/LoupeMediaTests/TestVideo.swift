import Foundation

@testable import LoupeMedia

/// Short synthetic videos with known content: three scenes of different colours, each frame
/// carrying its own index as a grey level in a bar at the top, and a square moving inside.
enum TestVideo {
    static let framesPerSecond = 30
    /// Scene cuts, in seconds.
    static let cuts = [2.0, 4.0]
    static let duration = 6.0
    static let creationTime = "2024-06-01T12:34:56.000000Z"

    static let sceneColors: [(UInt8, UInt8, UInt8)] = [(200, 40, 40), (40, 180, 60), (50, 70, 210)]

    /// The frame index encoded in the bar: 4 grey levels per frame, so up to 63 frames are told apart.
    static func frame(_ index: Int, width: Int, height: Int) -> [UInt8] {
        let time = Double(index) / Double(framesPerSecond)
        let scene = cuts.filter { time >= $0 }.count
        let color = sceneColors[scene]
        var pixels = [UInt8](repeating: 0, count: width * height * 3)
        let barLevel = UInt8((index % 64) * 4)
        let squareX = (index * 2) % (width - 16)
        for y in 0..<height {
            for x in 0..<width {
                let i = (y * width + x) * 3
                if y < height / 4 {
                    (pixels[i], pixels[i + 1], pixels[i + 2]) = (barLevel, barLevel, barLevel)
                } else if (squareX..<(squareX + 16)).contains(x) && (height / 2..<(height / 2 + 16)).contains(y) {
                    (pixels[i], pixels[i + 1], pixels[i + 2]) = (240, 240, 240)
                } else {
                    (pixels[i], pixels[i + 1], pixels[i + 2]) = color
                }
            }
        }
        return pixels
    }

    /// Writes the test video and returns its URL.
    static func write(
        to directory: URL, name: String = "scenes.mp4", width: Int = 160, height: Int = 96, rotation: Int = 0,
        bt709: Bool = false, preset: String = "ultrafast", keyframeInterval: Int = 45, x264Params: String? = nil
    ) throws -> URL {
        let url = directory.appendingPathComponent(name)
        var configuration = VideoWriter.Configuration()
        configuration.rotation = rotation
        configuration.bt709 = bt709
        configuration.keyframeInterval = keyframeInterval
        configuration.options = ["preset": preset]
        if let x264Params { configuration.options["x264-params"] = x264Params }
        configuration.metadata = ["creation_time": creationTime]
        let writer = try VideoWriter(url: url, width: width, height: height, framesPerSecond: framesPerSecond, configuration: configuration)
        for index in 0..<Int(duration * Double(framesPerSecond)) {
            try writer.append(pixels: frame(index, width: width, height: height))
        }
        try writer.finish()
        return url
    }

    /// Reads the frame index back from the bar (index modulo 64).
    static func index(in frame: VideoFrame) -> Int {
        var sum = 0
        let rows = frame.height / 8
        for y in 0..<rows {
            for x in frame.width / 4..<(frame.width * 3 / 4) { sum += Int(frame.pixels[(y * frame.width + x) * 3 + 1]) }
        }
        let mean = Double(sum) / Double(rows * frame.width / 2)
        return Int((mean / 4).rounded())
    }
}
