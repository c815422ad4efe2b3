import LoupeMedia

extension MediaLibrary {
    /// A small picture of an item: the image itself, or the video frame at the moment's thumbnail time.
    public func preview(of item: MediaItem, longestSide: Int = 256) throws -> DecodedImage {
        let url = URL(fileURLWithPath: item.path)
        let picture: DecodedImage
        switch item.kind {
        case .image:
            var decoder = decoder()
            decoder.configuration.minimumShortSide = longestSide
            picture = try decoder.decode(contentsOf: url)
        case .video:
            let time = item.thumbnailTime ?? item.start ?? 0
            var video = VideoDecoder()
            video.configuration.framesPerSecond = 4
            video.configuration.shortSide = longestSide
            var found: VideoFrame?
            try video.sample(contentsOf: url) { frame in
                found = frame
                return frame.timestamp + 0.125 < time
            }
            guard let frame = found else {
                throw LoupeError(.notFound, "no frame near \(time) s", input: item.path)
            }
            picture = DecodedImage(width: frame.width, height: frame.height, pixels: frame.pixels,
                                   metadata: ImageMetadata(format: .ppm, storedWidth: frame.width,
                                                           storedHeight: frame.height))
        }
        return try Thumbnailer(longestSide: longestSide).thumbnail(of: picture)
    }

    /// A contact sheet of results with a score bar per cell, as PNG bytes.
    public func contactSheet(_ results: [SearchResult], columns: Int = 4, cellSize: Int = 200) throws -> [UInt8] {
        let cells = try results.map { (image: try preview(of: $0.item, longestSide: cellSize), score: Double($0.score)) }
        let sheet = try ContactSheet(columns: columns, cellSize: cellSize).render(cells)
        return [UInt8](try ImageEncoder.encode(sheet, as: .png))
    }
}

import Foundation
