/// Where the values of a vector field come from when a row leaves them out: another field of the same
/// row (the *source*, a VARCHAR holding a picture's path, URL or `data:` URI, or a text), turned into a
/// vector by a named embedder. pytidb calls such a field a `VectorField(source_field=...)`; Milvus 2.5
/// and later express the same with a schema function (`TextEmbedding`).
///
/// LoupeStore only keeps and checks the declaration: it knows no models, so rows written to the store
/// directly still carry their vectors. Loupe's `TableClient` fills them before the rows reach the store.
///
/// ```swift
/// var vector = FieldSchema.vector("image_vec", dimension: 512)
/// vector.source = VectorSource(field: "image_uri", kind: .image)   // embedder "clip"
/// ```
public struct VectorSource: Sendable, Hashable, Codable {
    /// What the source field holds.
    public enum Kind: String, Sendable, Hashable, Codable, CaseIterable {
        /// A picture: a file path, an http(s) URL, or a `data:` URI with base64 bytes.
        case image
        /// A text, embedded as it is.
        case text
    }

    /// The name of the VARCHAR field the vector is computed from.
    public var field: String
    /// Whether that field holds pictures or texts.
    public var kind: Kind
    /// The embedder that computes the vector, by name (`clip`: the library's own CLIP model).
    public var embedder: String
    /// The embedder's model when the field was created (Loupe records it), so vectors of another model
    /// are never mixed in. Nil when not recorded.
    public var model: String?

    /// The embedder a source uses when none is named: the library's CLIP model.
    public static let defaultEmbedder = "clip"

    public init(field: String, kind: Kind = .image, embedder: String = VectorSource.defaultEmbedder, model: String? = nil) {
        self.field = field
        self.kind = kind
        self.embedder = embedder
        self.model = model
    }
}
