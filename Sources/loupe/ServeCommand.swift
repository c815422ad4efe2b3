import ArgumentParser
import Foundation
import Logging
import Loupe
import LoupeServer

struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve the library over HTTP: JSON API, Milvus REST v2, and a web page.",
        discussion: """
            Listens on loopback by default. Listening on another address needs --token (or LOUPE_TOKEN);
            clients then send 'Authorization: Bearer <token>'. Open http://HOST:PORT/ in a browser.
            --milvus-port also answers Milvus's gRPC protocol there (pymilvus: MilvusClient(uri=
            "http://HOST:PORT", token="root:<token>")). With GEMINI_API_KEY (or GOOGLE_API_KEY) in the
            environment, POST /api/generate and the page's "Generate with these" make pictures with Gemini.
            """)

    @OptionGroup var library: LibraryOptions

    @Option(help: "Address to listen on.")
    var host = "127.0.0.1"

    @Option(help: "Port to listen on (0 picks a free one).")
    var port = 8080

    @Option(help: "Bearer token clients must send (default: $LOUPE_TOKEN).")
    var token: String?

    @Option(name: .customLong("cors-origin"), help: "An origin allowed by CORS (repeatable); none by default.")
    var corsOrigins: [String] = []

    @Option(name: .customLong("index-root"), help: "A folder POST /api/index may index (repeatable); any readable path by default.")
    var indexRoots: [String] = []

    @Option(help: "Largest uploaded picture, in megabytes.")
    var maxUploadMB = 32

    @Flag(help: "Let searches and indexing fetch URLs on private and loopback addresses.")
    var allowPrivateURLs = false

    @Option(help: "Also answer Milvus's gRPC protocol (pymilvus, the Milvus SDKs) on this port (0 picks a free one).")
    var milvusPort: Int?

    @Option(name: .customLong("tls-cert"), help: ArgumentHelp(
        "Serve HTTPS (and Milvus gRPC over TLS) with this PEM certificate chain; needs --tls-key.", valueName: "FILE"))
    var tlsCertificate: String?

    @Option(name: .customLong("tls-key"), help: ArgumentHelp("The PEM private key of --tls-cert.", valueName: "FILE"))
    var tlsKey: String?

    @Flag(help: "Let Milvus REST and gRPC clients drop, release or write to the library's own collection (refused by default).")
    var allowLibraryAdmin = false

    @Flag(help: "Let table rows and searches name pictures by a path on this machine (only URLs and base64 otherwise).")
    var allowTableFiles = false

    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical.")
    var logLevel: String = "info"

    @Option(help: "Also write logs to this file, rotated at --log-max-mb.")
    var logFile: String?

    @Option(help: "Size at which the log file is rotated, in megabytes (5 files are kept).")
    var logMaxMB = 10

    func run() async throws {
        try await reportingErrors {
            guard let level = Logger.Level(rawValue: logLevel) else {
                throw ValidationError("--log-level '\(logLevel)' must be one of trace, debug, info, notice, warning, error, critical")
            }
            let tls: TLSFiles? = switch (tlsCertificate, tlsKey) {
            case let (certificate?, key?): TLSFiles(certificateChain: certificate, privateKey: key)
            case (nil, nil): nil
            default: throw ValidationError("--tls-cert and --tls-key go together: give both, or neither for plain HTTP")
            }
            let file = try logFile.map { try RotatingFileLog(path: $0, maxBytes: logMaxMB << 20, keep: 5) }
            LoggingSystem.bootstrap { label in
                var handlers: [any LogHandler] = [StreamLogHandler.standardError(label: label)]
                if let file { handlers.append(RotatingFileLogHandler(label: label, file: file)) }
                var handler = MultiplexLogHandler(handlers)
                handler.logLevel = level
                return handler
            }
            let logger = Logger(label: "loupe.server")
            let library = try await library.open(.writer) { configuration in
                configuration.remote.refusesPrivateAddresses = !allowPrivateURLs
                configuration.videosInFlight = self.library.embedConcurrency
            }
            var configuration = ServerConfiguration()
            configuration.host = host
            configuration.port = port
            configuration.token = token ?? ProcessInfo.processInfo.environment["LOUPE_TOKEN"]
            configuration.corsOrigins = corsOrigins
            configuration.indexRoots = indexRoots
            configuration.maxUploadBytes = maxUploadMB << 20
            configuration.jobsDirectory = URL(fileURLWithPath: self.library.data).appendingPathComponent("jobs")
            configuration.allowsLibraryAdmin = allowLibraryAdmin
            configuration.milvusPort = milvusPort
            configuration.allowsTableFiles = allowTableFiles
            configuration.tls = tls
            let scheme = configuration.tls == nil ? "http" : "https"
            let server = try LoupeServer(library: library, configuration: configuration, logger: logger)
            let watchdog = ShutdownWatchdog(deadline: configuration.limits.shutdownDeadline, logger: logger)
            let host = host
            try await server.run { port in
                logger.notice("Loupe is serving \(scheme)://\(host.contains(":") ? "[\(host)]" : host):\(port)/")
                // Tests and scripts read the port from this line.
                FileHandle.standardOutput.write(Data("listening on \(host):\(port)\n".utf8))
            } onMilvusRunning: { port in
                logger.notice("Loupe answers Milvus gRPC on \(host.contains(":") ? "[\(host)]" : host):\(port)")
                FileHandle.standardOutput.write(Data("milvus grpc listening on \(host):\(port)\n".utf8))
            }
            // Requests have drained and jobs stopped at a batch boundary: flush the index files.
            try await library.close()
            withExtendedLifetime(watchdog) {}
            logger.notice("Loupe stopped cleanly")
        }
    }
}

/// Makes SIGTERM and SIGINT always end the process: the server drains in-flight requests and stops jobs at
/// a batch boundary, but if that takes longer than `deadline` seconds (a request stuck in a decoder), the
/// process exits anyway. Jobs resume at the next start, and every committed batch is already durable.
final class ShutdownWatchdog {
    private let sources: [any DispatchSourceSignal]

    init(deadline: Double, logger: Logger) {
        let queue = DispatchQueue(label: "loupe.shutdown-watchdog")
        sources = [SIGTERM, SIGINT].map { signalNumber in
            let source = DispatchSource.makeSignalSource(signal: signalNumber, queue: queue)
            source.setEventHandler {
                queue.asyncAfter(deadline: .now() + deadline) {
                    logger.error("shutdown took longer than \(deadline) s; exiting without waiting further")
                    exit(3)
                }
            }
            source.resume()
            return source
        }
    }

    deinit { sources.forEach { $0.cancel() } }
}
