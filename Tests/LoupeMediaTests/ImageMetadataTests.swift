import Foundation
import Testing

@testable import LoupeMedia

struct ImageMetadataTests {
    @Test("EXIF date, camera and GPS are read from a JPEG's APP1 segment")
    func exifFields() throws {
        let jpeg = try ImageEncoder.encode(pixels: TestMedia.blocks(width: 16, height: 8), width: 16, height: 8, as: .jpeg(quality: 80))
        let exif = EXIFBuilder(
            orientation: 8, make: "Loupe Optics", model: "LX-1", dateTaken: "2024:06:01 12:34:56",
            gps: (-33.8568, 151.2153, 42.5))
        let directory = try TestMedia.temporaryDirectory()
        let url = directory.appendingPathComponent("photo.jpg")
        try exif.inserted(into: jpeg).write(to: url)

        let metadata = try ImageDecoder().metadata(contentsOf: url)
        #expect(metadata.format == .jpeg)
        #expect([metadata.storedWidth, metadata.storedHeight, metadata.width, metadata.height] as [Int] == [16, 8, 8, 16])
        #expect(metadata.orientation == 8)
        #expect(metadata.cameraMake == "Loupe Optics" && metadata.cameraModel == "LX-1")
        #expect(metadata.dateTaken == "2024:06:01 12:34:56")
        let location = try #require(metadata.location)
        #expect(abs(location.latitude - -33.8568) < 1e-4 && abs(location.longitude - 151.2153) < 1e-4)
        #expect(abs((location.altitude ?? 0) - 42.5) < 1e-3)
    }

    @Test("files without EXIF report orientation 1 and no camera")
    func noExif() throws {
        let png = try ImageEncoder.encode(pixels: TestMedia.blocks(width: 5, height: 3), width: 5, height: 3, as: .png)
        let image = try ImageDecoder().decode(png, path: nil)
        #expect(image.metadata.orientation == 1 && image.metadata.cameraMake == nil && image.metadata.location == nil)
    }
}
