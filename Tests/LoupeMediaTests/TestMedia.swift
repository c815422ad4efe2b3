import Foundation
import Testing

@testable import LoupeMedia

/// Synthetic pictures and file helpers shared by the media tests.
enum TestMedia {
    static let fixtures = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Fixtures")

    static func fixture(_ name: String) -> URL { fixtures.appendingPathComponent("media/\(name)") }

    /// A `width` x `height` picture of 8x8 blocks in 12 well-separated colours (JPEG-friendly,
    /// GIF-safe), so lossy codecs reproduce it closely and every orientation is distinguishable.
    static func blocks(width: Int, height: Int) -> [UInt8] {
        let palette: [(UInt8, UInt8, UInt8)] = [
            (230, 30, 30), (30, 200, 40), (40, 60, 220), (240, 240, 40), (30, 220, 220), (220, 40, 220),
            (250, 250, 250), (20, 20, 20), (128, 128, 128), (250, 140, 20), (120, 60, 20), (100, 160, 250),
        ]
        var pixels = [UInt8](repeating: 0, count: width * height * 3)
        for y in 0..<height {
            for x in 0..<width {
                let color = palette[((x / 8) * 5 + (y / 8) * 7 + (x / 8) * (y / 8)) % palette.count]
                let i = (y * width + x) * 3
                (pixels[i], pixels[i + 1], pixels[i + 2]) = (color.0, color.1, color.2)
            }
        }
        return pixels
    }

    /// A smooth picture (gradients and a disc), like a photo for lossy-codec and resizing checks.
    static func smooth(width: Int, height: Int) -> [UInt8] {
        var pixels = [UInt8](repeating: 0, count: width * height * 3)
        for y in 0..<height {
            for x in 0..<width {
                let i = (y * width + x) * 3
                let dx = Double(x - width / 2), dy = Double(y - height / 3)
                let inside = dx * dx + dy * dy < Double(min(width, height) * min(width, height)) / 16
                pixels[i] = UInt8(x * 255 / max(width - 1, 1))
                pixels[i + 1] = UInt8(y * 255 / max(height - 1, 1))
                pixels[i + 2] = inside ? 230 : UInt8((x + y) * 127 / max(width + height - 2, 1))
            }
        }
        return pixels
    }

    /// Mean and largest absolute byte difference.
    static func difference(_ a: [UInt8], _ b: [UInt8]) -> (mean: Double, max: Int) {
        precondition(a.count == b.count)
        var sum = 0
        var worst = 0
        for i in a.indices {
            let d = abs(Int(a[i]) - Int(b[i]))
            sum += d
            worst = max(worst, d)
        }
        return (Double(sum) / Double(max(a.count, 1)), worst)
    }

    /// A new empty directory, removed when the process ends (by the OS's temp cleanup).
    static func temporaryDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("loupe-media-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }
}

/// Builds little-endian EXIF blocks (a TIFF header and IFDs) for the metadata and orientation tests.
struct EXIFBuilder {
    var orientation: Int?
    var make: String?
    var model: String?
    var dateTaken: String?
    /// (latitude, longitude, altitude) in signed degrees and metres.
    var gps: (Double, Double, Double)?

    private struct Entry {
        var tag: UInt16
        var type: UInt16
        var count: UInt32
        var data: [UInt8]
    }

    private static func le16(_ v: Int) -> [UInt8] { [UInt8(v & 0xFF), UInt8(v >> 8 & 0xFF)] }
    private static func le32(_ v: Int) -> [UInt8] { (0..<4).map { UInt8(v >> (8 * $0) & 0xFF) } }
    private static func ascii(_ tag: UInt16, _ text: String) -> Entry {
        let bytes = Array(text.utf8) + [0]
        return Entry(tag: tag, type: 2, count: UInt32(bytes.count), data: bytes)
    }
    private static func rationals(_ tag: UInt16, _ values: [Double]) -> Entry {
        let data = values.flatMap { le32(Int(($0 * 1000).rounded())) + le32(1000) }
        return Entry(tag: tag, type: 5, count: UInt32(values.count), data: data)
    }

    /// Serialises directories: each entry's out-of-line data follows its directory.
    private static func directory(_ entries: [Entry], at offset: Int) -> [UInt8] {
        var out = le16(entries.count)
        var extra: [UInt8] = []
        let extraStart = offset + 2 + entries.count * 12 + 4
        for entry in entries {
            out += le16(Int(entry.tag)) + le16(Int(entry.type)) + le32(Int(entry.count))
            if entry.data.count <= 4 {
                out += entry.data + [UInt8](repeating: 0, count: 4 - entry.data.count)
            } else {
                out += le32(extraStart + extra.count)
                extra += entry.data + (entry.data.count % 2 == 1 ? [0] : [])
            }
        }
        return out + le32(0) + extra
    }

