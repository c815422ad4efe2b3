import Foundation
import Testing

@testable import LoupeMedia

struct ImageErrorTests {
    @Test(
        "broken files give the right error code and name the file",
        arguments: [
            ("empty.jpg", MediaError.Code.emptyFile), ("random.bin", .notAnImage), ("text-named.png", .notAnImage),
            ("truncated.png", .truncated), ("truncated.jpg", .truncated),
        ])
    func brokenFiles(name: String, code: MediaError.Code) throws {
        let url = TestMedia.fixture(name)
        let error = try #require(throws: MediaError.self) { try ImageDecoder().decode(contentsOf: url) }
        #expect(error.code == code, "\(name): \(error)")
        #expect(error.path == url.path)
    }

    @Test("a GIF cut inside its first image is truncated; one without the trailer decodes")
    func gifCompleteness() throws {
        let gif = try ImageEncoder.encode(pixels: TestMedia.blocks(width: 64, height: 48), width: 64, height: 48, as: .gif)
        #expect(gif.last == 0x3B)
        let error = try #require(throws: MediaError.self) {
            try ImageDecoder().decode(gif.prefix(gif.count * 2 / 3), path: "cut.gif")
        }
        #expect(error.code == .truncated)
        let image = try ImageDecoder().decode(gif.dropLast(), path: "no-trailer.gif")
        #expect(image.pixels == TestMedia.blocks(width: 64, height: 48))
    }

    @Test("a missing file is unreadable")
    func missing() throws {
        let error = try #require(throws: MediaError.self) {
            try ImageDecoder().decode(contentsOf: URL(fileURLWithPath: "/nonexistent/x.jpg"))
        }
        #expect(error.code == .unreadable)
    }

    /// A PNG whose IHDR announces 100,000 x 100,000 pixels, followed by a little real data.
    static func pngBomb() throws -> Data {
        var png = try ImageEncoder.encode(pixels: TestMedia.blocks(width: 8, height: 8), width: 8, height: 8, as: .png)
        png.replaceSubrange(16..<24, with: [0x00, 0x01, 0x86, 0xA0, 0x00, 0x01, 0x86, 0xA0])
        return png
    }

    /// A JPEG whose frame header announces 65,500 x 65,500 pixels.
    static func jpegBomb() throws -> Data {
        var jpeg = try ImageEncoder.encode(pixels: TestMedia.blocks(width: 8, height: 8), width: 8, height: 8, as: .jpeg(quality: 80))
        let sof = try #require(jpeg.indices.dropLast().first { jpeg[$0] == 0xFF && jpeg[$0 + 1] == 0xC0 })
        jpeg.replaceSubrange((sof + 5)..<(sof + 9), with: [0xFF, 0xDC, 0xFF, 0xDC])
        return jpeg
    }

    @Test("a decompression bomb is refused from its header within milliseconds", arguments: [0, 1])
    func bomb(kind: Int) throws {
        let data = try kind == 0 ? Self.pngBomb() : Self.jpegBomb()
        let start = ContinuousClock.now
        let error = try #require(throws: MediaError.self) { try ImageDecoder().decode(data, path: "bomb") }
        let elapsed = ContinuousClock.now - start
        #expect(error.code == .tooManyPixels, "\(error)")
        #expect(elapsed < .milliseconds(50), "took \(elapsed)")
    }

    @Test("the pixel limit is configurable")
    func configurableLimit() throws {
        let png = try ImageEncoder.encode(pixels: TestMedia.blocks(width: 20, height: 10), width: 20, height: 10, as: .png)
        var decoder = ImageDecoder()
        decoder.configuration.maxPixels = 199
        #expect(throws: MediaError.self) { try decoder.decode(png, path: nil) }
        decoder.configuration.maxPixels = 200
        #expect(try decoder.decode(png, path: nil).width == 20)
    }

    @Test("hostile bytes after a valid signature never crash", arguments: 0..<330)
    func hostileBytes(seed: Int) throws {
        // Valid headers of each format followed by garbage, and valid files with garbage inside.
        var state = UInt64(seed) &* 0x9E37_79B9_7F4A_7C15 &+ 1
        func next() -> UInt8 {
            state ^= state << 13
            state ^= state >> 7
            state ^= state << 17
            return UInt8(truncatingIfNeeded: state)
        }
        let formats: [ImageEncoder.Format] = [
            .png, .jpeg(quality: 80), .bmp, .tiff, .gif, .webp(quality: 80), .qoi, .jpeg2000, .pcx, .sgi, .sunRaster,
        ]
        let format = formats[seed % formats.count]
        var data = try ImageEncoder.encode(pixels: TestMedia.blocks(width: 24, height: 16), width: 24, height: 16, as: format)
        switch seed / formats.count % 3 {
        case 0:  // a few bytes anywhere past the signature
            for _ in 0..<(1 + seed % 7) {
                data[8 + (Int(next()) * 256 + Int(next())) % max(data.count - 8, 1)] = next()
            }
        case 1:  // the header region, where sizes and offsets live
            for _ in 0..<(1 + seed % 5) { data[min(data.count - 1, 8 + Int(next()) % 64)] = next() }
        default:  // cut anywhere
            data = data.prefix(1 + (Int(next()) * 256 + Int(next())) % data.count)
        }
        do {
            let image = try ImageDecoder().decode(data, path: "fuzz")
            #expect(image.pixels.count == image.width * image.height * 3)
        } catch let error as MediaError {
            #expect(error.path == "fuzz")
        }
    }
}

