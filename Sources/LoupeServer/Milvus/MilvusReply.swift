import Foundation
import Hummingbird
import NIOCore

/// Milvus REST v2 answers: HTTP 200 with `{"code": 0, "data": ...}`, or `{"code": N, "message": ...}`.
enum MilvusReply {
    static func success(_ data: Any? = nil, extra: [String: Any] = [:]) -> Response {
        var body: [String: Any] = ["code": 0]
        body["data"] = data ?? [String: Any]()
        for (key, value) in extra { body[key] = value }
        return json(body)
    }

    static func failure(code: Int, message: String) -> Response {
        json(["code": code, "message": message])
    }

    static func json(_ object: Any) -> Response {
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.fragmentsAllowed]))
            ?? Data(#"{"code":1,"message":"response could not be encoded"}"#.utf8)
        return Response(status: .ok, headers: [.contentType: "application/json; charset=utf-8"],
                        body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}
