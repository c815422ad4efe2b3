import Foundation
import Testing

@testable import LoupeMedia

struct ImageDecoderTests {
    struct FormatCase: CustomTestStringConvertible, Sendable {
        let format: ImageEncoder.Format
        let expected: ImageFormat
        /// Largest mean absolute byte error allowed (0: lossless).
        let meanTolerance: Double
        /// 4:2:0 codecs are checked on a smooth picture: chroma subsampling smears hard colour edges.
        var smooth = false
        var testDescription: String { "\(expected) \(format)" }
    }

    static let formats: [FormatCase] = [
        FormatCase(format: .png, expected: .png, meanTolerance: 0),
        FormatCase(format: .bmp, expected: .bmp, meanTolerance: 0),
        FormatCase(format: .tiff, expected: .tiff, meanTolerance: 0),
        FormatCase(format: .gif, expected: .gif, meanTolerance: 0),
        FormatCase(format: .qoi, expected: .qoi, meanTolerance: 0),
        FormatCase(format: .jpeg2000, expected: .jpeg2000, meanTolerance: 0),
        FormatCase(format: .pcx, expected: .pcx, meanTolerance: 0),
        FormatCase(format: .sgi, expected: .sgi, meanTolerance: 0),
        FormatCase(format: .sunRaster, expected: .sunRaster, meanTolerance: 0),
        FormatCase(format: .webp(quality: 100, lossless: true), expected: .webp, meanTolerance: 0),
        FormatCase(format: .webp(quality: 90), expected: .webp, meanTolerance: 5, smooth: true),
        FormatCase(format: .jpeg(quality: 95, fullChroma: true), expected: .jpeg, meanTolerance: 3),
        FormatCase(format: .jpeg(quality: 90), expected: .jpeg, meanTolerance: 5, smooth: true),
    ]

    @Test("every format decodes to the pixels it was encoded from", arguments: formats)
    func roundTrip(_ item: FormatCase) throws {
        let (width, height) = (48, 40)
        let pixels = item.smooth ? TestMedia.smooth(width: width, height: height) : TestMedia.blocks(width: width, height: height)
        let data = try ImageEncoder.encode(pixels: pixels, width: width, height: height, as: item.format)
        let image = try ImageDecoder().decode(data, path: "synthetic")
        #expect(image.metadata.format == item.expected)
        #expect([image.width, image.height] as [Int] == [width, height])
        let difference = TestMedia.difference(image.pixels, pixels)
        #expect(difference.mean <= item.meanTolerance, "mean byte error \(difference.mean) (max \(difference.max))")
        if item.meanTolerance == 0 { #expect(difference.max == 0) }
    }

    @Test("PPM goes through the Pillow-exact Netpbm decoder")
    func netpbm() throws {
        let pixels = TestMedia.blocks(width: 9, height: 7)
        let image = try ImageDecoder().decode(PPMEncoder.encode(width: 9, height: 7, pixels: pixels), path: "x.ppm")
        #expect(image.metadata.format == .ppm && image.pixels == pixels)
    }

    struct PillowCase: Decodable {
        let width: Int
        let height: Int
        let pixels: [UInt8]
    }

    static let pillow: [String: PillowCase] = {
        let data = try! Data(contentsOf: TestMedia.fixture("expected.json"))
        return try! JSONDecoder().decode([String: PillowCase].self, from: data)
    }()

    /// Lossless sources must match Pillow exactly; JPEGs within IDCT rounding (FFmpeg's IDCT is not
    /// libjpeg's), CMYK also within FFmpeg's truncating division.
    @Test(
        "odd pixel formats, GIF first frames and EXIF outside JPEG come out as Pillow makes them",
        arguments: [
            ("grey16.png", 0, 0), ("rgb16.png", 0, 0), ("palette.png", 0, 0), ("grey_alpha.png", 0, 0),
            ("rgba.webp", 0, 0), ("cmyk.jpg", 3, 0.6), ("cmyk-no-adobe.jpg", 3, 0.6), ("ycck.jpg", 8, 1.3), ("ycc420.jpg", 3, 0.1), ("ycc422.jpg", 3, 0.1),
            ("ycc444.jpg", 3, 0.1), ("animated.gif", 0, 0), ("animated.webp", 0, 0), ("exif6.png", 0, 0), ("exif8.webp", 0, 0),
            ("transparent.gif", 0, 0), ("lossy.webp", 2, 0.6), ("progressive.jpg", 3, 0.1),
        ])
    func pillowConversion(name: String, tolerance: Int, meanTolerance: Double) throws {
        let reference = try #require(Self.pillow[name])
        let image = try ImageDecoder().decode(contentsOf: TestMedia.fixture(name))
        #expect([image.width, image.height] as [Int] == [reference.width, reference.height])
        let difference = TestMedia.difference(image.pixels, reference.pixels)
        #expect(difference.max <= tolerance, "\(name): max byte error \(difference.max), mean \(difference.mean)")
        // YCbCr: colour conversion and chroma upsampling are libjpeg's, so only isolated IDCT roundings
        // differ. CMYK: FFmpeg divides by 255 as `* 257 >> 16` (truncating) where Pillow rounds. YCCK:
        // FFmpeg folds K into 8-bit Y, Cb, Cr before the colour conversion, so errors reach a few levels.
        #expect(difference.mean <= meanTolerance, "\(name): mean byte error \(difference.mean)")
    }

    @Test("the file name does not matter: a PNG named .jpg decodes as PNG")
    func contentSniffing() throws {
        let image = try ImageDecoder().decode(contentsOf: TestMedia.fixture("png-named.jpg"))
        #expect(image.metadata.format == .png)
        #expect(image.pixels == ImageDecoderTests.pillowRGB8())
    }

    /// The 8-bit twin of rgb16.png, for the sniffing test.
    static func pillowRGB8() -> [UInt8] {
        var pixels: [UInt8] = []
        for y in 0..<12 { for x in 0..<16 { pixels += [UInt8(x * 16), UInt8(y * 20), UInt8(255 - x * 8)] } }
        return pixels
    }
}

extension ImageDecoderTests {
    @Test("decoders run concurrently from many tasks with the same results")
    func concurrentDecoding() async throws {
        let formats: [ImageEncoder.Format] = [.png, .jpeg(quality: 90), .webp(quality: 80), .gif, .tiff, .jpeg2000]
        let files = try formats.map {
            try ImageEncoder.encode(pixels: TestMedia.blocks(width: 64, height: 48), width: 64, height: 48, as: $0)
        }
        let serial = try files.map { try ImageDecoder().decode($0, path: nil).pixels }
        let parallel = try await withThrowingTaskGroup(of: (Int, [UInt8]).self) { group in
            for round in 0..<8 {
                for (index, file) in files.enumerated() {
                    group.addTask { (index, try ImageDecoder().decode(file, path: "task \(round)").pixels) }
                }
            }
            var results: [(Int, [UInt8])] = []
            for try await result in group { results.append(result) }
            return results
        }
        #expect(parallel.count == 48)
        for (index, pixels) in parallel { #expect(pixels == serial[index], "format \(formats[index])") }
    }
}
