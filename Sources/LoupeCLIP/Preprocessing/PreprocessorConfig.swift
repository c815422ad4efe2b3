import Foundation

/// Image preprocessing settings, as in a Hugging Face `preprocessor_config.json` for
/// `CLIPImageProcessor`. Keys absent from the file take `CLIPImageProcessor`'s defaults, which are
/// also the values of `PreprocessorConfig()`.
///
/// ```swift
/// var config = try PreprocessorConfig.load(from: modelDirectory.appendingPathComponent("preprocessor_config.json"))
/// config.resample = .bilinear
/// ```
public struct PreprocessorConfig: Sendable, Hashable {
    /// How `size` is interpreted when resizing.
    public enum ResizeTarget: Sendable, Hashable {
        /// Scale so the shorter side becomes this many pixels, keeping the aspect ratio (the longer
        /// side is truncated, as transformers does).
        case shortestEdge(Int)
        /// Scale to exactly this size, ignoring the aspect ratio.
        case exact(Size)
    }

    /// A size in pixels.
    public struct Size: Sendable, Hashable, CustomStringConvertible {
        public var height: Int
        public var width: Int

        public init(height: Int, width: Int) {
            self.height = height
            self.width = width
        }

        public var description: String { "\(width)x\(height)" }
    }

    /// Whether to resize before cropping (`do_resize`).
    public var doResize = true
    /// Resize target (`size`); a bare number means the shortest edge, as for CLIP.
    public var size = ResizeTarget.shortestEdge(224)
    /// Resampling filter (`resample`, a Pillow filter id).
    public var resample = ResamplingFilter.bicubic
    /// Whether to take a centre crop after resizing (`do_center_crop`).
    public var doCenterCrop = true
    /// Size of the centre crop (`crop_size`).
    public var cropSize = Size(height: 224, width: 224)
    /// Whether to multiply pixel values by `rescaleFactor` (`do_rescale`).
    public var doRescale = true
    /// Factor applied to 0...255 pixel values (`rescale_factor`).
    public var rescaleFactor = 1.0 / 255.0
    /// Whether to subtract `imageMean` and divide by `imageStd` (`do_normalize`).
    public var doNormalize = true
    /// Per-channel mean, R, G, B (`image_mean`); OpenAI CLIP's by default.
    public var imageMean: [Double] = [0.48145466, 0.4578275, 0.40821073]
    /// Per-channel standard deviation, R, G, B (`image_std`); OpenAI CLIP's by default.
    public var imageStd: [Double] = [0.26862954, 0.26130258, 0.27577711]
    /// Whether to convert inputs to RGB first (`do_convert_rgb`). `RGBImage` already is RGB, so
    /// this is recorded but has no effect.
    public var doConvertRGB = true

    /// The `CLIPImageProcessor` defaults (OpenAI CLIP ViT-B at 224 pixels).
    public init() {}

    /// Reads and validates a `preprocessor_config.json`.
    ///
    /// - Throws: `CLIPError` with code `.missingFile` when the file cannot be read and
    ///   `.invalidConfig` when its contents are malformed or unsupported.
    public static func load(from url: URL) throws -> PreprocessorConfig {
        let data: Data
        do {
            data = try Data(contentsOf: url)
        } catch {
            throw CLIPError(
                .missingFile, "cannot read preprocessor config: \(error.localizedDescription)", path: url.path)
        }
        return try decode(data, path: url.path)
    }

    /// Parses the JSON text of a `preprocessor_config.json`.
    ///
    /// - Throws: `CLIPError` with code `.invalidConfig`, naming `path`.
    public static func decode(_ data: Data, path: String? = nil) throws -> PreprocessorConfig {
        let config: PreprocessorConfig
        do {
            config = try JSONDecoder().decode(PreprocessorConfig.self, from: data)
        } catch let error as DecodingError {
            throw CLIPError(.invalidConfig, describe(error), path: path)
        } catch {
            throw CLIPError(.invalidConfig, "not a valid preprocessor config: \(error)", path: path)
        }
        do {
            try config.validate()
        } catch let error as CLIPError {
            throw CLIPError(error.code, error.message, path: path)
        }
        return config
    }

    private static func describe(_ error: DecodingError) -> String {
        let context: DecodingError.Context
        switch error {
        case .typeMismatch(_, let c), .valueNotFound(_, let c), .keyNotFound(_, let c), .dataCorrupted(let c):
            context = c
        @unknown default:
            return "\(error)"
        }
        let key = context.codingPath.map(\.stringValue).joined(separator: ".")
        var message = key.isEmpty ? context.debugDescription : "\(key): \(context.debugDescription)"
        if let underlying = context.underlyingError { message += " (\(underlying.localizedDescription))" }
        return message
    }

