/// How rate limits name a client by its address: an IPv4 address as it is, an IPv6 address by its
/// network (`ip6:2001:db8:1:2::/64`), an IPv4-mapped IPv6 address as the IPv4 address.
///
/// A single IPv6 subscriber is handed a whole /64 (RFC 6177), so one host can draw a fresh
/// address for every request; limits per address would then hold nobody back, and a flood of
/// joins would fill the waiting room. Counting the /64 as one client is what nginx users and
/// CDNs do for the same reason. Where subscribers get more (a /56 or a /48 from many providers),
/// `RATE_LIMIT_IPV6_PREFIX` counts that network as one client instead.
struct AddressSubject: Sendable {
    /// The prefix lengths an operator may choose.
    static let prefixLengths = 32...128

    /// How many leading bits of an IPv6 address name its client.
    let prefixLength: Int

    init(ipv6PrefixLength: Int = 64) {
        precondition(Self.prefixLengths.contains(ipv6PrefixLength), "an IPv6 prefix length from 32 to 128")
        self.prefixLength = ipv6PrefixLength
    }

    /// The rate-limit subject of `address` (`ip:<IPv4>`, `ip6:<network>::/<length>`, or `ip:<text>`
    /// for anything that does not parse as an address).
    func subject(of address: String) -> String {
        guard address.utf8.contains(UInt8(ascii: ":")), let bytes = AddressBlock.bytes(of: address), bytes.count == 16 else {
            return "ip:" + address
        }
        if bytes[0..<10].allSatisfy({ $0 == 0 }), bytes[10] == 0xFF, bytes[11] == 0xFF {
            return "ip:\(bytes[12]).\(bytes[13]).\(bytes[14]).\(bytes[15])"
        }
        let groups = (prefixLength + 15) / 16
        var text = "ip6:"
        for group in 0..<groups {
            if group > 0 { text += ":" }
            let bits = min(16, prefixLength - 16 * group)
            let mask = UInt16.max << (16 - bits)
            text += String((UInt16(bytes[2 * group]) << 8 | UInt16(bytes[2 * group + 1])) & mask, radix: 16)
        }
        return text + (groups < 8 ? "::/" : "/") + String(prefixLength)
    }
}
