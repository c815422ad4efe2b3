import LoupeCLIP
import LoupeMedia

extension RGBImage {
    /// The decoded picture as CLIP's input type (the two modules do not depend on each other).
    public init(_ image: DecodedImage) throws {
        try self.init(width: image.width, height: image.height, pixels: image.pixels)
    }
}