extension ImageErrorTests {
    /// A progressive JPEG header followed by thousands of empty scans: a CPU bomb in a few kilobytes.
    @Test("a progressive JPEG with thousands of scans is refused before decoding")
    func scanBomb() throws {
        var jpeg: [UInt8] = [0xFF, 0xD8]
        // SOF2: 8-bit, 64x64, one component (id 1, sampling 1x1, table 0).
        jpeg += [0xFF, 0xC2, 0x00, 0x0B, 0x08, 0x00, 0x40, 0x00, 0x40, 0x01, 0x01, 0x11, 0x00]
        let scan: [UInt8] = [0xFF, 0xDA, 0x00, 0x08, 0x01, 0x01, 0x00, 0x00, 0x3F, 0x00, 0x00]
        for _ in 0..<3000 { jpeg += scan }
        jpeg += [0xFF, 0xD9]
        let start = ContinuousClock.now
        let error = try #require(throws: MediaError.self) { try ImageDecoder().decode(Data(jpeg), path: "scans.jpg") }
        #expect(error.code == .unsupportedFormat, "\(error)")
        #expect(ContinuousClock.now - start < .milliseconds(200))
    }
}

extension ImageErrorTests {
    static let oddFixtures = [
        "animated.webp", "animated.gif", "ycck.jpg", "progressive.jpg", "cmyk.jpg", "rgb16.png", "exif6.png",
        "exif8.webp", "transparent.gif",
    ]

    @Test("damaged odd fixtures (animations, YCCK, progressive, 16-bit, EXIF) never crash", arguments: 0..<90)
    func hostileFixtures(seed: Int) throws {
        let name = Self.oddFixtures[seed % Self.oddFixtures.count]
        var data = try Data(contentsOf: TestMedia.fixture(name))
        var state = UInt64(seed + 7) &* 0x9E37_79B9_7F4A_7C15
        func next() -> Int {
            state ^= state << 13
            state ^= state >> 7
            state ^= state << 17
            return Int(state % 1_000_003)
        }
        if seed % 3 == 2 {
            data = data.prefix(1 + next() % data.count)
        } else {
            for _ in 0..<(1 + seed % 6) { data[8 + next() % (data.count - 8)] = UInt8(next() % 256) }
        }
        do {
            let image = try ImageDecoder().decode(data, path: name)
            #expect(image.pixels.count == image.width * image.height * 3)
        } catch let error as MediaError {
            #expect(error.path == name)
        }
    }
}
