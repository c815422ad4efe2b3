import Foundation
import LoupeCLIP
import LoupeStore

/// One table of a `TableClient`: rows in, rows out, and search. Sourced vector fields that a row leaves
/// out are computed from their source fields, for all rows of a call at once.
///
/// ```swift
/// let items = tables.collection("image_items")
/// try await items.insert([["image_uri": "https://example.com/image1.jpg"], ["image_uri": "/photos/cat.png"]])
/// for hit in try await items.search("orange tabby cat", limit: 3) { print(hit.score, hit.fields["image_uri"]!) }
/// ```
public struct Table: Sendable {
    /// The table's name.
    public let name: String
    let tables: TableClient

    /// Inserts rows. For each sourced vector field a row leaves out, the vector is computed from the
    /// row's source field; vectors a row supplies are kept. Sources are read and embedded for the
    /// whole call (one batch per embedder) before anything is written.
    ///
    /// - Returns: the primary keys written (assigned ones for auto id).
    /// - Throws: `RowSourceError` naming every row, field and reason when a source cannot be read (a
    ///   404 URL, a file that is not a picture, an empty source): nothing of the call is written.
    ///   `StoreError` for rows the schema refuses.
    @discardableResult
    public func insert(_ rows: [Row], partition: String? = nil) async throws -> MutationResult {
        let filled = try await fill(rows, replacing: false)
        return try await tables.store.insert(name, filled, partition: partition)
    }

    /// Inserts rows, replacing rows with the same primary key. A row that leaves a sourced vector out
    /// keeps the stored vector when its source is unchanged, and gets a new one when it changed.
    @discardableResult
    public func upsert(_ rows: [Row], partition: String? = nil) async throws -> MutationResult {
        let filled = try await fill(rows, replacing: true)
        return try await tables.store.upsert(name, filled, partition: partition)
    }

    /// Rows matching a Milvus filter expression (all when empty), in insertion order.
    public func query(filter: String = "", outputFields: [String] = ["*"], limit: Int? = nil, offset: Int = 0)
        async throws -> [Row]
    {
        try await tables.store.query(name, filter: filter, outputFields: outputFields, limit: limit, offset: offset)
    }

    /// Rows by primary key, in the order asked (missing keys are skipped).
    public func get(_ ids: [FieldValue], outputFields: [String] = ["*"]) async throws -> [Row] {
        try await tables.store.get(name, ids: ids, outputFields: outputFields)
    }

    /// Deletes rows by primary key.
    @discardableResult
    public func delete(ids: [FieldValue]) async throws -> MutationResult { try await tables.store.delete(name, ids: ids) }

    /// Deletes the rows matching a filter expression.
    @discardableResult
    public func delete(filter: String) async throws -> MutationResult { try await tables.store.delete(name, filter: filter) }

    /// Live rows.
    public func count() async throws -> Int { try await tables.store.stats(name).rowCount }

    // MARK: Filling sourced vectors

    /// One vector to compute: which row, which field, from what.
    private struct Job {
        var row: Int
        var field: FieldSchema
        var source: String
    }