    /// The TIFF bytes (starting `II*\0`).
    func tiff() -> [UInt8] {
        var ifd0: [Entry] = []
        if let make { ifd0.append(Self.ascii(0x010F, make)) }
        if let model { ifd0.append(Self.ascii(0x0110, model)) }
        if let orientation { ifd0.append(Entry(tag: 0x0112, type: 3, count: 1, data: Self.le16(orientation))) }
        // Placeholders for the sub-directory pointers, patched below.
        if dateTaken != nil { ifd0.append(Entry(tag: 0x8769, type: 4, count: 1, data: Self.le32(0))) }
        if gps != nil { ifd0.append(Entry(tag: 0x8825, type: 4, count: 1, data: Self.le32(0))) }
        var bytes: [UInt8] = [0x49, 0x49, 0x2A, 0x00] + Self.le32(8)
        let first = Self.directory(ifd0, at: 8)
        var next = 8 + first.count
        var ifd0Patched = ifd0
        var tail: [UInt8] = []
        if let dateTaken {
            let exif = Self.directory([Self.ascii(0x9003, dateTaken)], at: next)
            if let index = ifd0Patched.firstIndex(where: { $0.tag == 0x8769 }) { ifd0Patched[index].data = Self.le32(next) }
            tail += exif
            next += exif.count
        }
        if let (latitude, longitude, altitude) = gps {
            func dms(_ value: Double) -> [Double] {
                let v = abs(value)
                let d = v.rounded(.down), m = ((v - d) * 60).rounded(.down)
                return [d, m, ((v - d) * 60 - m) * 60]
            }
            let entries = [
                Self.ascii(1, latitude < 0 ? "S" : "N"), Self.rationals(2, dms(latitude)),
                Self.ascii(3, longitude < 0 ? "W" : "E"), Self.rationals(4, dms(longitude)),
                Entry(tag: 5, type: 1, count: 1, data: [altitude < 0 ? 1 : 0]), Self.rationals(6, [abs(altitude)]),
            ]
            let gpsBytes = Self.directory(entries, at: next)
            if let index = ifd0Patched.firstIndex(where: { $0.tag == 0x8825 }) { ifd0Patched[index].data = Self.le32(next) }
            tail += gpsBytes
            next += gpsBytes.count
        }
        bytes += Self.directory(ifd0Patched, at: 8) + tail
        return bytes
    }

    /// `jpeg` with an APP1 Exif segment inserted right after SOI.
    func inserted(into jpeg: Data) -> Data {
        let payload = Array("Exif\0\0".utf8) + tiff()
        let length = payload.count + 2
        var out = Data(jpeg.prefix(2))
        out.append(contentsOf: [0xFF, 0xE1, UInt8(length >> 8), UInt8(length & 0xFF)] + payload)
        out.append(jpeg.dropFirst(2))
        return out
    }
}

extension TestMedia {
    /// A photo-like picture: smooth lighting, a few large soft shapes, edges and fine noise
    /// texture (what reduced-size decoding loses first). Deterministic for a seed.
    static func photo(width: Int, height: Int, seed: UInt64 = 1) -> [UInt8] {
        var state = seed &* 0x9E37_79B9_7F4A_7C15 | 1
        func next() -> Double {
            state ^= state << 13
            state ^= state >> 7
            state ^= state << 17
            return Double(state >> 11) / Double(1 << 53)
        }
        let shapes = (0..<12).map { _ in
            (x: next() * Double(width), y: next() * Double(height), r: (0.05 + next() * 0.2) * Double(min(width, height)),
             color: (next() * 255, next() * 255, next() * 255))
        }
        var pixels = [UInt8](repeating: 0, count: width * height * 3)
        for y in 0..<height {
            for x in 0..<width {
                var c = (
                    60 + 120 * Double(x) / Double(width), 80 + 100 * Double(y) / Double(height), 150 - 80 * Double(y) / Double(height)
                )
                for shape in shapes {
                    let dx = Double(x) - shape.x, dy = Double(y) - shape.y
                    if dx * dx + dy * dy < shape.r * shape.r {
                        c = (0.3 * c.0 + 0.7 * shape.color.0, 0.3 * c.1 + 0.7 * shape.color.1, 0.3 * c.2 + 0.7 * shape.color.2)
                    }
                }
                let grain = (next() - 0.5) * 24
                let i = (y * width + x) * 3
                pixels[i] = UInt8(max(0, min(255, c.0 + grain)))
                pixels[i + 1] = UInt8(max(0, min(255, c.1 + grain)))
                pixels[i + 2] = UInt8(max(0, min(255, c.2 + grain)))
            }
        }
        return pixels
    }
}
