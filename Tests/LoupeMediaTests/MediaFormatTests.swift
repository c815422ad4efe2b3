import Foundation
import Testing

@testable import LoupeMedia

/// `MediaFormat.detect` must say "image" exactly when `ImageDecoder` reads the bytes, and "video" for
/// containers `VideoDecoder` opens.
@Suite("Media format detection")
struct MediaFormatTests {
    static let imageCases: [(ImageEncoder.Format, ImageFormat)] = [
        (.png, .png), (.jpeg(quality: 85), .jpeg), (.webp(quality: 80), .webp), (.gif, .gif), (.bmp, .bmp),
        (.tiff, .tiff), (.qoi, .qoi), (.jpeg2000, .jpeg2000), (.pcx, .pcx), (.sgi, .sgi), (.sunRaster, .sunRaster),
    ]

    @Test("every format the encoder writes is detected as the image the decoder then reads",
          arguments: imageCases.indices)
    func images(_ index: Int) throws {
        let (encoding, expected) = Self.imageCases[index]
        let data = try ImageEncoder.encode(pixels: TestMedia.blocks(width: 40, height: 24), width: 40, height: 24,
                                           as: encoding)
        #expect(MediaFormat.detect(data) == .image(expected))
        let image = try ImageDecoder().decode(data, path: "\(expected)")
        #expect(image.width == 40 && image.height == 24)
    }

    @Test("binary PPM and PGM are images; their text and float variants are named, not decoded")
    func netpbm() throws {
        let ppm = Data("P6\n2 1\n255\n".utf8) + Data([1, 2, 3, 4, 5, 6])
        #expect(MediaFormat.detect(ppm) == .image(.ppm))
        let text = Data("P3\n1 1\n255\n1 2 3\n".utf8)
        #expect(MediaFormat.detect(text) == .unsupported("text or float Netpbm"))
        #expect(throws: MediaError.self) { try ImageDecoder().decode(text, path: "p3") }
    }

    @Test("the committed fixtures are classified from their first 512 bytes as from the whole file")
    func headerSuffices() throws {
        let folder = TestMedia.fixtures.appendingPathComponent("media")
        for name in try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted() {
            let data = try Data(contentsOf: folder.appendingPathComponent(name))
            let whole = data.withUnsafeBytes { ImageFormat.sniff($0) }
            let detected = try MediaFormat.detect(contentsOf: folder.appendingPathComponent(name))
            if let whole {
                #expect(detected == .image(whole), "\(name)")
            } else if case .image = detected {
                Issue.record("\(name): detected as an image the decoder does not recognise")
            }
        }
    }

    @Test("videos in the containers the writer makes are detected, and the decoder opens them",
          arguments: [("mp4", VideoContainer.mp4), ("mov", .mp4), ("mkv", .matroska), ("avi", .avi),
                      ("ts", .mpegTransportStream)])
    func videos(_ ext: String, _ container: VideoContainer) throws {
        let directory = try TestMedia.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let url = directory.appendingPathComponent("clip.\(ext)")
        let writer = try VideoWriter(url: url, width: 64, height: 48, framesPerSecond: 10)
        for index in 0..<10 { try writer.append(pixels: TestVideo.frame(index, width: 64, height: 48)) }
        try writer.finish()
        #expect(try MediaFormat.detect(contentsOf: url) == .video(container))
        let info = try VideoDecoder().probe(contentsOf: url)
        #expect(info.width == 64 && info.height == 48)
    }

    /// The first bytes of files that are not pictures Loupe decodes.
    static let otherCases: [(String, [UInt8], MediaFormat?)] = [
        ("HEIC", [0, 0, 0, 0x18] + Array("ftypheic".utf8) + [0, 0, 0, 0] + Array("mif1heic".utf8), .unsupported("HEIC")),
        ("HEIF", [0, 0, 0, 0x18] + Array("ftypmif1".utf8) + [0, 0, 0, 0] + Array("mif1heic".utf8), .unsupported("HEIC")),
        ("AVIF", [0, 0, 0, 0x1C] + Array("ftypavif".utf8) + [0, 0, 0, 0] + Array("avifmif1".utf8), .unsupported("AVIF")),
        ("JPEG XL", [0xFF, 0x0A, 0xFA, 0x7F], .unsupported("JPEG XL")),
        ("Photoshop", Array("8BPS".utf8) + [0, 1], .unsupported("Photoshop")),
        ("M4A audio", [0, 0, 0, 0x20] + Array("ftypM4A ".utf8) + [0, 0, 0, 0], nil),
        ("WAV audio", Array("RIFF".utf8) + [0x24, 0, 0, 0] + Array("WAVEfmt ".utf8), nil),
        ("Ogg Vorbis", Array("OggS".utf8) + [0, 2] + [UInt8](repeating: 0, count: 20) + [1, 30, 1] + Array("vorbis".utf8), nil),
        ("Ogg Theora", Array("OggS".utf8) + [0, 2] + [UInt8](repeating: 0, count: 20) + [1, 42, 0x80] + Array("theora".utf8),
         .video(.ogg)),
        ("text", Array("#!/bin/sh\necho hi\n".utf8), nil),
        ("empty", [], nil),
    ]

    @Test("recognised but undecodable pictures are named; audio and text are not media", arguments: otherCases.indices)
    func others(_ index: Int) throws {
        let (what, bytes, expected) = Self.otherCases[index]
        let data = Data(bytes + [UInt8](repeating: 0, count: bytes.isEmpty ? 0 : 64))
        #expect(MediaFormat.detect(data) == expected, "\(what)")
        if !data.isEmpty {
            #expect(throws: MediaError.self, "the image decoder must refuse \(what) too") {
                try ImageDecoder().decode(data, path: what)
            }
        }
    }

    @Test("probing a HEIC file says it is HEIC, as unsupported")
    func probeHEIC() throws {
        let directory = try TestMedia.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let url = directory.appendingPathComponent("IMG_0001.jpg")
        try Data(Self.otherCases[0].1 + [UInt8](repeating: 0, count: 64)).write(to: url)
        let error = try #require(throws: MediaError.self) { try MediaProbe().probe(contentsOf: url) }
        #expect(error.code == .unsupportedFormat)
        #expect(error.message == "HEIC pictures are not decoded")
        #expect(error.path == url.path)
    }
}
