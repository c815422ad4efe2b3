import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1

/// Downloads media from http(s) URLs with limits on size, time and redirects.
public struct RemoteFetcher: Sendable {
    /// What a fetch may cost.
    public struct Limits: Sendable {
        /// Largest body accepted, in bytes (default 200 MB).
        public var maxBytes: Int64 = 200_000_000
        /// Deadline for the whole transfer.
        public var timeout: Duration = .seconds(60)
        public var maxRedirects = 5
        /// Refuse loopback, link-local and private-range hosts (for a server fetching on users' behalf).
        public var refusesPrivateAddresses = false

        public init() {}
    }

    public var limits: Limits
    /// Host name to numeric addresses, for the private-address check (tests answer without DNS).
    var resolve: @Sendable (String) -> [String] = RemoteFetcher.resolvedAddresses

    public init(limits: Limits = Limits()) {
        self.limits = limits
    }

    /// The body at `url`, or an error naming the URL: wrong scheme, refused address, too large, too slow,
    /// or an HTTP error status.
    public func fetch(_ url: URL) async throws -> Data {
        try check(url)
        let client = HTTPClient(
            eventLoopGroupProvider: .singleton,
            configuration: .init(redirectConfiguration: .disallow,
                                 timeout: .init(connect: .seconds(10), read: .seconds(30))))
        do {
            let data = try await fetch(url, client: client)
            try await client.shutdown()
            return data
        } catch {
            try? await client.shutdown()
            throw error
        }
    }

    /// Follows redirects itself so that every hop is checked like the first URL.
    private func fetch(_ first: URL, client: HTTPClient) async throws -> Data {
        let deadline = NIODeadline.now() + TimeAmount(limits.timeout)
        var url = first
        var hops = 0
        var response: HTTPClientResponse
        while true {
            var request = HTTPClientRequest(url: url.absoluteString)
            request.headers.add(name: "User-Agent", value: "loupe/0.1")
            do {
                response = try await client.execute(request, deadline: deadline)
            } catch {
                throw LoupeError(.network, "cannot fetch: \(error)", input: url.absoluteString)
            }
            guard (300..<400).contains(response.status.code), let location = response.headers.first(name: "location") else {
                break
            }
            hops += 1
            guard hops <= limits.maxRedirects else {
                throw LoupeError(.network, "more than \(limits.maxRedirects) redirects", input: first.absoluteString)
            }
            guard let next = URL(string: location, relativeTo: url)?.absoluteURL else {
                throw LoupeError(.network, "the redirect to '\(location)' is not a URL", input: url.absoluteString)
            }
            try check(next)
            url = next
        }
        guard (200..<300).contains(response.status.code) else {
            throw LoupeError(.network, "the server answered \(response.status.code) \(response.status.reasonPhrase)",
                             input: url.absoluteString)
        }
        if let length = response.headers.first(name: "content-length").flatMap(Int64.init), length > limits.maxBytes {
            throw LoupeError(.invalidArgument, "\(length) bytes is more than the limit of \(limits.maxBytes)", input: url.absoluteString)
        }
        var data = Data()
        do {
            for try await chunk in response.body {
                data.append(contentsOf: chunk.readableBytesView)
                if Int64(data.count) > limits.maxBytes {
                    throw LoupeError(.invalidArgument, "the body exceeds the limit of \(limits.maxBytes) bytes", input: url.absoluteString)
                }
            }
        } catch let error as LoupeError {
            throw error
        } catch {
            throw LoupeError(.network, "the transfer failed: \(error)", input: url.absoluteString)
        }
        return data
    }

    /// Only http and https, and, when configured, no private or loopback hosts.
    func check(_ url: URL) throws {
        guard let scheme = url.scheme?.lowercased(), scheme == "http" || scheme == "https", let host = url.host, !host.isEmpty else {
            throw LoupeError(.invalidArgument, "only http and https URLs can be fetched", input: url.absoluteString)
        }
        if limits.refusesPrivateAddresses {
            if Self.isPrivate(host: host) {
                throw LoupeError(.invalidArgument, "fetching from private or loopback addresses is not allowed here",
                                 input: url.absoluteString)
            }
            // A public-looking name may point inside the network: check what it resolves to. (The HTTP client
            // resolves again when it connects; a name that changes its answer in between is not caught.)
            if let address = resolve(host).first(where: { Self.isPrivate(host: $0) }) {
                throw LoupeError(.invalidArgument,
                                 "\(host) resolves to \(address), a private or loopback address; fetching it is not allowed here",
                                 input: url.absoluteString)
            }
        }
    }

    /// The numeric addresses a host name resolves to (empty when it does not resolve).
    static func resolvedAddresses(_ host: String) -> [String] {
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, nil, &hints, &list) == 0, let first = list else { return [] }
        defer { freeaddrinfo(first) }
        var addresses: [String] = []
        var cursor: UnsafeMutablePointer<addrinfo>? = first
        while let entry = cursor {
            var buffer = [CChar](repeating: 0, count: Int(NI_MAXHOST))
            if getnameinfo(entry.pointee.ai_addr, entry.pointee.ai_addrlen, &buffer, socklen_t(buffer.count), nil, 0,
                           NI_NUMERICHOST) == 0
            {
                addresses.append(String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
            }
            cursor = entry.pointee.ai_next
        }
        return addresses
    }

    /// Loopback, private, link-local and unspecified IPv4/IPv6 literals, and `localhost`.
    static func isPrivate(host: String) -> Bool {
        let host = host.lowercased().trimmingCharacters(in: CharacterSet(charactersIn: "[]"))
        if host == "localhost" || host.hasSuffix(".localhost") { return true }
        let octets = host.split(separator: ".").compactMap { UInt8($0) }
        if octets.count == 4, host.split(separator: ".").count == 4 {
            switch (octets[0], octets[1]) {
            case (10, _), (127, _), (0, _): return true
            case (172, 16...31), (192, 168), (169, 254), (100, 64...127): return true
            default: return false
            }
        }
        if host.contains(":") {
            return host == "::1" || host == "::" || host.hasPrefix("fe80") || host.hasPrefix("fc") || host.hasPrefix("fd")
                || host.hasPrefix("::ffff:127.") || host.hasPrefix("::ffff:10.") || host.hasPrefix("::ffff:192.168.")
        }
        return false
    }
}