    /// Checks that the settings can be applied to an RGB image.
    ///
    /// - Throws: `CLIPError` with code `.invalidConfig` describing the first problem found.
    public func validate() throws {
        func fail(_ message: String) -> CLIPError { CLIPError(.invalidConfig, message) }
        switch size {
        case .shortestEdge(let edge) where edge < 1:
            throw fail("size.shortest_edge must be at least 1, got \(edge)")
        case .exact(let target) where target.height < 1 || target.width < 1:
            throw fail("size must be at least 1x1, got \(target)")
        default: break
        }
        if cropSize.height < 1 || cropSize.width < 1 {
            throw fail("crop_size must be at least 1x1, got \(cropSize)")
        }
        if !rescaleFactor.isFinite { throw fail("rescale_factor must be finite") }
        if imageMean.count != 3 { throw fail("image_mean needs 3 values (R, G, B), got \(imageMean.count)") }
        if imageStd.count != 3 { throw fail("image_std needs 3 values (R, G, B), got \(imageStd.count)") }
        if imageMean.contains(where: { !$0.isFinite }) { throw fail("image_mean must be finite") }
        if imageStd.contains(where: { !$0.isFinite || $0 == 0 }) {
            throw fail("image_std must be finite and non-zero")
        }
    }
}

// MARK: - Decoding

extension PreprocessorConfig: Decodable {
    private enum CodingKeys: String, CodingKey {
        case doResize = "do_resize"
        case size
        case resample
        case doCenterCrop = "do_center_crop"
        case cropSize = "crop_size"
        case doRescale = "do_rescale"
        case rescaleFactor = "rescale_factor"
        case doNormalize = "do_normalize"
        case imageMean = "image_mean"
        case imageStd = "image_std"
        case doConvertRGB = "do_convert_rgb"
    }

    /// The spellings of a size that transformers accepts: a number, `[height, width]` or `[n]`,
    /// or an object with `shortest_edge` or `height` and `width`.
    private enum SizeValue: Decodable {
        case number(Int)
        case pair(Size)
        case shortestEdge(Int)

        private struct Keys: CodingKey {
            var stringValue: String
            var intValue: Int? { nil }
            init(stringValue: String) { self.stringValue = stringValue }
            init?(intValue: Int) { nil }
        }

        init(from decoder: Decoder) throws {
            if let single = try? decoder.singleValueContainer(), let number = try? single.decode(Int.self) {
                self = .number(number)
                return
            }
            if let list = try? decoder.singleValueContainer().decode([Int].self) {
                switch list.count {
                case 1: self = .number(list[0])
                case 2: self = .pair(Size(height: list[0], width: list[1]))
                default: throw Self.unsupported(decoder, "a size list needs 1 or 2 values, got \(list.count)")
                }
                return
            }
            let object = try decoder.container(keyedBy: Keys.self)
            // transformers writes every SizeDict field, unused ones as null.
            var fields: [String: Int] = [:]
            for key in object.allKeys {
                if let value = try object.decodeIfPresent(Int.self, forKey: key) { fields[key.stringValue] = value }
            }
            if let edge = fields["shortest_edge"], fields.count == 1 {
                self = .shortestEdge(edge)
            } else if let height = fields["height"], let width = fields["width"], fields.count == 2 {
                self = .pair(Size(height: height, width: width))
            } else {
                let keys = fields.keys.sorted().joined(separator: ", ")
                throw Self.unsupported(
                    decoder, "unsupported size keys [\(keys)]; expected shortest_edge, or height and width")
            }
        }

        private static func unsupported(_ decoder: Decoder, _ message: String) -> DecodingError {
            .dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: message))
        }
    }

    /// `image_mean` and `image_std` may be one number for all channels or one per channel.
    private struct ChannelValues: Decodable {
        var values: [Double]

        init(from decoder: Decoder) throws {
            let container = try decoder.singleValueContainer()
            if let scalar = try? container.decode(Double.self) {
                values = [scalar, scalar, scalar]
            } else {
                values = try container.decode([Double].self)
            }
        }
    }

    public init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.init()
        doResize = try container.decodeIfPresent(Bool.self, forKey: .doResize) ?? doResize
        switch try container.decodeIfPresent(SizeValue.self, forKey: .size) {
        case .number(let edge), .shortestEdge(let edge): size = .shortestEdge(edge)
        case .pair(let target): size = .exact(target)
        case nil: break
        }
        if let id = try container.decodeIfPresent(Int.self, forKey: .resample) {
            guard let filter = ResamplingFilter(rawValue: id) else {
                throw DecodingError.dataCorruptedError(
                    forKey: .resample, in: container,
                    debugDescription: "unsupported Pillow filter id \(id); expected 0...5")
            }
            resample = filter
        }
        doCenterCrop = try container.decodeIfPresent(Bool.self, forKey: .doCenterCrop) ?? doCenterCrop
        switch try container.decodeIfPresent(SizeValue.self, forKey: .cropSize) {
        case .number(let side): cropSize = Size(height: side, width: side)
        case .pair(let crop): cropSize = crop
        case .shortestEdge:
            throw DecodingError.dataCorruptedError(
                forKey: .cropSize, in: container, debugDescription: "crop_size needs height and width")
        case nil: break
        }
        doRescale = try container.decodeIfPresent(Bool.self, forKey: .doRescale) ?? doRescale
        rescaleFactor = try container.decodeIfPresent(Double.self, forKey: .rescaleFactor) ?? rescaleFactor
        doNormalize = try container.decodeIfPresent(Bool.self, forKey: .doNormalize) ?? doNormalize
        imageMean = try container.decodeIfPresent(ChannelValues.self, forKey: .imageMean)?.values ?? imageMean
        imageStd = try container.decodeIfPresent(ChannelValues.self, forKey: .imageStd)?.values ?? imageStd
        doConvertRGB = try container.decodeIfPresent(Bool.self, forKey: .doConvertRGB) ?? doConvertRGB
    }
}