    /// The rows with every missing sourced vector computed.
    func fill(_ rows: [Row], replacing: Bool) async throws -> [Row] {
        guard rows.count <= tables.configuration.maxRowsPerCall else {
            throw LoupeError(.invalidArgument, "\(rows.count) rows in one call; the limit is \(tables.configuration.maxRowsPerCall)",
                             input: name)
        }
        let schema = try await tables.store.describeCollection(name).schema
        let sourced = schema.sourcedVectorFields
        guard !sourced.isEmpty, !rows.isEmpty else { return rows }
        let pk = schema.primaryField
        var rows = rows
        var failures: [RowSourceError.Failure] = []
        func failure(_ row: Int, _ field: FieldSchema, _ source: String, _ reason: String) -> RowSourceError.Failure {
            let key = rows[row][pk.name].flatMap { $0.isNull ? nil : $0 }
            let shown = source.count > 80 ? String(source.prefix(60)) + "…" : source
            return RowSourceError.Failure(row: row, key: key, field: field.name, sourceField: field.source?.field ?? "",
                                          source: shown, reason: reason)
        }
        // An upsert keeps the stored vector of a row whose source did not change.
        var stored: [FieldValue: Row] = [:]
        if replacing {
            let keys = rows.compactMap { row -> FieldValue? in
                guard let key = row[pk.name], !key.isNull, sourced.contains(where: { row[$0.name] == nil || row[$0.name]!.isNull })
                else { return nil }
                return key
            }
            if !keys.isEmpty {
                let fields = [pk.name] + sourced.flatMap { [$0.name, $0.source!.field] }
                for row in try await tables.store.get(name, ids: keys, outputFields: Array(Set(fields))) {
                    if let key = row[pk.name] { stored[key] = row }
                }
            }
        }
        var jobs: [Job] = []
        for (index, row) in rows.enumerated() {
            for field in sourced where row[field.name] == nil || row[field.name]!.isNull {
                let source = field.source!
                guard let value = row[source.field], let text = value.stringValue else {
                    let given = row[source.field].map { $0.isNull ? "" : "\($0)" } ?? ""
                    failures.append(failure(index, field, given, row[source.field] == nil || row[source.field]!.isNull
                        ? "the row has no \(source.field), so its \(field.name) cannot be computed (give one, or the vector)"
                        : "\(source.field) must be a string"))
                    continue
                }
                if replacing, let key = row[pk.name], let old = stored[key], old[source.field] == value,
                   let vector = old[field.name], !vector.isNull {
                    rows[index][field.name] = vector
                    continue
                }
                jobs.append(Job(row: index, field: field, source: text))
            }
        }
        // One batch per field (each field has one embedder and one kind of source).
        var computed: [(job: Job, vector: [Float])] = []
        for field in sourced {
            let batch = jobs.filter { $0.field.name == field.name }
            guard !batch.isEmpty else { continue }
            let embedder = try await tables.embedder(for: field, table: name)
            switch field.source!.kind {
            case .text:
                var texts: [String] = []
                var kept: [Job] = []
                for job in batch {
                    if job.source.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
                        failures.append(failure(job.row, field, job.source, "the text is empty"))
                    } else {
                        texts.append(job.source)
                        kept.append(job)
                    }
                }
                guard failures.isEmpty else { continue }
                let vectors = try await ComputeExecutor.$lane.withValue(.bulk) { try await embedder.embed(texts: texts) }
                computed += zip(kept, vectors).map { ($0, $1) }
            case .image:
                // Pictures are read a chunk ahead of the embedder (downloads and decodes of chunk n + 1 run
                // while chunk n is embedded), and only a chunk's pictures are held at once. After a failure the
                // rest is still read, to name every bad row, but no longer embedded.
                let reader = SourceReader(configuration: tables.configuration)
                let starts = Array(stride(from: 0, to: batch.count, by: Self.imageChunk))
                func read(_ start: Int) -> Task<[Result<RGBImage, any Error>], Never> {
                    let sources = batch[start..<min(start + Self.imageChunk, batch.count)].map(\.source)
                    return Task { await ComputeExecutor.$lane.withValue(.bulk) { await reader.pictures(sources, for: embedder) } }
                }
                var next: Task<[Result<RGBImage, any Error>], Never>? = read(starts[0])
                defer { next?.cancel() }
                for (n, start) in starts.enumerated() {
                    guard let reading = next else { break }
                    let pictures = await reading.value
                    next = n + 1 < starts.count ? read(starts[n + 1]) : nil
                    var images: [RGBImage] = []
                    var kept: [Job] = []
                    for (job, picture) in zip(batch[start...], pictures) {
                        switch picture {
                        case .success(let image):
                            images.append(image)
                            kept.append(job)
                        case .failure(let error):
                            failures.append(failure(job.row, field, job.source, Self.reason(error)))
                        }
                    }
                    guard failures.isEmpty else { continue }
                    let vectors = try await ComputeExecutor.$lane.withValue(.bulk) { try await embedder.embed(images: images) }
                    computed += zip(kept, vectors).map { ($0, $1) }
                }
            }
        }
        guard failures.isEmpty else {
            throw RowSourceError(table: name, failures: failures.sorted { ($0.row, $0.field) < ($1.row, $1.field) })
        }
        for (job, vector) in computed { rows[job.row][job.field.name] = .vector(vector) }
        return rows
    }

    /// Pictures read and embedded together while a call's rows are filled.
    static let imageChunk = 32

    /// An error's message without the input it names (the failure names the source itself).
    static func reason(_ error: any Error) -> String {
        if let error = error as? LoupeError { return "\(error.code): \(error.message)" }
        return "\(error)"
    }
}
