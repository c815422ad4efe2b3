/// A grid of result thumbnails with a score bar under each, the picture search tutorials draw
/// with matplotlib: cell `i` holds `items[i]`'s picture fitted into a square, and a bar whose
/// filled length is its score (0...1).
///
/// ```swift
/// let sheet = try ContactSheet(columns: 4, cellSize: 160).render(results.map { ($0.image, $0.score) })
/// let png = try ImageEncoder.encode(sheet, as: .png)
/// ```
public struct ContactSheet: Sendable {
    /// Cells per row.
    public var columns: Int
    /// Side of each cell's square picture area in pixels.
    public var cellSize: Int
    /// Pixels between and around cells.
    public var margin = 8
    /// Height of the score bar.
    public var barHeight = 10
    /// Background colour.
    public var background: (UInt8, UInt8, UInt8) = (32, 32, 36)
    /// Filled part of a score bar.
    public var barColor: (UInt8, UInt8, UInt8) = (64, 200, 120)
    /// Empty part of a score bar.
    public var barTrack: (UInt8, UInt8, UInt8) = (70, 70, 78)

    /// A sheet of `columns` cells per row, each picture fitted into `cellSize` x `cellSize`.
    public init(columns: Int = 4, cellSize: Int = 160) {
        precondition(columns > 0 && cellSize > 0, "a contact sheet needs at least one column and a positive cell size")
        self.columns = columns
        self.cellSize = cellSize
    }

    /// The sheet's size for `count` items.
    public func size(for count: Int) -> (width: Int, height: Int) {
        let rows = max(1, (count + columns - 1) / columns)
        let columnsUsed = max(1, min(count, columns))
        return (margin + columnsUsed * (cellSize + margin), margin + rows * (cellSize + 4 + barHeight + margin))
    }

    /// Draws the sheet. Scores outside 0...1 are clamped; NaN draws an empty bar.
    public func render(_ items: [(image: DecodedImage, score: Double)]) throws -> DecodedImage {
        let (width, height) = size(for: items.count)
        var canvas = [UInt8](repeating: 0, count: width * height * 3)
        func fill(x: Int, y: Int, w: Int, h: Int, _ color: (UInt8, UInt8, UInt8)) {
            for row in max(0, y)..<min(height, y + h) {
                for column in max(0, x)..<min(width, x + w) {
                    let i = (row * width + column) * 3
                    (canvas[i], canvas[i + 1], canvas[i + 2]) = color
                }
            }
        }
        fill(x: 0, y: 0, w: width, h: height, background)
        for (index, item) in items.enumerated() {
            let cellX = margin + (index % columns) * (cellSize + margin)
            let cellY = margin + (index / columns) * (cellSize + 4 + barHeight + margin)
            let fitted = ImageResizer.fitting(width: item.image.width, height: item.image.height, longestSide: cellSize)
            let thumb = try ImageResizer.resize(item.image, width: fitted.width, height: fitted.height)
            let offsetX = cellX + (cellSize - thumb.width) / 2
            let offsetY = cellY + (cellSize - thumb.height) / 2
            for row in 0..<thumb.height {
                let source = row * thumb.width * 3
                let target = ((offsetY + row) * width + offsetX) * 3
                canvas.replaceSubrange(target..<(target + thumb.width * 3), with: thumb.pixels[source..<(source + thumb.width * 3)])
            }
            let score = item.score.isNaN ? 0 : min(max(item.score, 0), 1)
            let barY = cellY + cellSize + 4
            fill(x: cellX, y: barY, w: cellSize, h: barHeight, barTrack)
            fill(x: cellX, y: barY, w: Int((Double(cellSize) * score).rounded()), h: barHeight, barColor)
        }
        let metadata = ImageMetadata(format: .png, storedWidth: width, storedHeight: height)
        return DecodedImage(width: width, height: height, pixels: canvas, metadata: metadata)
    }
}
