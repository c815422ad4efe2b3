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

    public init(limits: Limits = Limits()) {
        self.limits = limits
    }

    /// The body at `url`, or an error naming the URL: wrong scheme, refused address, too large, too slow,
    /// or an HTTP error status.
    ///
    /// With `refusesPrivateAddresses`, each hop's host is resolved once, every address it resolves to is
    /// checked (`AddressPolicy`), and the client connects to the checked address itself (no second lookup,
    /// so a name that changes its answer in between cannot slip through).
    public func fetch(_ first: URL) async throws -> Data {
        let deadline = NIODeadline.now() + TimeAmount(limits.timeout)
        var url = first
        var hops = 0
        while true {
            let pinned = try check(url)
            var configuration = HTTPClient.Configuration(redirectConfiguration: .disallow,
                                                         timeout: .init(connect: .seconds(10), read: .seconds(30)))
            if let pinned, let host = url.host, AddressPolicy.Address(literal: host) == nil {
                configuration.dnsOverride = [host: pinned.description]
            }
            let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
            let outcome: Hop
            do {
                outcome = try await fetchOnce(url, client: client, deadline: deadline)
                try await client.shutdown()
            } catch {
                try? await client.shutdown()
                throw error
            }
            switch outcome {
            case .body(let data):
                return data
            case .redirect(let location):
                hops += 1
                guard hops <= limits.maxRedirects else {
                    throw LoupeError(.network, "more than \(limits.maxRedirects) redirects", input: first.absoluteString)
                }
                guard let next = URL(string: location, relativeTo: url)?.absoluteURL else {
                    throw LoupeError(.network, "the redirect to '\(location)' is not a URL", input: url.absoluteString)
                }
                url = next
            }
        }
    }

    private enum Hop {
        case body(Data)
        case redirect(String)
    }

    /// One request: the body, or where a redirect points (checked like the first URL by the caller).
    private func fetchOnce(_ url: URL, client: HTTPClient, deadline: NIODeadline) async throws -> Hop {
        var request = HTTPClientRequest(url: url.absoluteString)
        request.headers.add(name: "User-Agent", value: "loupe/0.1")
        let response: HTTPClientResponse
        do {
            response = try await client.execute(request, deadline: deadline)
        } catch {
            throw LoupeError(.network, "cannot fetch: \(error)", input: url.absoluteString)
        }
        if (300..<400).contains(response.status.code), let location = response.headers.first(name: "location") {
            return .redirect(location)
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
        return .body(data)
    }

    /// Only http and https, and, when configured, no private or loopback hosts: returns the checked
    /// address to connect to (nil when addresses are not checked).
    @discardableResult
    func check(_ url: URL) throws -> AddressPolicy.Address? {
        guard let scheme = url.scheme?.lowercased(), scheme == "http" || scheme == "https", let host = url.host, !host.isEmpty else {
            throw LoupeError(.invalidArgument, "only http and https URLs can be fetched", input: url.absoluteString)
        }
        guard limits.refusesPrivateAddresses else { return nil }
        let name = host.lowercased()
        if name == "localhost" || name.hasSuffix(".localhost") {
            throw LoupeError(.invalidArgument, "fetching from private or loopback addresses is not allowed here", input: url.absoluteString)
        }
        let addresses = AddressPolicy.addresses(of: host)
        guard let first = addresses.first else {
            throw LoupeError(.network, "\(host) does not resolve to an address", input: url.absoluteString)
        }
        if let refused = addresses.first(where: AddressPolicy.isRefused) {
            let shown = AddressPolicy.Address(literal: host) != nil ? "\(host) is" : "\(host) resolves to"
            throw LoupeError(.invalidArgument,
                             "\(shown) \(refused), a private, loopback or reserved address; fetching it is not allowed here",
                             input: url.absoluteString)
        }
        return first
    }

    /// Whether a host literal (or `localhost`) is one `AddressPolicy` refuses; names are not resolved.
    static func isPrivate(host: String) -> Bool {
        let name = host.lowercased()
        if name == "localhost" || name.hasSuffix(".localhost") { return true }
        return AddressPolicy.Address(literal: host).map(AddressPolicy.isRefused) ?? false
    }
}
