/// Applies an EXIF orientation to RGB8 pixels, as Pillow's `ImageOps.exif_transpose` does.
enum Orientation {
    /// Returns the upright pixels and size for `orientation` (1...8); 1 returns the input unchanged.
    ///
    /// 2 mirrors left-right, 3 rotates 180°, 4 mirrors top-bottom, 5 transposes, 6 rotates 90°
    /// clockwise, 7 transverses, 8 rotates 90° counter-clockwise.
    static func apply(
        _ orientation: Int, pixels: [UInt8], width: Int, height: Int
    ) -> (pixels: [UInt8], width: Int, height: Int) {
        guard (2...8).contains(orientation) else { return (pixels, width, height) }
        let swapped = orientation >= 5
        let outWidth = swapped ? height : width
        let outHeight = swapped ? width : height
        let output = [UInt8](unsafeUninitializedCapacity: pixels.count) { out, count in
            pixels.withUnsafeBufferPointer { source in
                for y in 0..<outHeight {
                    // Source pixel of output (x, y) = origin + x * step(x) + y * step(y), in pixels.
                    let (origin, stepX, stepY): (Int, Int, Int)
                    switch orientation {
                    case 2: (origin, stepX, stepY) = (width - 1, -1, width)
                    case 3: (origin, stepX, stepY) = (width * height - 1, -1, -width)
                    case 4: (origin, stepX, stepY) = ((height - 1) * width, 1, -width)
                    case 5: (origin, stepX, stepY) = (0, width, 1)
                    case 6: (origin, stepX, stepY) = ((height - 1) * width, -width, 1)
                    case 7: (origin, stepX, stepY) = (width * height - 1, -width, -1)
                    default: (origin, stepX, stepY) = (width - 1, width, -1)
                    }
                    var from = origin + y * stepY
                    var to = y * outWidth * 3
                    for _ in 0..<outWidth {
                        out[to] = source[from * 3]
                        out[to + 1] = source[from * 3 + 1]
                        out[to + 2] = source[from * 3 + 2]
                        from += stepX
                        to += 3
                    }
                }
            }
            count = pixels.count
        }
        return (output, outWidth, outHeight)
    }
}
