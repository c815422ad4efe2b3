import Foundation
import Testing

@testable import LoupeMedia

/// The Pillow-exact Netpbm decoder (moved here from the CLIP tests with the media module's own target).
struct PPMDecoderTests {
    @Test func encoderOutputDecodesToTheSamePixels() throws {
        let pixels = (0..<(7 * 5 * 3)).map { UInt8(truncatingIfNeeded: $0 * 37) }
        let data = PPMEncoder.encode(width: 7, height: 5, pixels: pixels)
        #expect(data.starts(with: Data("P6\n7 5\n255\n".utf8)))
        #expect(try PPMDecoder.decode(data, path: nil) == PPMImage(width: 7, height: 5, pixels: pixels))
    }

    @Test func headerCommentsAndWhitespaceAreSkipped() throws {
        var data = Data("P6 # a comment\n#another\r\n 2\t\n1 # width, height\n255\n".utf8)
        data.append(contentsOf: [1, 2, 3, 4, 5, 6, 99])  // trailing bytes are ignored
        let image = try PPMDecoder.decode(data, path: "x.ppm")
        #expect(image == PPMImage(width: 2, height: 1, pixels: [1, 2, 3, 4, 5, 6]))
    }

    struct PPMCase: Decodable, CustomTestStringConvertible {
        let name: String
        let data: String
        let width: Int
        let height: Int
        let rgb: String
        var testDescription: String { name }
    }

    static let pillowDecodedCases: [PPMCase] = {
        struct File: Decodable { let ppm: [PPMCase] }
        let url = TestMedia.fixtures.appendingPathComponent("resample-reference.json")
        return try! JSONDecoder().decode(File.self, from: Data(contentsOf: url)).ppm
    }()

    @Test(arguments: pillowDecodedCases)
    func scaledAndGreyFilesDecodeLikePillow(file: PPMCase) throws {
        let data = try #require(Data(base64Encoded: file.data))
        let image = try PPMDecoder.decode(data, path: file.name)
        #expect(image.width == file.width && image.height == file.height)
        #expect(image.pixels == [UInt8](try #require(Data(base64Encoded: file.rgb))))
    }

    static let badFiles: [(String, [UInt8], MediaError.Code)] = [
        ("empty", [], .emptyFile),
        ("gif", Array("GIF89a....".utf8), .notAnImage),
        ("plain ppm", Array("P3\n1 1\n255\n0 0 0\n".utf8), .unsupportedFormat),
        ("bitmap", Array("P4\n8 1\n\u{0}".utf8), .unsupportedFormat),
        ("no maxval", Array("P6\n4 4\n".utf8), .truncated),
        ("signature only", Array("P6".utf8), .truncated),
        ("letters for width", Array("P6\nab 4\n255\n".utf8), .notAnImage),
        ("negative width", Array("P6\n-4 4\n255\n".utf8), .notAnImage),
        ("zero width", Array("P6\n0 4\n255\n".utf8), .notAnImage),
        ("zero height", Array("P5 4 0 255\n".utf8), .notAnImage),
        ("maxval zero", Array("P6 1 1 0\n\u{0}\u{0}\u{0}".utf8), .notAnImage),
        ("maxval too large", Array("P6 1 1 65536\n".utf8), .notAnImage),
        ("too many digits", Array("P6 12345678901 1 255\n".utf8), .notAnImage),
        ("16-bit grey", Array("P5 1 1 65535\n\u{0}\u{0}".utf8), .unsupportedFormat),
        ("truncated pixels", Array("P6\n2 2\n255\n".utf8) + [UInt8](repeating: 9, count: 11), .truncated),
        ("truncated 16-bit", Array("P6\n1 1\n1000\n".utf8) + [0, 1, 0, 2, 0], .truncated),
        ("huge", Array("P6\n100000 100000\n255\n".utf8), .tooManyPixels),
    ]

    @Test(arguments: 0..<badFiles.count)
    func malformedFilesThrowTheMatchingCode(index: Int) throws {
        let (name, bytes, code) = Self.badFiles[index]
        let error = try #require(throws: MediaError.self, "\(name)") {
            try PPMDecoder.decode(Data(bytes), path: "bad.ppm")
        }
        #expect(error.code == code, "\(name): \(error)")
        #expect(error.path == "bad.ppm")
    }

    @Test func unreadableFileNamesThePath() throws {
        let url = URL(fileURLWithPath: "/nonexistent/image.ppm")
        let error = try #require(throws: MediaError.self) { try PPMDecoder.decode(contentsOf: url) }
        #expect(error.code == .unreadable)
        #expect(error.path == url.path)
    }
}
