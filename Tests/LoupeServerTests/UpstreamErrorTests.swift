import LoupeMilvus
import Testing
@testable import LoupeServer

/// With the library on Milvus (`serve --milvus`), the server's failures reach `/api/*` as upstream
/// statuses, not as 500s: a client can tell "try again" from "fix your request" from "ask the operator".
@Suite struct UpstreamErrorTests {
    @Test func milvusFailuresMapToStatusesThatSayWhoseFaultItIs() {
        let cases: [(LoupeMilvus.MilvusError.Code, Int, String)] = [
            (.unavailable, 503, "upstream_unavailable"), (.deadlineExceeded, 503, "upstream_unavailable"),
            (.rateLimited, 503, "upstream_unavailable"), (.notLoaded, 503, "upstream_unavailable"),
            (.notFound, 404, "not_found"), (.invalidArgument, 400, "invalid_argument"),
            (.authentication, 502, "upstream_error"), (.permissionDenied, 502, "upstream_error"),
            (.server, 502, "upstream_error"), (.protocolError, 502, "upstream_error"),
        ]
        for (code, status, name) in cases {
            let error = APIError.from(LoupeMilvus.MilvusError(code, "the call failed", server: "milvus.example:19530"))
            #expect(error.status.code == status, "\(code)")
            #expect(error.code == name, "\(code)")
            #expect(error.message.contains("milvus.example:19530"), "the message names the server: \(error.message)")
            #expect(error.headers.isEmpty == (status != 503), "Retry-After only when trying again can help: \(code)")
        }
    }
}
