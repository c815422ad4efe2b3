/// Extracts orientation, dates, camera and GPS from an EXIF TIFF structure.
enum EXIFReader {
    private enum Tag {
        static let make: UInt16 = 0x010F
        static let model: UInt16 = 0x0110
        static let orientation: UInt16 = 0x0112
        static let dateTime: UInt16 = 0x0132
        static let exifDirectory: UInt16 = 0x8769
        static let gpsDirectory: UInt16 = 0x8825
        static let dateTimeOriginal: UInt16 = 0x9003
    }

    /// Fills the EXIF fields of `metadata` from `tiff` (a TIFF header and its IFDs).
    static func read(_ tiff: UnsafeRawBufferPointer, into metadata: inout ImageMetadata) {
        guard let reader = TIFFReader(tiff), let first = reader.firstDirectory else { return }
        var dateTime: String?
        for entry in reader.entries(at: first) {
            switch entry.tag {
            case Tag.make: metadata.cameraMake = reader.string(entry)
            case Tag.model: metadata.cameraModel = reader.string(entry)
            case Tag.orientation:
                if let value = reader.integer(entry), (1...8).contains(value) { metadata.orientation = value }
            case Tag.dateTime: dateTime = reader.string(entry)
            case Tag.exifDirectory:
                if let offset = reader.integer(entry) {
                    for inner in reader.entries(at: offset) where inner.tag == Tag.dateTimeOriginal {
                        metadata.dateTaken = reader.string(inner)
                    }
                }
            case Tag.gpsDirectory:
                if let offset = reader.integer(entry) { metadata.location = location(reader, directory: offset) }
            default: break
            }
        }
        if metadata.dateTaken == nil { metadata.dateTaken = dateTime }
    }

    /// GPS tags 1-6: latitude and longitude as degrees/minutes/seconds rationals with N/S, E/W refs.
    private static func location(_ reader: TIFFReader, directory: Int) -> GPSLocation? {
        var entries: [UInt16: TIFFReader.Entry] = [:]
        for entry in reader.entries(at: directory) { entries[entry.tag] = entry }
        func degrees(_ tag: UInt16, negativeRef: String) -> Double? {
            guard let entry = entries[tag], let d = reader.rational(entry, index: 0) else { return nil }
            let m = reader.rational(entry, index: 1) ?? 0
            let s = reader.rational(entry, index: 2) ?? 0
            let value = d + m / 60 + s / 3600
            let ref = entries[tag - 1].flatMap { reader.string($0) }
            return ref?.uppercased() == negativeRef ? -value : value
        }
        guard let latitude = degrees(2, negativeRef: "S"), let longitude = degrees(4, negativeRef: "W") else {
            return nil
        }
        var altitude = entries[6].flatMap { reader.rational($0) }
        if let altitude0 = altitude, let ref = entries[5].flatMap({ reader.integer($0) }), ref == 1 {
            altitude = -altitude0
        }
        return GPSLocation(latitude: latitude, longitude: longitude, altitude: altitude)
    }
}
