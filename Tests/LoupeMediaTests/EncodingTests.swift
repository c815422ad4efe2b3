import Foundation
import Testing

@testable import LoupeMedia

struct EncodingTests {
    static func photo(width: Int, height: Int) -> DecodedImage {
        DecodedImage(
            width: width, height: height, pixels: TestMedia.smooth(width: width, height: height),
            metadata: ImageMetadata(format: .png, storedWidth: width, storedHeight: height))
    }

    @Test(
        "thumbnails decode back at the longest side requested",
        arguments: [
            ImageEncoder.Format.jpeg(quality: 85), .webp(quality: 80), .png,
        ])
    func thumbnails(format: ImageEncoder.Format) throws {
        let data = try Thumbnailer(longestSide: 64).thumbnail(of: Self.photo(width: 300, height: 200), as: format)
        let back = try ImageDecoder().decode(data, path: "thumbnail")
        #expect([back.width, back.height] as [Int] == [64, 43])
        // Still the same picture: compare with a direct resize of the original.
        let reference = try ImageResizer.resize(Self.photo(width: 300, height: 200), width: 64, height: 43)
        #expect(TestMedia.difference(back.pixels, reference.pixels).mean < 6)
    }

    @Test("a thumbnail never enlarges a small picture")
    func smallPicture() throws {
        let thumb = try Thumbnailer(longestSide: 256).thumbnail(of: Self.photo(width: 40, height: 30))
        #expect([thumb.width, thumb.height] as [Int] == [40, 30])
    }

    @Test("a thumbnail of a JPEG file uses reduced-size decoding and keeps the aspect ratio")
    func fromFile() throws {
        let directory = try TestMedia.temporaryDirectory()
        let url = directory.appendingPathComponent("big.jpg")
        try ImageEncoder.encode(Self.photo(width: 800, height: 600), as: .jpeg(quality: 90)).write(to: url)
        let back = try ImageDecoder().decode(Thumbnailer(longestSide: 100).thumbnail(contentsOf: url, as: .png), path: nil)
        #expect([back.width, back.height] as [Int] == [100, 75])
    }

    @Test("a contact sheet has one cell per result and bars proportional to the scores")
    func contactSheet() throws {
        let items = [(Self.photo(width: 120, height: 80), 1.0), (Self.photo(width: 60, height: 90), 0.5),
                     (Self.photo(width: 50, height: 50), 0.0), (Self.photo(width: 200, height: 100), 0.25),
                     (Self.photo(width: 30, height: 30), .nan)]
        var sheet = ContactSheet(columns: 3, cellSize: 64)
        sheet.margin = 4
        let image = try sheet.render(items.map { (image: $0.0, score: $0.1) })
        // 3 columns x 2 rows: width 4 + 3 * 68, height 4 + 2 * (64 + 4 + 10 + 4).
        #expect([image.width, image.height] as [Int] == [208, 168])
        let png = try ImageEncoder.encode(image, as: .png)
        let back = try ImageDecoder().decode(png, path: "sheet.png")
        #expect(back.pixels == image.pixels)
        // The bar of the half-score cell is filled up to x = 4 + 68 + 32.
        func pixel(_ x: Int, _ y: Int) -> [UInt8] { Array(image.pixels[((y * image.width + x) * 3)..<((y * image.width + x) * 3 + 3)]) }
        let barY = 4 + 64 + 4 + 5
        #expect(pixel(4 + 68 + 31, barY) == [64, 200, 120])
        #expect(pixel(4 + 68 + 33, barY) == [70, 70, 78])
        #expect(pixel(4 + 63, barY) == [64, 200, 120])
        #expect(pixel(4 + 2 * 68 + 1, barY) == [70, 70, 78])
    }

    @Test("enlarging keeps the picture (bicubic) and the requested size")
    func enlarge() throws {
        let small = Self.photo(width: 40, height: 30)
        let large = try ImageResizer.resize(small, width: 120, height: 90)
        #expect([large.width, large.height] as [Int] == [120, 90])
        let back = try ImageResizer.resize(large, width: 40, height: 30)
        #expect(TestMedia.difference(back.pixels, small.pixels).mean < 4)
    }
}
