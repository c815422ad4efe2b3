import Foundation
import LoupeCLIP
import LoupeMedia
import Testing

/// `ImagePreprocessor` against transformers' PIL-based `CLIPImageProcessor`, and `PILResampler`
/// against Pillow: the resized and cropped bytes must be identical, not merely close.
struct ImagePreprocessorTests {
    struct ReferenceImage: Decodable {
        let ppm: String
        let cropFile: String
        let size: [Int]
        let resized: [Int]
    }

    struct ModelImages: Decodable {
        let imageSize: Int
        let images: [ReferenceImage]
    }

    static let referenceImages: [String: ModelImages] = {
        let data = try! Data(contentsOf: Fixtures.directory.appendingPathComponent("clip-reference.json"))
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        return try! decoder.decode([String: ModelImages].self, from: data)
    }()

    static func preprocessor(for model: String) throws -> ImagePreprocessor {
        let url = Fixtures.model(model).appendingPathComponent("preprocessor_config.json")
        return ImagePreprocessor(config: try PreprocessorConfig.load(from: url))
    }

    @Test(arguments: ["clip-tiny", "clip-tiny-gelu"])
    func resizedAndCroppedBytesEqualPillows(model: String) throws {
        let preprocessor = try Self.preprocessor(for: model)
        let reference = try #require(Self.referenceImages[model])
        #expect(reference.images.count == 5)
        for entry in reference.images {
            let image = try Fixtures.image(entry.ppm)
            #expect([image.width, image.height] == entry.size)
            let resized = preprocessor.resizedSize(width: image.width, height: image.height)
            #expect([resized.width, resized.height] == entry.resized, "resize target of \(entry.ppm)")

            let expected = try Fixtures.image(entry.cropFile)
            let crop = preprocessor.resizedAndCropped(image)
            #expect(crop.width == reference.imageSize && crop.height == reference.imageSize)
            #expect(crop.pixels.count == expected.pixels.count)
            let differing = zip(crop.pixels, expected.pixels).filter { $0 != $1 }.count
            #expect(differing == 0, "\(model) \(entry.ppm): bytes differ from Pillow's crop (tolerance 0)")
        }
    }

