import ArgumentParser
import Foundation
import Loupe
import LoupeStore
import LoupeTensor

/// `loupe table ...`: your own collections whose vector fields fill themselves from a source field.
struct TableCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "table",
        abstract: "Your own tables whose vectors are computed from a field (pytidb-style auto-embedding).",
        discussion: """
            A table is a collection with your fields; a vector field declared with a source (\
            --vector image_vec:image_uri) is computed by CLIP from that field when a row leaves it out: \
            a picture's path, http(s) URL or data: URI, or a text (--vector caption_vec:caption:text). \
            Search takes text, a picture's path or URL, or base64.
            """,
        subcommands: [TableCreateCommand.self, TableInsertCommand.self, TableSearchCommand.self, TableListCommand.self,
                      TableDescribeCommand.self, TableDropCommand.self])
}

/// Where the tables live and which model fills them.
struct TableOptions: ParsableArguments {
    @Option(name: .long, help: "The database folder.")
    var data = "loupe-data"

    @Option(name: .long, help: "A CLIP or SigLIP model folder, or owner/name of a pulled model (the `clip` embedder).")
    var model = HubRepository.defaultCLIP.id

    @Option(name: .long, help: PrecisionChoice.help)
    var precision: Precision?

    @Option(name: .long, help: "Threads for the CLIP engine (default: all cores).")
    var threads: Int?

    @Option(name: .customLong("embedder-key"), help: ArgumentHelp(
        "The API key of the remote embedders the tables' vectors name (default: $JINA_API_KEY or $TWELVE_LABS_API_KEY).",
        valueName: "key"))
    var embedderKey: String?

    /// The database, as the one writer or as a reader (beside a running `loupe serve`).
    func store(writer: Bool) throws -> LoupeClient {
        var configuration = LoupeClient.Configuration()
        configuration.readOnly = !writer
        if !writer && !FileManager.default.fileExists(atPath: URL(fileURLWithPath: data).appendingPathComponent("loupe.sqlite").path) {
            throw ValidationError("no database at '\(data)' (no loupe.sqlite there): create a table first, or pass --data DIR")
        }
        return try LoupeClient(path: data, configuration: configuration)
    }

    /// Opens the tables, runs `body`, and closes the database however it ends.
    ///
    /// With `model`, embedders connect when a table first uses one: CLIP is loaded as `clip`, and a remote
    /// embedder a vector field names (`jina:MODEL`, `twelvelabs:MODEL`) is connected under that name, its
    /// calls cached in the database folder. Nothing is loaded for tables that need no embedder.
    func withTables<T: Sendable>(writer: Bool, model needed: Bool = true, _ body: (TableClient) async throws -> T)
        async throws -> T
    {
        let store = try store(writer: writer)
        let tables = TableClient(store: store, embedders: [:], connect: needed ? connector() : nil)
        let result: T
        do {
            result = try await body(tables)
        } catch {
            try? await store.close()
            throw error
        }
        try await store.close()
        return result
    }

    /// CLIP for `clip`, the remote providers for the names they parse.
    private func connector() -> TableClient.Connector {
        var settings = RemoteEmbedderSettings()
        settings.key = embedderKey
        let remote = TableClient.remoteConnector(data: URL(fileURLWithPath: data), settings: settings)
        let (model, precision, threads) = (model, precision, threads)
        return { name in
            guard name == VectorSource.defaultEmbedder else { return try await remote(name) }
            return try CLIPEmbedder(directory: try ModelLocator.directory(for: model),
                                    precision: PrecisionChoice.resolve(precision), threads: threads)
        }
    }
}

struct TableCreateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "create", abstract: "Create a table.",
        discussion: """
            Example: loupe table create products --field name:string --field price:double \
            --field image_uri:string --vector image_vec:image_uri. The primary key is an int64 `id` \
            assigned on insert unless --primary says otherwise (--primary sku:string: given by each row).
            """)

    @Argument(help: "The table's name.")
    var name: String

    @Option(name: .long, help: ArgumentHelp("A scalar field NAME:TYPE (string, int64, double, bool, json; TYPE? for nullable).",
                                            valueName: "name:type"))
    var field: [String] = []

    @Option(name: .long, help: ArgumentHelp("A vector computed from a field: NAME:SOURCE[:image|text[:EMBEDDER]] (default image, clip).",
                                            valueName: "name:source"))
    var vector: [String] = []

    @Option(name: .long, help: ArgumentHelp("The primary key NAME:int64 (assigned) or NAME:string (given by rows).", valueName: "name:type"))
    var primary = "id:int64"

    @Flag(name: .long, help: "Keep keys no field declares (Milvus's dynamic field).")
    var dynamic = false

    @OptionGroup var options: TableOptions

    func run() async throws {
        try await reportingErrors {
            let schema = try TableSchemaSpec.schema(primary: primary, fields: field, vectors: vector, dynamic: dynamic)
            try await options.withTables(writer: true) { tables in
                try await tables.createTable(name, schema: schema)
                print(try TableSchemaSpec.describe(try await tables.describeTable(name)))
            }
        }
    }
}

