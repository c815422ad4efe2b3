/// JSON shapes used by `loupe probe --json`: displayed sizes, snake_case keys, absent fields omitted.
extension ImageMetadata {
    private enum Keys: String, CodingKey {
        case format, width, height, storedWidth = "stored_width", storedHeight = "stored_height", orientation
        case dateTaken = "date_taken", cameraMake = "camera_make", cameraModel = "camera_model", gps
    }

    /// Writes the JSON shape above.
    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: Keys.self)
        try c.encode(format, forKey: .format)
        try c.encode(width, forKey: .width)
        try c.encode(height, forKey: .height)
        try c.encode(storedWidth, forKey: .storedWidth)
        try c.encode(storedHeight, forKey: .storedHeight)
        try c.encode(orientation, forKey: .orientation)
        try c.encodeIfPresent(dateTaken, forKey: .dateTaken)
        try c.encodeIfPresent(cameraMake, forKey: .cameraMake)
        try c.encodeIfPresent(cameraModel, forKey: .cameraModel)
        try c.encodeIfPresent(location, forKey: .gps)
    }
}

extension VideoInfo {
    private enum Keys: String, CodingKey {
        case container, codec, width, height, storedWidth = "stored_width", storedHeight = "stored_height", rotation
        case duration, frameRate = "frame_rate", frameCount = "frame_count", creationTime = "creation_time"
    }

    /// Writes the JSON shape above.
    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: Keys.self)
        try c.encode(container, forKey: .container)
        try c.encode(codec, forKey: .codec)
        try c.encode(width, forKey: .width)
        try c.encode(height, forKey: .height)
        try c.encode(storedWidth, forKey: .storedWidth)
        try c.encode(storedHeight, forKey: .storedHeight)
        try c.encode(rotation, forKey: .rotation)
        try c.encodeIfPresent(duration, forKey: .duration)
        try c.encodeIfPresent(frameRate, forKey: .frameRate)
        try c.encodeIfPresent(frameCount, forKey: .frameCount)
        try c.encodeIfPresent(creationTime, forKey: .creationTime)
    }
}