    @Test(arguments: ["clip-tiny", "clip-tiny-gelu"])
    func floatsAreRescaledAndNormalisedCrops(model: String) throws {
        let preprocessor = try Self.preprocessor(for: model)
        let config = preprocessor.config
        for entry in try #require(Self.referenceImages[model]).images {
            let image = try Fixtures.image(entry.ppm)
            let crop = try Fixtures.image(entry.cropFile)
            let values = preprocessor.preprocess(image)
            let plane = crop.width * crop.height
            #expect(values.count == 3 * plane)
            var worst = 0.0
            for i in 0..<plane {
                for channel in 0..<3 {
                    let byte = Double(crop.pixels[3 * i + channel])
                    let expected = (byte * config.rescaleFactor - config.imageMean[channel]) / config.imageStd[channel]
                    worst = max(worst, abs(Double(values[channel * plane + i]) - expected))
                }
            }
            #expect(worst <= 1e-6, "\(model) \(entry.ppm): largest deviation \(worst)")
        }
    }

    @Test func preprocessIntoBufferMatchesArrayVersion() throws {
        let preprocessor = try Self.preprocessor(for: "clip-tiny-gelu")
        let image = try Fixtures.image("images/landscape_640x480.ppm")
        let values = preprocessor.preprocess(image)
        let size = try #require(preprocessor.outputSize)
        let buffer = UnsafeMutablePointer<Float>.allocate(capacity: 3 * size.height * size.width)
        defer { buffer.deallocate() }
        preprocessor.preprocess(image, into: buffer)
        #expect(Array(UnsafeBufferPointer(start: buffer, count: values.count)) == values)
    }

    @Test func floatsRoundLikeTransformers() throws {
        // transformers rescales in float64, casts to float32, then normalises in float32.
        var config = PreprocessorConfig()
        config.doResize = false
        config.doCenterCrop = false
        let image = try RGBImage(width: 256, height: 1, pixels: (0..<256).flatMap { [UInt8($0), UInt8(255 - $0), 7] })
        let values = ImagePreprocessor(config: config).preprocess(image)
        for x in 0..<256 {
            for channel in 0..<3 {
                let byte = Double(image.pixels[3 * x + channel])
                let rescaled = Float(byte * config.rescaleFactor)
                let expected = (rescaled - Float(config.imageMean[channel])) / Float(config.imageStd[channel])
                #expect(values[channel * 256 + x].bitPattern == expected.bitPattern)
            }
        }
    }

    @Test func shortestEdgeTruncatesTheLongSideLikePython() {
        let preprocessor = ImagePreprocessor(config: PreprocessorConfig())
        // int(224 * 640 / 480) = int(298.66...) = 298; int(224 * 1000 / 300) = 746.
        #expect(preprocessor.resizedSize(width: 640, height: 480) == (224, 298))
        #expect(preprocessor.resizedSize(width: 300, height: 1000) == (746, 224))
        #expect(preprocessor.resizedSize(width: 224, height: 224) == (224, 224))
        // Square and 1-pixel edge cases: the shorter side is the width when they tie.
        #expect(preprocessor.resizedSize(width: 1, height: 500) == (112_000, 224))
        #expect(preprocessor.resizedSize(width: 3, height: 2) == (224, 336))
        #expect(preprocessor.outputSize! == (224, 224))
    }

    @Test func imageAlreadyAtTargetSizeIsUnchanged() throws {
        let image = try Fixtures.image("images/square_224x224.ppm")
        let crop = ImagePreprocessor(config: PreprocessorConfig()).resizedAndCropped(image)
        #expect(crop == image)
    }

    @Test func cropLargerThanImageIsZeroPaddedAroundTheCentre() throws {
        var config = PreprocessorConfig()
        config.doResize = false
        config.cropSize = .init(height: 6, width: 4)
        // 3 wide, 3 tall: transformers pads ceil((4 - 3) / 2) = 1 column on the left and
        // ceil((6 - 3) / 2) = 2 rows on top.
        let pixels = (0..<27).map { UInt8(10 + $0) }
        let image = try RGBImage(width: 3, height: 3, pixels: pixels)
        let preprocessor = ImagePreprocessor(config: config)
        let crop = preprocessor.resizedAndCropped(image)
        #expect(crop.width == 4 && crop.height == 6)
        for y in 0..<6 {
            for x in 0..<4 {
                let inside = (2..<5).contains(y) && (1..<4).contains(x)
                let expected = inside ? image[x - 1, y - 2] : (0, 0, 0)
                #expect(crop[x, y] == expected, "pixel (\(x), \(y))")
            }
        }
        let values = preprocessor.preprocess(image)
        let zeroRed = (Float(0) - Float(config.imageMean[0])) / Float(config.imageStd[0])
        #expect(values[0] == zeroRed)
    }

    @Test func cropPadsOnlyTheShortAxis() throws {
        // A 10x2 image with a 4x4 crop: columns are cropped from (10 - 4) // 2 = 3, rows padded 1 + 1.
        var config = PreprocessorConfig()
        config.doResize = false
        config.cropSize = .init(height: 4, width: 4)
        let image = try RGBImage(width: 10, height: 2, pixels: (0..<60).map { UInt8($0 * 4) })
        let crop = ImagePreprocessor(config: config).resizedAndCropped(image)
        for y in 0..<4 {
            for x in 0..<4 {
                let expected = (1..<3).contains(y) ? image[x + 3, y - 1] : (0, 0, 0)
                #expect(crop[x, y] == expected, "pixel (\(x), \(y))")
            }
        }
    }

    @Test(arguments: ResamplingFilter.allCases)
    func centreCropOfResizeEqualsFullResizeThenCrop(filter: ResamplingFilter) throws {
        // The preprocessor resamples only the pixels inside the crop; that must not change them.
        let image = try Fixtures.image("images/odd_37x53.ppm")
        for (edge, crop) in [(20, (18, 16)), (40, (40, 40)), (70, (80, 30)), (9, (9, 9))] {
            var config = PreprocessorConfig()
            config.resample = filter
            config.size = .shortestEdge(edge)
            config.cropSize = .init(height: crop.0, width: crop.1)
            let preprocessor = ImagePreprocessor(config: config)
            let size = preprocessor.resizedSize(width: image.width, height: image.height)
            let full = PILResampler.resize(image, width: size.width, height: size.height, filter: filter)
            let top = (size.height - crop.0) / 2
            let left = (size.width - crop.1) / 2
            var expected: [UInt8] = []
            for y in top..<(top + crop.0) {
                let row = (y * full.width + left) * 3
                expected += full.pixels[row..<(row + crop.1 * 3)]
            }
            let window = preprocessor.resizedAndCropped(image).pixels
            #expect(window.count == expected.count)
            let differing = zip(window, expected).filter { $0 != $1 }.count
            #expect(differing == 0, "\(filter), edge \(edge), crop \(crop): bytes differ")
        }
    }
}

