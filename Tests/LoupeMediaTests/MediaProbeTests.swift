import Foundation
import Testing

@testable import LoupeMedia

struct MediaProbeTests {
    @Test("images and videos are told apart by content, whatever their names")
    func kinds() throws {
        let directory = try TestMedia.temporaryDirectory()
        let video = try TestVideo.write(to: directory, name: "clip.mp4")
        let disguised = directory.appendingPathComponent("clip.jpg")
        try FileManager.default.copyItem(at: video, to: disguised)
        guard case .video(let info) = try MediaProbe().probe(contentsOf: disguised) else {
            Issue.record("an MP4 named .jpg should probe as a video")
            return
        }
        #expect(info.codec == "h264" || info.codec == "mpeg4")
        guard case .image(let metadata) = try MediaProbe().probe(contentsOf: TestMedia.fixture("png-named.jpg")) else {
            Issue.record("a PNG should probe as an image")
            return
        }
        #expect(metadata.format == .png)
        let error = try #require(throws: MediaError.self) {
            try MediaProbe().probe(contentsOf: TestMedia.fixture("text-named.png"))
        }
        #expect(error.code == .notAnImage && error.path == TestMedia.fixture("text-named.png").path)
    }

    @Test("the JSON shapes use displayed sizes and snake_case keys, omitting absent fields")
    func json() throws {
        var metadata = ImageMetadata(format: .jpeg, storedWidth: 40, storedHeight: 30)
        metadata.orientation = 6
        metadata.cameraMake = "Loupe"
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        let text = String(decoding: try encoder.encode(metadata), as: UTF8.self)
        #expect(text == #"{"camera_make":"Loupe","format":"jpeg","height":40,"orientation":6,"stored_height":30,"stored_width":40,"width":30}"#)
    }
}
