import Foundation
import LoupeMilvus
import LoupeStore
import Testing

/// What the client does without a server: URIs, versions, and a server that is not there.
struct MilvusClientOfflineTests {
    @Test("URIs give host, port and TLS")
    func uris() throws {
        let plain = try MilvusConfiguration(uri: "http://127.0.0.1:19531")
        #expect(plain.host == "127.0.0.1" && plain.port == 19531 && !plain.useTLS)
        let cloud = try MilvusConfiguration(uri: "https://in01-abc.example.com")
        #expect(cloud.port == 443 && cloud.useTLS)
        let bare = try MilvusConfiguration(uri: "localhost")
        #expect(bare.port == 19530)
        let v6 = try MilvusConfiguration(uri: "tcp://[::1]:1234")
        #expect(v6.host == "::1" && v6.port == 1234 && v6.address == "[::1]:1234")
        #expect(throws: MilvusError.self) { try MilvusConfiguration(uri: "ftp://x") }
        #expect(throws: MilvusError.self) { try MilvusConfiguration(uri: "http://h:notaport") }
        #expect(throws: MilvusError.self) { try MilvusConfiguration(uri: "http://root:Milvus@h:1") }
    }

    @Test("credentials never print their secret")
    func credentialsDescription() {
        let c = MilvusConfiguration.Credentials.userPassword(user: "root", password: "s3cret")
        #expect(!"\(c)".contains("s3cret"))
        #expect(!"\(MilvusConfiguration.Credentials.token("tok-123"))".contains("tok-123"))
    }

    @Test("server versions parse and compare by number")
    func versions() {
        #expect(ServerVersion(parsing: "v2.3.5") == ServerVersion(major: 2, minor: 3, patch: 5))
        #expect(ServerVersion(parsing: "2.4.9-gpu") > ServerVersion(parsing: "v2.4.1"))
        #expect(ServerVersion(parsing: "v2.5.0-beta").minor == 5)
        #expect(ServerVersion(parsing: "2.4").patch == 0)
        #expect(ServerVersion(parsing: "lite").major == 0)
        #expect(ServerVersion(parsing: "milvus_lite-3.2.2").isMilvusLite)
        #expect(!ServerVersion(parsing: "v2.3.5-lite").isMilvusLite, "the PyPI milvus server is Milvus")
    }

    @Test("a server that is not there is an unavailable error naming its address, within the deadline")
    func serverDown() async throws {
        // A port that was free a moment ago: bind, read it, close.
        let port = try MilvusTestServer.closedLoopbackPort()
        var config = try MilvusConfiguration(uri: "http://127.0.0.1:\(port)")
        config.timeout = .seconds(3)
        let client = try MilvusClient(configuration: config)
        let clock = ContinuousClock()
        let start = clock.now
        let error = try await #require(throws: MilvusError.self) { try await client.hasCollection("x") }
        #expect(error.code == .unavailable || error.code == .deadlineExceeded, "got \(error)")
        #expect(error.description.contains("127.0.0.1:\(port)"), "names the server: \(error)")
        #expect(clock.now - start < .seconds(10), "gave up within the deadline")
        await client.close()
    }
}