// MARK: - Every Pillow filter

/// `PILResampler` against `Tests/Fixtures/resample-reference.json` (`tools/make_resample_fixtures.py`).
struct PILResamplerTests {
    struct Reference: Decodable {
        struct Source: Decodable {
            let width: Int
            let height: Int
            let rgb: String
        }

        struct Case: Decodable, CustomTestStringConvertible {
            let source: String
            let filter: Int
            let filterName: String
            let width: Int
            let height: Int
            let rgb: String
            var testDescription: String { "\(source) -> \(width)x\(height) \(filterName)" }
        }

        let pillow: String
        let sources: [String: Source]
        let cases: [Case]
    }

    static let reference: Reference = {
        let url = Fixtures.directory.appendingPathComponent("resample-reference.json")
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        return try! decoder.decode(Reference.self, from: Data(contentsOf: url))
    }()

    @Test func everyFilterMatchesPillowByteForByte() throws {
        let reference = Self.reference
        #expect(Set(reference.cases.map(\.filter)) == Set(ResamplingFilter.allCases.map(\.rawValue)))
        var sources: [String: RGBImage] = [:]
        for (name, source) in reference.sources {
            sources[name] = try RGBImage(
                width: source.width, height: source.height,
                pixels: [UInt8](try #require(Data(base64Encoded: source.rgb))))
        }
        var failures: [String] = []
        for entry in reference.cases {
            let source = try #require(sources[entry.source])
            let filter = try #require(ResamplingFilter(rawValue: entry.filter))
            let expected = [UInt8](try #require(Data(base64Encoded: entry.rgb)))
            let output = PILResampler.resize(source, width: entry.width, height: entry.height, filter: filter)
            if output.width != entry.width || output.height != entry.height || output.pixels != expected {
                let differing = zip(output.pixels, expected).filter { $0 != $1 }.count
                failures.append("\(entry.testDescription): \(differing) bytes differ")
            }
        }
        #expect(failures.isEmpty, "differs from Pillow \(reference.pillow): \(failures.joined(separator: "; "))")
        #expect(reference.cases.count > 200)
    }

    @Test func resizeToSameSizeIsACopy() throws {
        let image = try Fixtures.image("images/odd_37x53.ppm")
        for filter in ResamplingFilter.allCases {
            #expect(PILResampler.resize(image, width: 37, height: 53, filter: filter) == image)
        }
    }

    @Test func onePixelImagesGrowToFlatColour() throws {
        let image = try RGBImage(width: 1, height: 1, pixels: [200, 17, 90])
        for filter in ResamplingFilter.allCases {
            let output = PILResampler.resize(image, width: 5, height: 3, filter: filter)
            #expect(output.pixels == [UInt8]((0..<15).flatMap { _ in [200, 17, 90] as [UInt8] }), "\(filter)")
        }
    }
}

// MARK: - Configuration

struct PreprocessorConfigTests {
    func decode(_ json: String) throws -> PreprocessorConfig {
        try PreprocessorConfig.decode(Data(json.utf8), path: "preprocessor_config.json")
    }

    @Test func modernConfigFromFixture() throws {
        let url = Fixtures.model("clip-tiny").appendingPathComponent("preprocessor_config.json")
        let config = try PreprocessorConfig.load(from: url)
        #expect(config.size == .shortestEdge(224))
        #expect(config.cropSize == .init(height: 224, width: 224))
        #expect(config.resample == .bicubic)
        #expect(config.rescaleFactor == 1.0 / 255.0)
        #expect(config.imageMean == [0.48145466, 0.4578275, 0.40821073])
        #expect(config.imageStd == [0.26862954, 0.26130258, 0.27577711])
        #expect(config.doResize && config.doCenterCrop && config.doRescale && config.doNormalize)
    }

    @Test func legacyIntegerSizesMeanShortestEdgeAndSquareCrop() throws {
        let url = Fixtures.model("clip-tiny-gelu").appendingPathComponent("preprocessor_config.json")
        let config = try PreprocessorConfig.load(from: url)
        #expect(config.size == .shortestEdge(64))
        #expect(config.cropSize == .init(height: 64, width: 64))
        // Absent keys take CLIPImageProcessor's defaults.
        #expect(config.doRescale && config.doConvertRGB && config.rescaleFactor == 1.0 / 255.0)
    }

    @Test func emptyConfigIsCLIPImageProcessorDefaults() throws {
        #expect(try decode("{}") == PreprocessorConfig())
    }

    @Test func otherSpellingsOfSizesAndChannels() throws {
        let config = try decode(
            """
            {"size": {"height": 30, "width": 40, "shortest_edge": null}, "crop_size": [20, 10],
             "resample": 1, "image_mean": 0.5, "image_std": [0.25, 0.5, 1], "do_center_crop": false,
             "image_processor_type": "CLIPImageProcessor"}
            """)
        #expect(config.size == .exact(.init(height: 30, width: 40)))
        #expect(config.cropSize == .init(height: 20, width: 10))
        #expect(config.resample == .lanczos)
        #expect(config.imageMean == [0.5, 0.5, 0.5])
        #expect(config.imageStd == [0.25, 0.5, 1])
        #expect(ImagePreprocessor(config: config).outputSize! == (30, 40))
        #expect(try decode(#"{"size": [96]}"#).size == .shortestEdge(96))
    }

    @Test(arguments: [
        #"{"resample": 6}"#,
        #"{"size": {"shortest_edge": 224, "longest_edge": 1000}}"#,
        #"{"size": {"max_height": 10, "max_width": 10}}"#,
        #"{"crop_size": {"shortest_edge": 224}}"#,
        #"{"size": 0}"#,
        #"{"crop_size": {"height": 0, "width": 5}}"#,
        #"{"image_mean": [0.5, 0.5]}"#,
        #"{"image_std": [0.5, 0, 0.5]}"#,
        #"{"do_resize": "yes"}"#,
        #"{"size": 224"#,
        "[]",
    ])
    func unsupportedOrMalformedConfigsThrowInvalidConfig(json: String) throws {
        let error = try #require(throws: CLIPError.self) { try decode(json) }
        #expect(error.code == .invalidConfig)
        #expect(error.path == "preprocessor_config.json")
    }

    @Test func missingFileThrowsMissingFile() throws {
        let url = URL(fileURLWithPath: "/nonexistent/preprocessor_config.json")
        let error = try #require(throws: CLIPError.self) { try PreprocessorConfig.load(from: url) }
        #expect(error.code == .missingFile)
        #expect(error.path == url.path)
    }
}

// MARK: - Images

struct RGBImageTests {
    @Test func rgbImageRejectsZeroSizesAndWrongByteCounts() {
        for (width, height, count) in [(0, 5, 0), (5, 0, 0), (2, 2, 11), (2, 2, 13), (-1, -3, 9)] {
            let error = #expect(throws: CLIPError.self) {
                try RGBImage(width: width, height: height, pixels: [UInt8](repeating: 0, count: count))
            }
            #expect(error?.code == .invalidImage, "\(width)x\(height) with \(count) bytes")
        }
    }
}
