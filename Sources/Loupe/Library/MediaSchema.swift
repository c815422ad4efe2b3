import LoupeStore

/// What kind of file an item comes from.
public enum MediaKind: String, Sendable, Codable, CaseIterable {
    case image
    case video
}

/// What part of a file a row's vector describes.
public enum MediaScope: String, Sendable, Codable, CaseIterable {
    /// A whole still image.
    case image
    /// A segment (moment) of a video, with its time range.
    case clip
    /// A whole video: the mean of all its frames.
    case video
}

/// The media collection's fields, as described in the design: one row per image, per video segment and
/// per whole video, plus a dynamic field for metadata (EXIF date, camera, GPS, codec, ...).
enum MediaSchema {
    static let id = "id"
    static let path = "path"
    static let name = "name"
    static let source = "source"
    static let kind = "kind"
    static let scope = "scope"
    static let start = "start_s"
    static let end = "end_s"
    static let thumbnail = "thumb_s"
    static let width = "width"
    static let height = "height"
    static let duration = "duration_s"
    static let modified = "mtime"
    static let size = "size"
    static let sha256 = "sha256"
    static let vector = "vector"

    /// Fields returned with every search result (everything but the vector).
    static let outputFields = ["*"]

    /// The schema tag stored in the collection description: it names the model, so vectors of two models
    /// are never compared.
    static func description(model: String, dimension: Int) -> String {
        "loupe-media/1 model=\(model) dim=\(dimension)"
    }

    static func schema(dimension: Int, model: String, index: IndexParams) -> CollectionSchema {
        CollectionSchema(
            fields: [
                .int64Primary(id, autoID: true),
                .scalar(path, .string, maxLength: 4096),
                .scalar(name, .string, maxLength: 1024),
                .scalar(source, .string, nullable: true, maxLength: 4096),
                .scalar(kind, .string, maxLength: 16),
                .scalar(scope, .string, maxLength: 16),
                .scalar(start, .double, nullable: true),
                .scalar(end, .double, nullable: true),
                .scalar(thumbnail, .double, nullable: true),
                .scalar(width, .int64, nullable: true),
                .scalar(height, .int64, nullable: true),
                .scalar(duration, .double, nullable: true),
                .scalar(modified, .double),
                .scalar(size, .int64),
                .scalar(sha256, .string, maxLength: 64),
                .vector(vector, dimension: dimension, metric: .cosine, index: index),
            ],
            enableDynamicField: true,
            description: description(model: model, dimension: dimension))
    }
}
