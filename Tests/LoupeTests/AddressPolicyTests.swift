import Foundation
import Testing
@testable import Loupe

/// SSRF is judged on addresses, not spellings (issue 19, row 5: `[::ffff:0.0.0.0]` reached loopback).
@Suite struct AddressPolicyTests {
    func refused(_ literal: String) throws -> Bool {
        let address = try #require(AddressPolicy.Address(literal: literal), "\(literal) did not parse")
        return AddressPolicy.isRefused(address)
    }

    @Test func mappedCompatibleAndTranslatedIPv6AreJudgedByTheirIPv4() throws {
        for literal in ["::ffff:0.0.0.0", "::ffff:0:0", "0:0:0:0:0:ffff:0:0", "[::ffff:127.0.0.1]", "::ffff:7f00:1",
                        "::ffff:10.1.2.3", "::ffff:192.168.1.1", "::ffff:169.254.169.254", "::127.0.0.1", "::", "::1",
                        "::ffff:0:127.0.0.1", "64:ff9b::127.0.0.1", "64:ff9b::a00:1", "64:ff9b:1::1", "2002:7f00:1::",
                        "2002:c0a8:101::1"]
        {
            #expect(try refused(literal), "\(literal) should be refused")
        }
        #expect(try !refused("::ffff:8.8.8.8"))
        #expect(try !refused("64:ff9b::8.8.8.8"))
        #expect(try !refused("2002:808:808::1"))
    }

    @Test func specialPurposeRangesAreRefused() throws {
        for literal in ["0.0.0.0", "0.1.2.3", "10.0.0.1", "100.64.0.1", "127.0.0.1", "127.255.255.254", "169.254.169.254",
                        "172.16.0.1", "172.31.255.255", "192.0.0.1", "192.0.2.1", "192.88.99.1", "192.168.0.1", "198.18.0.1",
                        "198.19.255.255", "198.51.100.1", "203.0.113.1", "224.0.0.1", "239.255.255.250", "240.0.0.1",
                        "255.255.255.255", "fe80::1", "fec0::1", "fc00::1", "fd12:3456::1", "ff02::1", "100::1",
                        "2001::1", "2001:db8::1", "3fff::1", "5f00::1"]
        {
            #expect(try refused(literal), "\(literal) should be refused")
        }
        for literal in ["8.8.8.8", "1.1.1.1", "172.32.0.1", "100.128.0.1", "2606:4700:4700::1111", "2a00:1450::1"] {
            #expect(try !refused(literal), "\(literal) is public")
        }
    }

    @Test func numericSpellingsResolveToTheirAddress() {
        // Resolved by the C library's numeric parsing (no DNS query for these).
        for host in ["0x7f.1", "2130706433", "127.1", "0177.0.0.1"] {
            let addresses = AddressPolicy.addresses(of: host)
            #expect(!addresses.isEmpty && addresses.allSatisfy(AddressPolicy.isRefused), "\(host): \(addresses)")
        }
        #expect(AddressPolicy.addresses(of: "[::ffff:0:0]").map(\.description) == ["::ffff:0.0.0.0"])
    }

    @Test func theFetcherRefusesBeforeConnecting() async throws {
        var limits = RemoteFetcher.Limits()
        limits.refusesPrivateAddresses = true
        let fetcher = RemoteFetcher(limits: limits)
        for url in ["http://[::ffff:0.0.0.0]:9/x", "http://[0:0:0:0:0:ffff:0:0]:9/x", "http://0x7f.1:9/x"] {
            await #expect(throws: LoupeError.self) { _ = try await fetcher.fetch(URL(string: url)!) }
        }
    }
}
