import AsyncHTTPClient
import Foundation
import LoupeMilvus
import Testing
@testable import LoupeServer

/// `loupe serve --tls-cert --tls-key`: HTTPS for the API and the page, TLS for the Milvus gRPC listener.
@Suite("TLS", .stopsTestServers)
struct TLSTests {
    static let directory = TestServer.modelDirectory.deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("tls")
    static let files = TLSFiles(certificateChain: directory.appendingPathComponent("localhost.pem").path,
                                privateKey: directory.appendingPathComponent("localhost.key").path)

    @Test("with TLS files the API answers over HTTPS only, and Milvus gRPC over TLS to a client that trusts the certificate")
    func servesTLS() async throws {
        let server = try await TestServer.start(index: false, perClass: 1, video: false) {
            $0.tls = Self.files
            $0.milvusPort = 0
        }
        let (status, health) = try await server.json(.GET, "/healthz")
        #expect(status == 200 && server.url("/").hasPrefix("https://"), "\(health)")

        // Plain HTTP to the same port gets no answer.
        let plain = HTTPClient(eventLoopGroupProvider: .singleton)
        var request = HTTPClientRequest(url: "http://127.0.0.1:\(server.port)/healthz")
        request.method = .GET
        let plainAnswer = try? await plain.execute(request, timeout: .seconds(10))
        #expect(plainAnswer == nil || plainAnswer?.status != .ok, "plain HTTP was served on the TLS port")
        try await plain.shutdown()

        let milvusPort = try #require(server.milvusPort)
        var trusting = try MilvusConfiguration(uri: "https://127.0.0.1:\(milvusPort)")
        trusting.trustedCertificates = Self.files.certificateChain
        let client = try MilvusClient(configuration: trusting)
        #expect(try await client.listCollections() == ["media"])
        await client.close()

        // A client that trusts only the system's roots refuses the self-signed certificate.
        let untrusting = try MilvusClient(configuration: try MilvusConfiguration(uri: "https://127.0.0.1:\(milvusPort)"))
        var refused = false
        do { _ = try await untrusting.listCollections() } catch is LoupeMilvus.MilvusError { refused = true }
        #expect(refused, "a certificate no root vouches for was accepted")
        await untrusting.close()
    }

    @Test("a missing certificate, a key that is not a key, or a key of another certificate stops the start, naming the file",
          arguments: [
            (TLSFiles(certificateChain: "/nonexistent/loupe.pem", privateKey: files.privateKey), "/nonexistent/loupe.pem"),
            (TLSFiles(certificateChain: files.certificateChain, privateKey: files.certificateChain), "--tls-key"),
            (TLSFiles(certificateChain: files.certificateChain,
                      privateKey: directory.appendingPathComponent("other.key").path), "does not belong"),
          ])
    func refusesBadFiles(files: TLSFiles, mentions: String) async throws {
        var message: String?
        do {
            _ = try await TestServer.start(index: false, perClass: 1, video: false) { $0.tls = files }
        } catch let error as ServerError {
            message = error.description
        }
        #expect(message?.contains(mentions) == true, "\(message ?? "the server started")")
    }
}
