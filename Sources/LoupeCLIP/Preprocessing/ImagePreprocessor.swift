/// Turns an RGB image into CLIP's input tensor the way transformers' PIL-based
/// `CLIPImageProcessor` does: resize with Pillow, centre crop (zero-padding images smaller than the
/// crop), rescale, normalise, channel-planar.
///
/// The resized and cropped `UInt8` image equals Pillow's byte for byte, and each float equals
/// transformers' value: `Float(Double(pixel) * rescaleFactor)`, then `(x - mean) / std` in `Float`.
///
/// ```swift
/// let preprocessor = try ImagePreprocessor(config: try PreprocessorConfig.load(from: configURL))
/// let input = preprocessor.preprocess(image)   // 3 * 224 * 224 floats, R plane first
/// ```
public struct ImagePreprocessor: Sendable {
    /// The settings in use.
    public let config: PreprocessorConfig
    /// `lookup[c * 256 + v]` is the final value for byte `v` in channel `c`.
    private let lookup: [Float]

    /// Creates a preprocessor.
    ///
    /// - Parameter config: Settings to use; throws `CLIPError(.invalidConfig)` when they fail
    ///   `PreprocessorConfig.validate()` (configs from `PreprocessorConfig.load(from:)` always pass).
    public init(config: PreprocessorConfig) throws {
        try config.validate()
        self.config = config
        // Every float depends only on the byte and channel, so precompute all 768 of them.
        var lookup = [Float](repeating: 0, count: 3 * 256)
        for channel in 0..<3 {
            // transformers builds float32 arrays from the mean and std before normalising.
            let mean = Float(config.imageMean[channel])
            let std = Float(config.imageStd[channel])
            for byte in 0..<256 {
                // `rescale` multiplies in float64 and then casts to float32.
                var value = config.doRescale ? Float(Double(byte) * config.rescaleFactor) : Float(byte)
                if config.doNormalize { value = (value - mean) / std }
                lookup[channel * 256 + byte] = value
            }
        }
        self.lookup = lookup
    }

    /// The output size when it does not depend on the input (a centre crop or an exact resize),
    /// else `nil`.
    public var outputSize: (height: Int, width: Int)? {
        if config.doCenterCrop { return (config.cropSize.height, config.cropSize.width) }
        if config.doResize, case .exact(let size) = config.size { return (size.height, size.width) }
        return nil
    }

    /// The output size for an input of `width` x `height` pixels.
    public func outputSize(forWidth width: Int, height: Int) -> (height: Int, width: Int) {
        if let fixed = outputSize { return fixed }
        let resized = resizedSize(width: width, height: height)
        return (resized.height, resized.width)
    }

    /// The size transformers resizes a `width` x `height` image to, before cropping.
    ///
    /// For `shortestEdge(n)` the shorter side becomes `n` and the longer `int(n * long / short)`,
    /// computed in double precision and truncated as Python does.
    public func resizedSize(width: Int, height: Int) -> (height: Int, width: Int) {
        guard config.doResize else { return (height, width) }
        switch config.size {
        case .exact(let size):
            return (size.height, size.width)
        case .shortestEdge(let edge):
            let (short, long) = width <= height ? (width, height) : (height, width)
            let newLong = Int(Double(edge) * Double(long) / Double(short))
            return width <= height ? (newLong, edge) : (edge, newLong)
        }
    }

    /// The exact `UInt8` image transformers normalises: resized with Pillow, then centre-cropped,
    /// with zero padding where the resized image is smaller than the crop.
    public func resizedAndCropped(_ image: RGBImage) -> RGBImage {
        let resized = resizedSize(width: image.width, height: image.height)
        guard config.doCenterCrop else {
            return PILResampler.resize(image, width: resized.width, height: resized.height, filter: config.resample)
        }
        let vertical = CropAxis(length: resized.height, crop: config.cropSize.height)
        let horizontal = CropAxis(length: resized.width, crop: config.cropSize.width)
        // Resample only the pixels that survive the crop.
        let window = PILResampler.resize(
            image, width: resized.width, height: resized.height, filter: config.resample,
            columns: horizontal.source, rows: vertical.source)
        if horizontal.isInside && vertical.isInside { return window }

        let width = config.cropSize.width
        let height = config.cropSize.height
        var pixels = [UInt8](repeating: 0, count: width * height * 3)
        let windowRowBytes = window.rowBytes
        pixels.withUnsafeMutableBufferPointer { out in
            window.pixels.withUnsafeBufferPointer { source in
                for row in 0..<window.height {
                    let dst = out.baseAddress! + ((vertical.destination + row) * width + horizontal.destination) * 3
                    dst.update(from: source.baseAddress! + row * windowRowBytes, count: windowRowBytes)
                }
            }
        }
        return RGBImage(uncheckedWidth: width, height: height, pixels: pixels)
    }

    /// Writes the model input for `image` into `buffer`: channel-planar (all R, then G, then B),
    /// row-major floats.
    ///
    /// - Parameter buffer: Room for `3 * height * width` floats of
    ///   `outputSize(forWidth: image.width, height: image.height)`.
    public func preprocess(_ image: RGBImage, into buffer: UnsafeMutablePointer<Float>) {
        normalize(resizedAndCropped(image), into: buffer)
    }

    /// Returns the model input for `image`: `3 * height * width` floats, channel-planar.
    public func preprocess(_ image: RGBImage) -> [Float] {
        let size = outputSize(forWidth: image.width, height: image.height)
        let count = 3 * size.height * size.width
        return [Float](unsafeUninitializedCapacity: count) { buffer, initialized in
            preprocess(image, into: buffer.baseAddress!)
            initialized = count
        }
    }

    /// Rescales and normalises an already resized and cropped image into channel-planar floats.
    public func normalize(_ image: RGBImage, into buffer: UnsafeMutablePointer<Float>) {
        let plane = image.width * image.height
        lookup.withUnsafeBufferPointer { table in
            image.pixels.withUnsafeBufferPointer { pixels in
                let red = table.baseAddress!
                let green = red + 256
                let blue = red + 512
                for i in 0..<plane {
                    buffer[i] = red[Int(pixels[3 * i])]
                    buffer[plane + i] = green[Int(pixels[3 * i + 1])]
                    buffer[2 * plane + i] = blue[Int(pixels[3 * i + 2])]
                }
            }
        }
    }
}

/// Where a centre crop of `crop` pixels takes its pixels from along one axis of length `length`,
/// following transformers' `center_crop`: start at `(length - crop) // 2`, and when the image is
/// shorter than the crop, centre it in zeros with `ceil((crop - length) / 2)` leading pixels.
private struct CropAxis {
    /// The resized-image pixels kept.
    let source: Range<Int>
    /// Where they land in the crop.
    let destination: Int
    /// Whether the crop lies entirely inside the image (no padding).
    var isInside: Bool { destination == 0 && source.count == crop }
    private let crop: Int

    init(length: Int, crop: Int) {
        self.crop = crop
        if length >= crop {
            let start = (length - crop) / 2
            source = start..<(start + crop)
            destination = 0
        } else {
            source = 0..<length
            destination = (crop - length + 1) / 2
        }
    }
}
