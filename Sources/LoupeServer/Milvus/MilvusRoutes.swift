import Foundation
import Hummingbird
import LoupeStore

/// Milvus REST v2 (`/v2/vectordb/...`) over the embedded store.
struct MilvusRoutes {
    let store: LoupeClient
    let maxBodyBytes: Int

    func register(on router: Router<LoupeRequestContext>) {
    }
}
