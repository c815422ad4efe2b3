import Foundation
import Testing
@testable import LoupeServer

@Suite("Loupe API")
struct APITests {
    @Test("health check answers with the model and item count")
    func health() async throws {
        let server = try await TestServer.start()
        defer { Task { await server.stop() } }
        let (status, object) = try await server.json(.GET, "/healthz")
        #expect(status == 200)
        #expect(object["model"] as? String == "shapes-clip")
        #expect(object["items"] as? Int == server.pictures.count + 1)
    }
}
