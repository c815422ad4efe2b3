import Foundation
import LoupeStore

/// One indexed thing a search can return: an image, a moment of a video, or a whole video.
public struct MediaItem: Sendable, Hashable {
    public var id: Int64
    /// The file on disk (for URL sources, the downloaded copy).
    public var path: String
    public var name: String
    /// The URL the file came from, when it was indexed from one.
    public var source: String?
    public var kind: MediaKind
    public var scope: MediaScope
    /// Start and end of a video moment, in seconds.
    public var start: Double?
    public var end: Double?
    /// The time of the frame that best shows a moment.
    public var thumbnailTime: Double?
    public var width: Int?
    public var height: Int?
    public var duration: Double?
    public var modified: Date
    public var size: Int64
    public var sha256: String
    /// Device and inode of the indexed file, when it was indexed by a version that recorded them.
    public var fileDevice: UInt64?
    public var fileInode: UInt64?
    /// Metadata kept in the dynamic field: `date_taken`, `camera_make`, `camera_model`, `latitude`,
    /// `longitude`, `codec`, `format`, ...
    public var metadata: [String: String]

    init(row: Row) throws {
        func string(_ key: String) -> String? { row[key]?.stringValue }
        func double(_ key: String) -> Double? { row[key]?.doubleValue }
        guard let id = row[MediaSchema.id]?.intValue, let path = string(MediaSchema.path),
              let kind = string(MediaSchema.kind).flatMap(MediaKind.init(rawValue:)),
              let scope = string(MediaSchema.scope).flatMap(MediaScope.init(rawValue:))
        else {
            throw LoupeError(.invalidArgument, "a row of the media collection lacks id, path, kind or scope: \(row)")
        }
        self.id = id
        self.path = path
        name = string(MediaSchema.name) ?? URL(fileURLWithPath: path).lastPathComponent
        source = string(MediaSchema.source)
        self.kind = kind
        self.scope = scope
        start = double(MediaSchema.start)
        end = double(MediaSchema.end)
        thumbnailTime = double(MediaSchema.thumbnail)
        width = row[MediaSchema.width]?.intValue.map(Int.init)
        height = row[MediaSchema.height]?.intValue.map(Int.init)
        duration = double(MediaSchema.duration)
        modified = Date(timeIntervalSince1970: double(MediaSchema.modified) ?? 0)
        size = row[MediaSchema.size]?.intValue ?? 0
        sha256 = string(MediaSchema.sha256) ?? ""
        fileDevice = row[FileIdentity.deviceKey]?.intValue.map { UInt64(bitPattern: $0) }
        fileInode = row[FileIdentity.inodeKey]?.intValue.map { UInt64(bitPattern: $0) }
        let declared: Set<String> = [MediaSchema.id, MediaSchema.path, MediaSchema.name, MediaSchema.source, MediaSchema.kind,
                                     MediaSchema.scope, MediaSchema.start, MediaSchema.end, MediaSchema.thumbnail,
                                     MediaSchema.width, MediaSchema.height, MediaSchema.duration, MediaSchema.modified,
                                     MediaSchema.size, MediaSchema.sha256, MediaSchema.vector,
                                     FileIdentity.deviceKey, FileIdentity.inodeKey]
        var metadata: [String: String] = [:]
        for (key, value) in row where !declared.contains(key) && !value.isNull {
            metadata[key] = value.stringValue ?? value.description
        }
        self.metadata = metadata
    }
}

/// A search hit: the item, its cosine similarity to the query, and its relevance group.
public struct SearchResult: Sendable, Hashable {
    public var item: MediaItem
    public var score: Float
    /// The autocut group: 0 before the ranking's first score cliff, 1 up to the second, ... (`Autocut`).
    /// Pictures and video moments share one ranking, so they share groups.
    public var relevance = 0
    /// The calibrated probability that the item matches the query text, for a search by one text with a
    /// model trained to give one (SigLIP: `sigmoid(exp(logit_scale) * score + logit_bias)`); nil otherwise.
    public var probability: Float?
}