struct TableInsertCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "insert", abstract: "Insert rows from a JSON Lines file (one object a line).",
        discussion: """
            Rows that leave a sourced vector out get it computed. Each batch of --batch rows is one call: \
            when a source of a batch cannot be read (a 404 URL, a file that is not a picture), that batch \
            writes nothing, every bad line is reported, and the command stops (earlier batches stay written).
            """)

    @Argument(help: "The table's name.")
    var name: String

    @Argument(help: "A .jsonl file, or - for standard input.")
    var file: String

    @Flag(name: .long, help: "Replace rows with the same primary key (vectors are recomputed only when the source changed).")
    var upsert = false

    @Option(name: .long, help: "Rows per call.")
    var batch = 256

    @OptionGroup var options: TableOptions

    func run() async throws {
        try await reportingErrors {
            guard batch >= 1 else { throw ValidationError("--batch must be at least 1") }
            let rows = try readRows()
            let written = try await options.withTables(writer: true) { tables -> Int in
                let table = tables.collection(name)
                var written = 0
                for start in stride(from: 0, to: rows.count, by: batch) {
                    let chunk = Array(rows[start..<min(start + batch, rows.count)])
                    do {
                        written += upsert ? try await table.upsert(chunk.map(\.row)).count : try await table.insert(chunk.map(\.row)).count
                    } catch let error as RowSourceError {
                        for failure in error.failures {
                            var shown = failure
                            shown.row = chunk[failure.row].line
                            FileHandle.standardError.write(Data("loupe: \(file): line \(shown.description.dropFirst("row ".count))\n".utf8))
                        }
                        throw ValidationError("\(error.failures.count) line(s) could not be embedded; lines \(chunk[0].line)-\(chunk.last!.line) were not written, \(written) rows before them were")
                    }
                }
                return written
            }
            print("\(upsert ? "upserted" : "inserted") \(written) rows into \(name)")
        }
    }

    /// The rows of the file, each with its line number.
    private func readRows() throws -> [(line: Int, row: Row)] {
        let data: Data
        if file == "-" { data = FileHandle.standardInput.readDataToEndOfFile() } else {
            guard let read = FileManager.default.contents(atPath: file) else { throw ValidationError("cannot read \(file)") }
            data = read
        }
        var rows: [(Int, Row)] = []
        for (index, line) in String(decoding: data, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let text = line.trimmingCharacters(in: .whitespaces)
            guard !text.isEmpty else { continue }
            guard case .object(let row) = try? JSONText.decode(text) else {
                throw ValidationError("\(file): line \(index + 1) is not a JSON object")
            }
            rows.append((index + 1, row))
        }
        return rows
    }
}

struct TableSearchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "search", abstract: "Search a table with text, a picture's path or URL, or base64.",
        discussion: """
            With --kind auto (the default) the query is read as pytidb reads it: an http(s) URL, a data: URI \
            or an existing file is a picture, anything else text.
            """)

    @Argument(help: "The table's name.")
    var name: String

    @Argument(help: "The query.")
    var query: String

    @Option(name: .long, help: "auto, text, image_path, image_url or image_base64.")
    var kind = "auto"

    @Option(name: .short, help: "How many results.")
    var k = 10

    @Option(name: .long, help: "Results to skip first.")
    var offset = 0

    @Option(name: .long, help: "A Milvus filter expression over the table's fields.")
    var filter = ""

    @Option(name: .long, help: "The vector field to search (default: the first sourced one).")
    var field: String?

    @Option(name: .long, help: "Comma-separated fields to show (default: every scalar field).")
    var outputFields: String?

    @Flag(name: .long, help: "Print the results as a JSON array of rows with _score.")
    var json = false

    @OptionGroup var options: TableOptions

    func run() async throws {
        try await reportingErrors {
            let parsed = try TableQuery.parse(query, kind: kind)
            var search = TableSearchOptions(field: field, limit: k, offset: offset, filter: filter)
            if let outputFields { search.outputFields = outputFields.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } }
            let (hits, primary) = try await options.withTables(writer: false) { tables in
                let table = tables.collection(name)
                return (try await table.search(parsed, options: search),
                        try await tables.describeTable(name).schema.primaryField.name)
            }
            if json {
                print(JSONText.encode(.array(hits.map { .object($0.row(primaryKey: primary)) })))
                return
            }
            for hit in hits {
                let fields = hit.fields.keys.sorted().map { "\($0)=\(Self.shown(hit.fields[$0]!))" }.joined(separator: " ")
                print(String(format: "%.4f", hit.score) + "  \(primary)=\(Self.shown(hit.id))  \(fields)")
            }
        }
    }

    static func shown(_ value: FieldValue) -> String { value.stringValue ?? "\(value)" }
}

struct TableListCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List the tables (every collection of the database).")

    @OptionGroup var options: TableOptions

    func run() async throws {
        try await reportingErrors {
            let names = try await options.withTables(writer: false, model: false) { await $0.listTables() }
            for name in names { print(name) }
        }
    }
}

struct TableDescribeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "describe", abstract: "Show a table's fields, sources and row count.")

    @Argument(help: "The table's name.")
    var name: String

    @OptionGroup var options: TableOptions

    func run() async throws {
        try await reportingErrors {
            let (text, rows) = try await options.withTables(writer: false, model: false) { tables in
                (try TableSchemaSpec.describe(try await tables.describeTable(name)), try await tables.collection(name).count())
            }
            print(text)
            print("rows: \(rows)")
        }
    }
}

struct TableDropCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "drop", abstract: "Delete a table and its rows.")

    @Argument(help: "The table's name.")
    var name: String

    @OptionGroup var options: TableOptions

    func run() async throws {
        try await reportingErrors {
            try await options.withTables(writer: true, model: false) { try await $0.dropTable(name) }
            print("dropped \(name)")
        }
    }
}
