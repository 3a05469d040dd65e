/// How rate limits name a client by its address: an IPv4 address as it is, an IPv6 address by its
/// /64 network (`ip6:2001:db8:1:2::/64`), an IPv4-mapped IPv6 address as the IPv4 address.
///
/// A single IPv6 subscriber is handed a whole /64 (RFC 6177), so one host can draw a fresh
/// address for every request; limits per address would then hold nobody back, and a flood of
/// joins would fill the waiting room. Counting the /64 as one client is what nginx users and
/// CDNs do for the same reason.
enum AddressSubject {
    /// The rate-limit subject of `address` (`ip:<IPv4>`, `ip6:<prefix>::/64`, or `ip:<text>` for
    /// anything that does not parse as an address).
    static func of(_ address: String) -> String {
        guard address.utf8.contains(UInt8(ascii: ":")), let bytes = AddressBlock.bytes(of: address), bytes.count == 16 else {
            return "ip:" + address
        }
        if bytes[0..<10].allSatisfy({ $0 == 0 }), bytes[10] == 0xFF, bytes[11] == 0xFF {
            return "ip:\(bytes[12]).\(bytes[13]).\(bytes[14]).\(bytes[15])"
        }
        var text = "ip6:"
        for group in 0..<4 {
            if group > 0 { text += ":" }
            text += String(UInt16(bytes[2 * group]) << 8 | UInt16(bytes[2 * group + 1]), radix: 16)
        }
        return text + "::/64"
    }
}
