/// Reads an image's size, EXIF block and completeness from its container structure, without
/// decoding pixels, so limits can be enforced before the codec allocates anything.
struct ImageHeaderReader {
    let bytes: UnsafeRawBufferPointer
    let format: ImageFormat
    let path: String?

    /// What the header says.
    struct Header {
        var metadata: ImageMetadata
        /// False when the structure ends before the data it announces.
        var isComplete = true
        /// JPEG only: the number of colour components (4 for CMYK/YCCK).
        var components = 3
        /// GIF only: the palette colour (0xRRGGBB) of the first frame's transparent index. Pillow
        /// keeps it when converting to RGB, where FFmpeg would substitute its own colour.
        var transparentColor: UInt32?
        /// Animated WebP only: the byte range of the first frame's `VP8 `/`VP8L` chunk (FFmpeg 5.1
        /// decodes still WebP only, so that chunk is decoded on its own).
        var firstWebPFrame: Range<Int>?
    }

    private func fail(_ code: MediaError.Code, _ message: String) -> MediaError {
        MediaError(code: code, message: message, path: path)
    }

    private func be16(_ o: Int) -> Int? { o + 2 <= bytes.count ? Int(bytes[o]) << 8 | Int(bytes[o + 1]) : nil }
    private func le16(_ o: Int) -> Int? { o + 2 <= bytes.count ? Int(bytes[o]) | Int(bytes[o + 1]) << 8 : nil }
    private func be32(_ o: Int) -> Int? {
        o + 4 <= bytes.count ? (0..<4).reduce(0) { $0 << 8 | Int(bytes[o + $1]) } : nil
    }
    private func le32(_ o: Int) -> Int? {
        o + 4 <= bytes.count ? (0..<4).reversed().reduce(0) { $0 << 8 | Int(bytes[o + $1]) } : nil
    }
    private func le24(_ o: Int) -> Int? {
        o + 3 <= bytes.count ? Int(bytes[o]) | Int(bytes[o + 1]) << 8 | Int(bytes[o + 2]) << 16 : nil
    }

    func read() throws -> Header {
        let header: Header
        switch format {
        case .jpeg: header = try readJPEG()
        case .png: header = try readPNG()
        case .webp: header = try readWebP()
        case .gif: header = try readGIF()
        case .bmp: header = try readBMP()
        case .tiff: header = try readTIFF()
        case .qoi: header = try readQOI()
        case .jpeg2000: header = try readJPEG2000()
        case .pcx: header = try readPCX()
        case .sgi: header = try readSized(width: be16(6), height: be16(8))
        case .sunRaster: header = try readSized(width: be32(4), height: be32(8))
        default: throw fail(.unsupportedFormat, "no header reader for \(format)")
        }
        guard header.metadata.storedWidth > 0, header.metadata.storedHeight > 0 else {
            throw fail(.notAnImage, "the \(format) header gives an empty size")
        }
        return header
    }

    private func metadata(_ width: Int, _ height: Int) -> ImageMetadata {
        ImageMetadata(format: format, storedWidth: width, storedHeight: height)
    }

    private func readEXIF(from start: Int, count: Int, into metadata: inout ImageMetadata) {
        guard start >= 0, count > 0, start + count <= bytes.count else { return }
        var offset = start
        var length = count
        // WebP writers differ on whether the EXIF chunk keeps JPEG's "Exif\0\0" prefix.
        if length >= 6, Array(bytes[offset..<(offset + 6)]) == Array("Exif\0\0".utf8) {
            offset += 6
            length -= 6
        }
        EXIFReader.read(UnsafeRawBufferPointer(rebasing: bytes[offset..<(offset + length)]), into: &metadata)
    }

    // MARK: JPEG

