import Foundation
import Testing

@testable import LoupeMedia

struct ImageOrientationTests {
    /// Where output pixel (x, y) comes from in a `width` x `height` source, per the EXIF spec's
    /// descriptions (the transforms Pillow's `exif_transpose` applies).
    static func source(_ orientation: Int, x: Int, y: Int, width: Int, height: Int) -> (Int, Int) {
        switch orientation {
        case 2: (width - 1 - x, y)  // mirrored
        case 3: (width - 1 - x, height - 1 - y)  // upside down
        case 4: (x, height - 1 - y)  // flipped vertically
        case 5: (y, x)  // transposed
        case 6: (y, height - 1 - x)  // needs 90° clockwise
        case 7: (width - 1 - y, height - 1 - x)  // transversed
        case 8: (width - 1 - y, x)  // needs 90° counter-clockwise
        default: (x, y)
        }
    }

    @Test("all eight EXIF orientations come out upright", arguments: 1...8)
    func orientation(_ orientation: Int) throws {
        let (width, height) = (48, 32)
        let pixels = TestMedia.blocks(width: width, height: height)
        let jpeg = try ImageEncoder.encode(pixels: pixels, width: width, height: height, as: .jpeg(quality: 95, fullChroma: true))
        let tagged = EXIFBuilder(orientation: orientation).inserted(into: jpeg)
        let image = try ImageDecoder().decode(tagged, path: "orientation-\(orientation).jpg")
        #expect(image.metadata.orientation == orientation)
        let swapped = orientation >= 5
        #expect([image.width, image.height] as [Int] == (swapped ? [height, width] : [width, height]))
        var expected = [UInt8](repeating: 0, count: pixels.count)
        for y in 0..<image.height {
            for x in 0..<image.width {
                let (sx, sy) = Self.source(orientation, x: x, y: y, width: width, height: height)
                for c in 0..<3 { expected[(y * image.width + x) * 3 + c] = pixels[(sy * width + sx) * 3 + c] }
            }
        }
        let difference = TestMedia.difference(image.pixels, expected)
        #expect(difference.mean < 3, "orientation \(orientation): mean byte error \(difference.mean)")
    }

    @Test("orientation can be left unapplied")
    func unapplied() throws {
        let pixels = TestMedia.blocks(width: 48, height: 32)
        let jpeg = try ImageEncoder.encode(pixels: pixels, width: 48, height: 32, as: .jpeg(quality: 95))
        var decoder = ImageDecoder()
        decoder.configuration.appliesOrientation = false
        let image = try decoder.decode(EXIFBuilder(orientation: 6).inserted(into: jpeg), path: nil)
        #expect([image.width, image.height] as [Int] == [48, 32])
    }
}
