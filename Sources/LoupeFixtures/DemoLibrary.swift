import Foundation
import Loupe
import LoupeMedia

/// A small library of shape pictures in several formats and a video whose scenes show different shapes:
/// what `make demo` indexes and what the end-to-end tests search.
public enum DemoLibrary {
    /// One generated picture and what it shows.
    public struct Picture: Sendable {
        public var url: URL
        public var shape: ShapeKind
        public var colour: ShapeColour
    }

    /// The generated video's scenes: (start, end, shape, colour) in seconds.
    public static let videoScenes: [(Double, Double, ShapeKind, ShapeColour)] = [
        (0, 4, .triangle, .yellow), (4, 8, .square, .blue), (8, 12, .circle, .red),
    ]

    /// Writes `perClass` pictures of each colour-shape pair (JPEG, PNG and WebP in turn, varied sizes,
    /// positions and backgrounds) and, when `video` is set, `scenes.mp4` (12 s, scenes as `videoScenes`).
    @discardableResult
    public static func generate(into folder: URL, perClass: Int = 2, video: Bool = true) throws -> [Picture] {
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        var generator = SplitMix64(seed: 7)
        var pictures: [Picture] = []
        let backgrounds: [(UInt8, UInt8, UInt8)] = [(235, 235, 230), (30, 30, 35), (200, 215, 230), (245, 240, 220), (55, 45, 40)]
        for colour in ShapeColour.allCases {
            for shape in ShapeKind.allCases {
                for index in 0..<perClass {
                    let width = [96, 128, 160, 200][Int(generator.next() % 4)]
                    let height = [96, 128, 160][Int(generator.next() % 3)]
                    let painter = ShapePainter(width: width, height: height)
                    let pixels = painter.paint(
                        shape, colour, x: 0.4 + 0.2 * generator.nextUnit(), y: 0.4 + 0.2 * generator.nextUnit(),
                        scale: 0.45 + 0.25 * generator.nextUnit(),
                        rotation: shape == .circle ? 0 : (generator.nextUnit() - 0.5) * 0.6,
                        background: backgrounds[Int(generator.next() % UInt64(backgrounds.count))])
                    let (format, ext): (ImageEncoder.Format, String) = switch (pictures.count) % 3 {
                    case 0: (.jpeg(quality: 90), "jpg")
                    case 1: (.png, "png")
                    default: (.webp(quality: 90), "webp")
                    }
                    let url = folder.appendingPathComponent("\(colour.rawValue)-\(shape.rawValue)-\(index).\(ext)")
                    try ImageEncoder.encode(pixels: pixels, width: width, height: height, as: format).write(to: url)
                    pictures.append(Picture(url: url, shape: shape, colour: colour))
                }
            }
        }
        if video { try writeSceneVideo(to: folder.appendingPathComponent("scenes.mp4")) }
        return pictures
    }

    /// A 12-second 10 fps video: yellow triangle, then blue square from 4 s to 8 s, then red circle; the
    /// shape drifts a little so frames differ, and each scene has its own background, so the cuts are real
    /// scene changes for a content detector.
    public static func writeSceneVideo(to url: URL, width: Int = 160, height: Int = 120) throws {
        let framesPerSecond = 10
        let writer = try VideoWriter(url: url, width: width, height: height, framesPerSecond: framesPerSecond)
        let painter = ShapePainter(width: width, height: height)
        for frame in 0..<(12 * framesPerSecond) {
            let time = Double(frame) / Double(framesPerSecond)
            let scene = videoScenes.first { time >= $0.0 && time < $0.1 } ?? videoScenes.last!
            let drift = 0.05 * sin(time)
            let background: (UInt8, UInt8, UInt8) = switch scene.2 {
            case .triangle: (30, 30, 40)
            case .square: (235, 235, 225)
            case .circle: (60, 110, 70)
            }
            try writer.append(pixels: painter.paint(scene.2, scene.3, x: 0.5 + drift, y: 0.5, scale: 0.6, background: background))
        }
        try writer.finish()
    }
}