    private func readJPEG() throws -> Header {
        var offset = 2
        var size: (width: Int, height: Int, components: Int)?
        var exif: (Int, Int)?
        var scanStart: Int?
        var progressive = false
        while offset + 4 <= bytes.count {
            guard bytes[offset] == 0xFF else { throw fail(.corrupt, "JPEG marker expected at byte \(offset)") }
            var marker = bytes[offset + 1]
            while marker == 0xFF && offset + 2 < bytes.count {
                offset += 1
                marker = bytes[offset + 1]
            }
            if marker == 0x01 || (0xD0...0xD7).contains(marker) {
                offset += 2
                continue
            }
            guard let length = be16(offset + 2), length >= 2 else { break }
            let body = offset + 4
            switch marker {
            case 0xE1 where exif == nil && length >= 8:
                if body + 6 <= bytes.count, Array(bytes[body..<(body + 6)]) == Array("Exif\0\0".utf8) {
                    exif = (body + 6, min(length - 8, bytes.count - body - 6))
                }
            case 0xC0...0xCF where marker != 0xC4 && marker != 0xC8 && marker != 0xCC:
                if let height = be16(body + 1), let width = be16(body + 3), body + 5 < bytes.count {
                    size = (width, height, Int(bytes[body + 5]))
                }
                progressive = [0xC2, 0xC6, 0xCA, 0xCE].contains(marker)
            case 0xDA:
                scanStart = body
            case 0xD9:
                throw fail(.corrupt, "the JPEG ends before its first scan")
            default: break
            }
            if scanStart != nil { break }
            offset += 2 + length
        }
        guard let size else {
            throw fail(.truncated, "the JPEG ends before its frame header")
        }
        if size.height == 0 { throw fail(.unsupportedFormat, "JPEG with the height in a DNL marker") }
        var header = Header(metadata: metadata(size.width, size.height), components: size.components)
        if let (start, count) = exif { readEXIF(from: start, count: count, into: &header.metadata) }
        // 0xFF 0xD9 cannot occur inside entropy-coded data (0xFF is stuffed there), so the last
        // such pair after the first scan is the end-of-image marker; writers may add trailing bytes.
        header.isComplete = false
        if let scanStart {
            var index = bytes.count - 2
            while index >= scanStart {
                if bytes[index] == 0xFF && bytes[index + 1] == 0xD9 {
                    header.isComplete = true
                    break
                }
                index -= 1
            }
            if progressive { try checkScanCount(from: scanStart) }
        }
        return header
    }

    /// The most scans a progressive JPEG may have. Each scan is a pass over the whole picture, so a
    /// small file with thousands of scans costs minutes of CPU; real encoders write about ten.
    static let maxProgressiveScans = 500

    /// Counts start-of-scan markers (0xFF 0xDA cannot occur inside entropy-coded data).
    private func checkScanCount(from start: Int) throws {
        var scans = 0
        var index = start
        let end = bytes.count - 1
        while index < end {
            if bytes[index] == 0xFF && bytes[index + 1] == 0xDA {
                scans += 1
                if scans > Self.maxProgressiveScans {
                    throw fail(.unsupportedFormat, "progressive JPEG with more than \(Self.maxProgressiveScans) scans")
                }
            }
            index += 1
        }
    }

    // MARK: PNG

    private func readPNG() throws -> Header {
        guard let width = be32(16), let height = be32(20), bytes.count >= 29,
            Array(bytes[12..<16]) == Array("IHDR".utf8)
        else { throw fail(.truncated, "the PNG ends before its IHDR chunk") }
        var header = Header(metadata: metadata(width, height))
        header.isComplete = false
        var offset = 8
        while let length = be32(offset), offset + 8 <= bytes.count {
            let type = Array(bytes[(offset + 4)..<(offset + 8)])
            let end = offset + 12 + length
            guard end <= bytes.count else { break }
            if type == Array("eXIf".utf8) { readEXIF(from: offset + 8, count: length, into: &header.metadata) }
            if type == Array("IEND".utf8) {
                header.isComplete = true
                break
            }
            offset = end
        }
        return header
    }

    // MARK: WebP

