import Foundation

/// What a still image's header and EXIF block say about it, read without decoding pixels.
public struct ImageMetadata: Sendable, Hashable, Encodable {
    /// The container format found by content sniffing.
    public var format: ImageFormat
    /// Stored width in pixels, before EXIF orientation.
    public var storedWidth: Int
    /// Stored height in pixels, before EXIF orientation.
    public var storedHeight: Int
    /// EXIF orientation, 1...8 (1 when absent or invalid).
    public var orientation: Int = 1
    /// EXIF `DateTimeOriginal` (else `DateTime`), as written: `YYYY:MM:DD HH:MM:SS`.
    public var dateTaken: String?
    /// EXIF camera maker.
    public var cameraMake: String?
    /// EXIF camera model.
    public var cameraModel: String?
    /// GPS position from EXIF, when present.
    public var location: GPSLocation?

    /// Width as displayed: swapped with the height for orientations 5 to 8.
    public var width: Int { orientation >= 5 ? storedHeight : storedWidth }
    /// Height as displayed.
    public var height: Int { orientation >= 5 ? storedWidth : storedHeight }

    /// Metadata with a size and no EXIF fields.
    public init(format: ImageFormat, storedWidth: Int, storedHeight: Int) {
        self.format = format
        self.storedWidth = storedWidth
        self.storedHeight = storedHeight
    }
}

/// A position from EXIF GPS tags, in signed decimal degrees (south and west negative).
public struct GPSLocation: Sendable, Hashable, Codable {
    /// Degrees north (negative: south).
    public var latitude: Double
    /// Degrees east (negative: west).
    public var longitude: Double
    /// Metres above sea level (negative below), when recorded.
    public var altitude: Double?

    /// A position in signed decimal degrees.
    public init(latitude: Double, longitude: Double, altitude: Double? = nil) {
        self.latitude = latitude
        self.longitude = longitude
        self.altitude = altitude
    }
}
