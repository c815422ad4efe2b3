import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Which IP addresses a server fetching URLs on users' behalf may connect to, judged on the address's
/// bytes rather than its spelling: `[::ffff:0:0]`, `[0:0:0:0:0:ffff:7f00:1]`, `0x7f.1` and `2130706433`
/// are all loopback once parsed.
///
/// Refused: the IPv4 special-purpose registry (this network 0/8, private 10/8, 172.16/12, 192.168/16,
/// shared 100.64/10, loopback 127/8, link-local 169.254/16, 192.0.0/24, documentation, benchmarking
/// 198.18/15, 6to4 relay 192.88.99/24, multicast and reserved 224/3), and in IPv6 the unspecified and
/// loopback addresses, IPv4-mapped, -compatible and -translated addresses whose IPv4 is refused, NAT64
/// (64:ff9b::/96 by its IPv4, 64:ff9b:1::/48 always), discard 100::/64, the IETF block 2001::/23
/// (Teredo included), documentation 2001:db8::/32 and 3fff::/20, 6to4 2002::/16 by its IPv4, unique
/// local fc00::/7, link-local fe80::/10, site-local fec0::/10, SRv6 5f00::/16 and multicast ff00::/8.
enum AddressPolicy {
    /// An address as bytes: 4 for IPv4, 16 for IPv6.
    struct Address: Hashable, CustomStringConvertible {
        var bytes: [UInt8]

        /// Parses a numeric IPv4 or IPv6 literal (brackets allowed); nil for names.
        init?(literal: String) {
            let text = literal.hasPrefix("[") && literal.hasSuffix("]") ? String(literal.dropFirst().dropLast()) : literal
            var v4 = in_addr()
            var v6 = in6_addr()
            if inet_pton(AF_INET, text, &v4) == 1 {
                bytes = withUnsafeBytes(of: &v4) { Array($0) }
            } else if inet_pton(AF_INET6, text.split(separator: "%", maxSplits: 1).first.map(String.init) ?? text, &v6) == 1 {
                bytes = withUnsafeBytes(of: &v6) { Array($0) }
            } else {
                return nil
            }
        }

        init(bytes: [UInt8]) { self.bytes = bytes }

        /// The canonical numeric form (what the HTTP client is told to connect to).
        var description: String {
            var buffer = [CChar](repeating: 0, count: 64)
            let family = bytes.count == 4 ? AF_INET : AF_INET6
            let ok = bytes.withUnsafeBytes { raw in inet_ntop(family, raw.baseAddress, &buffer, socklen_t(buffer.count)) != nil }
            return ok ? String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self) : "?"
        }
    }

    /// Whether connecting to `address` is refused.
    static func isRefused(_ address: Address) -> Bool {
        let b = address.bytes
        if b.count == 4 { return isRefusedIPv4(b) }
        guard b.count == 16 else { return true }
        let first12Zero = b[0..<12].allSatisfy { $0 == 0 }
        // ::/96 (IPv4-compatible, and :: and ::1 themselves) and ::ffff:0:0/96 (IPv4-mapped).
        if first12Zero { return isRefusedIPv4(Array(b[12..<16])) }
        if b[0..<10].allSatisfy({ $0 == 0 }) && b[10] == 0xFF && b[11] == 0xFF { return isRefusedIPv4(Array(b[12..<16])) }
        // ::ffff:0:0:0/96 (IPv4-translated).
        if b[0..<8].allSatisfy({ $0 == 0 }) && b[8] == 0xFF && b[9] == 0xFF && b[10] == 0 && b[11] == 0 {
            return isRefusedIPv4(Array(b[12..<16]))
        }
        // 64:ff9b::/96 well-known NAT64 carries an IPv4; 64:ff9b:1::/48 is local-use NAT64.
        if b[0] == 0x00 && b[1] == 0x64 && b[2] == 0xFF && b[3] == 0x9B {
            if b[4..<12].allSatisfy({ $0 == 0 }) { return isRefusedIPv4(Array(b[12..<16])) }
            if b[4] == 0 && b[5] == 1 { return true }
        }
        // 100::/64 discard.
        if b[0] == 0x01 && b[1] == 0x00 && b[2..<8].allSatisfy({ $0 == 0 }) { return true }
        // 2001::/23 IETF protocol assignments (Teredo 2001::/32 included), 2001:db8::/32 documentation.
        if b[0] == 0x20 && b[1] == 0x01 && b[2] < 0x02 { return true }
        if b[0] == 0x20 && b[1] == 0x01 && b[2] == 0x0D && b[3] == 0xB8 { return true }
        // 2002::/16 6to4 carries an IPv4 in bytes 2-5.
        if b[0] == 0x20 && b[1] == 0x02 { return isRefusedIPv4(Array(b[2..<6])) }
        // 3fff::/20 documentation, 5f00::/16 SRv6.
        if b[0] == 0x3F && b[1] & 0xF0 == 0xF0 { return true }
        if b[0] == 0x5F && b[1] == 0x00 { return true }
        // fc00::/7 unique local, fe80::/10 link-local, fec0::/10 site-local, ff00::/8 multicast.
        if b[0] & 0xFE == 0xFC { return true }
        if b[0] == 0xFE && b[1] & 0x80 == 0x80 { return true }
        if b[0] == 0xFF { return true }
        return false
    }

    static func isRefusedIPv4(_ b: [UInt8]) -> Bool {
        switch (b[0], b[1], b[2]) {
        case (0, _, _), (10, _, _), (127, _, _): return true
        case (100, 64...127, _), (169, 254, _), (172, 16...31, _), (192, 168, _): return true
        case (192, 0, 0), (192, 0, 2), (192, 88, 99), (198, 18...19, _), (198, 51, 100), (203, 0, 113): return true
        case (224...255, _, _): return true
        default: return false
        }
    }

    /// Every address `host` stands for: itself when numeric, else what the resolver answers (IPv4 and IPv6).
    static func addresses(of host: String) -> [Address] {
        if let literal = Address(literal: host) { return [literal] }
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, nil, &hints, &list) == 0, let first = list else { return [] }
        defer { freeaddrinfo(first) }
        var found: [Address] = []
        var cursor: UnsafeMutablePointer<addrinfo>? = first
        while let entry = cursor {
            if let sa = entry.pointee.ai_addr {
                switch Int32(sa.pointee.sa_family) {
                case AF_INET:
                    let v4 = UnsafeRawPointer(sa).load(as: sockaddr_in.self)
                    found.append(Address(bytes: withUnsafeBytes(of: v4.sin_addr) { Array($0) }))
                case AF_INET6:
                    let v6 = UnsafeRawPointer(sa).load(as: sockaddr_in6.self)
                    found.append(Address(bytes: withUnsafeBytes(of: v6.sin6_addr) { Array($0) }))
                default: break
                }
            }
            cursor = entry.pointee.ai_next
        }
        var seen = Set<Address>()
        return found.filter { seen.insert($0).inserted }
    }
}