    private func readWebP() throws -> Header {
        guard let riffSize = le32(4) else { throw fail(.truncated, "the WebP ends inside its RIFF header") }
        var size: (Int, Int)?
        var exif: (Int, Int)?
        var firstFrame: Range<Int>?
        var offset = 12
        while offset + 8 <= bytes.count, let length = le32(offset + 4) {
            let type = String(decoding: bytes[offset..<(offset + 4)], as: UTF8.self)
            let data = offset + 8
            switch type {
            case "ANMF" where firstFrame == nil:
                // 16 bytes of frame geometry, then the frame's chunks (an optional ALPH, then the image).
                var inner = data + 16
                let end = min(data + length, bytes.count)
                while inner + 8 <= end, let innerLength = le32(inner + 4) {
                    let innerType = String(decoding: bytes[inner..<(inner + 4)], as: UTF8.self)
                    if innerType == "VP8 " || innerType == "VP8L" {
                        firstFrame = inner..<min(inner + 8 + innerLength, bytes.count)
                        break
                    }
                    inner += 8 + innerLength + (innerLength & 1)
                }
            case "VP8X":
                if let w = le24(data + 4), let h = le24(data + 7) { size = (w + 1, h + 1) }
            case "VP8 ":
                if size == nil, let w = le16(data + 6), let h = le16(data + 8) { size = (w & 0x3FFF, h & 0x3FFF) }
            case "VP8L":
                if size == nil, data + 5 <= bytes.count, bytes[data] == 0x2F, let bits = le32(data + 1) {
                    size = ((bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1)
                }
            case "EXIF":
                exif = (data, min(length, bytes.count - data))
            default: break
            }
            offset = data + length + (length & 1)
        }
        guard let size else { throw fail(.truncated, "the WebP ends before its image header") }
        var header = Header(metadata: metadata(size.0, size.1))
        if let (start, count) = exif { readEXIF(from: start, count: count, into: &header.metadata) }
        header.firstWebPFrame = firstFrame
        header.isComplete = riffSize + 8 <= bytes.count
        return header
    }

    // MARK: GIF, BMP, TIFF, QOI

    private func readGIF() throws -> Header {
        guard let width = le16(6), let height = le16(8) else { throw fail(.truncated, "the GIF ends inside its header") }
        var header = Header(metadata: metadata(width, height))
        let firstImage = gifFirstImage()
        header.transparentColor = firstImage.transparentColor
        // Only the first frame is decoded, so only its data must be complete (many writers omit
        // the trailer, and later frames do not matter).
        header.isComplete = firstImage.isComplete
        return header
    }

    /// Walks the GIF blocks through the first image: whether its data is all there, and its
    /// graphic control extension's transparent index looked up in the local colour table if the
    /// image has one, else the global one.
    private func gifFirstImage() -> (isComplete: Bool, transparentColor: UInt32?) {
        func tableSize(_ flags: UInt8) -> Int { flags & 0x80 != 0 ? 3 << (Int(flags & 7) + 1) : 0 }
        /// The offset after a run of data sub-blocks starting at `offset`, or nil if it is cut off.
        func skipSubBlocks(_ start: Int) -> Int? {
            var offset = start
            while offset < bytes.count {
                if bytes[offset] == 0 { return offset + 1 }
                offset += Int(bytes[offset]) + 1
            }
            return nil
        }
        guard bytes.count > 13 else { return (false, nil) }
        let globalTable = 13
        var offset = globalTable + tableSize(bytes[10])
        var transparentIndex: Int?
        while offset + 1 < bytes.count {
            switch bytes[offset] {
            case 0x21:  // extension: label, then sub-blocks
                if bytes[offset + 1] == 0xF9, offset + 6 < bytes.count, bytes[offset + 3] & 1 != 0 {
                    transparentIndex = Int(bytes[offset + 6])
                }
                guard let next = skipSubBlocks(offset + 2) else { return (false, nil) }
                offset = next
            case 0x2C:  // image descriptor, local table, LZW code size, data sub-blocks
                guard offset + 9 < bytes.count else { return (false, nil) }
                let local = tableSize(bytes[offset + 9])
                let data = offset + 10 + local + 1
                let complete = skipSubBlocks(data) != nil
                guard let index = transparentIndex else { return (complete, nil) }
                let table = local > 0 ? offset + 10 : globalTable
                let size = local > 0 ? local : tableSize(bytes[10])
                guard 3 * index + 2 < size, table + 3 * index + 2 < bytes.count else { return (complete, nil) }
                let entry = table + 3 * index
                let color = UInt32(bytes[entry]) << 16 | UInt32(bytes[entry + 1]) << 8 | UInt32(bytes[entry + 2])
                return (complete, color)
            default:
                return (false, nil)
            }
        }
        return (false, nil)
    }

    private func readBMP() throws -> Header {
        guard let dibSize = le32(14), let dataOffset = le32(10) else {
            throw fail(.truncated, "the BMP ends inside its header")
        }
        let width: Int, height: Int, bitsPerPixel: Int, compression: Int
        if dibSize == 12 {
            guard let w = le16(18), let h = le16(20), let bpp = le16(24) else {
                throw fail(.truncated, "the BMP ends inside its header")
            }
            (width, height, bitsPerPixel, compression) = (w, h, bpp, 0)
        } else {
            guard let w = le32(18), let h = le32(22), let bpp = le16(28), let c = le32(30) else {
                throw fail(.truncated, "the BMP ends inside its header")
            }
            // Heights are signed: negative means top-down rows.
            (width, height, bitsPerPixel, compression) = (Int(Int32(truncatingIfNeeded: w)), abs(Int(Int32(truncatingIfNeeded: h))), bpp, c)
        }
        guard width > 0 else { throw fail(.notAnImage, "the BMP header gives width \(width)") }
        var header = Header(metadata: metadata(width, height))
        // Uncompressed and bit-field rows are padded to 4 bytes; RLE data has no fixed size.
        if compression == 0 || compression == 3, (1...32).contains(bitsPerPixel) {
            let row = (width * bitsPerPixel + 31) / 32 * 4
            let (needed, overflow) = row.multipliedReportingOverflow(by: height)
            header.isComplete = !overflow && dataOffset + needed <= bytes.count
        }
        return header
    }

    private func readTIFF() throws -> Header {
        guard let reader = TIFFReader(bytes), let first = reader.firstDirectory else {
            throw fail(.truncated, "the TIFF ends inside its header")
        }
        var width: Int?
        var height: Int?
        for entry in reader.entries(at: first) {
            if entry.tag == 256 { width = reader.integer(entry) }
            if entry.tag == 257 { height = reader.integer(entry) }
        }
        guard let width, let height else { throw fail(.truncated, "the TIFF has no image size in its first directory") }
        var header = Header(metadata: metadata(width, height))
        EXIFReader.read(bytes, into: &header.metadata)
        return header
    }

    private func readQOI() throws -> Header {
        guard let width = be32(4), let height = be32(8) else { throw fail(.truncated, "the QOI ends inside its header") }
        var header = Header(metadata: metadata(width, height))
        // The stream ends with seven 0x00 bytes and one 0x01.
        header.isComplete = bytes.count >= 22 && bytes.suffix(8).elementsEqual([0, 0, 0, 0, 0, 0, 0, 1])
        return header
    }

    // MARK: JPEG 2000, PCX, SGI, Sun raster (completeness is left to the codec)

    private func readSized(width: Int?, height: Int?) throws -> Header {
        guard let width, let height else { throw fail(.truncated, "the \(format) ends inside its header") }
        return Header(metadata: metadata(width, height))
    }

    private func readJPEG2000() throws -> Header {
        if bytes[0] == 0xFF {
            // Codestream: SIZ marker segment right after SOC: Xsiz, Ysiz, XOsiz, YOsiz.
            guard let x = be32(8), let y = be32(12), let x0 = be32(16), let y0 = be32(20) else {
                throw fail(.truncated, "the JPEG 2000 codestream ends inside its SIZ segment")
            }
            return Header(metadata: metadata(x - x0, y - y0))
        }
        // JP2: the image header box (`ihdr`: height, width) inside the header box, near the start.
        let limit = min(bytes.count - 12, 4096)
        var index = 0
        while index < limit {
            if bytes[index] == 0x69 && bytes[index + 1] == 0x68 && bytes[index + 2] == 0x64 && bytes[index + 3] == 0x72,
                let height = be32(index + 4), let width = be32(index + 8)
            {
                return Header(metadata: metadata(width, height))
            }
            index += 1
        }
        throw fail(.truncated, "the JP2 file has no image header box")
    }

    private func readPCX() throws -> Header {
        guard let xMin = le16(4), let yMin = le16(6), let xMax = le16(8), let yMax = le16(10) else {
            throw fail(.truncated, "the PCX ends inside its header")
        }
        return Header(metadata: metadata(xMax - xMin + 1, yMax - yMin + 1))
    }
}
