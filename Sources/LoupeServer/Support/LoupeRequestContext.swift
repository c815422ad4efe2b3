import Hummingbird
import Logging
import NIOCore

/// Per-request state: Hummingbird's core storage plus what Loupe's middleware learns about the caller.
public struct LoupeRequestContext: RequestContext, RemoteAddressRequestContext {
    public var coreContext: CoreRequestContextStorage
    /// The peer's address, for logs.
    public let remoteAddress: SocketAddress?

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        remoteAddress = source.channel.remoteAddress
    }

    /// Bodies are collected explicitly with per-route limits (`ServerConfiguration`); this only bounds
    /// Hummingbird's own `decode(as:)`.
    public var maxUploadSize: Int { 8 << 20 }
}
