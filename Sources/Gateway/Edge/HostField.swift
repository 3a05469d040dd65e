/// The syntax of a `Host` field value, and of an absolute-form target's authority
/// (RFC 9110 §7.2, RFC 3986 §3.2.2): `uri-host [ ":" port ]` with no user information. A server
/// must refuse a request whose `Host` is not that (RFC 9112 §3.2): the gateway passes it on as
/// `X-Forwarded-Host`, where an upstream building links from it would take whatever it held.
enum HostField {
    /// Whether `value` is a host and optional port, read from its UTF-8 bytes in place where the
    /// string keeps them together (it does, as the decoder made it).
    static func isValid(_ value: String) -> Bool {
        value.utf8.withContiguousStorageIfAvailable { isValid($0) } ?? isValid(value.utf8)
    }

    /// Whether `value` is a host (a registered name, an IPv4 address or a bracketed IP literal),
    /// empty or not, followed by an optional port of at most five digits.
    static func isValid<Bytes: Collection<UInt8>>(_ value: Bytes) -> Bool {
        var index = value.startIndex
        if index != value.endIndex, value[index] == UInt8(ascii: "[") {
            index = value.index(after: index)
            var literal = 0
            while index != value.endIndex, value[index] != UInt8(ascii: "]") {
                guard isLiteralByte(value[index]) else { return false }
                literal += 1
                index = value.index(after: index)
            }
            guard index != value.endIndex, literal > 0 else { return false }
            index = value.index(after: index)
        } else {
            while index != value.endIndex, value[index] != UInt8(ascii: ":") {
                guard isNameByte(value[index]) else { return false }
                index = value.index(after: index)
            }
        }
        guard index != value.endIndex else { return true }
        guard value[index] == UInt8(ascii: ":") else { return false }
        let port = value[value.index(after: index)...]
        return port.count <= 5 && port.allSatisfy { $0 &- UInt8(ascii: "0") < 10 }
    }

    /// `unreserved / pct-encoded / sub-delims`, the bytes of a `reg-name` or an IPv4 address.
    private static func isNameByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"): true
        case UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"), UInt8(ascii: "%"): true
        case UInt8(ascii: "!"), UInt8(ascii: "$"), UInt8(ascii: "&"), UInt8(ascii: "'"), UInt8(ascii: "("), UInt8(ascii: ")"),
            UInt8(ascii: "*"), UInt8(ascii: "+"), UInt8(ascii: ","), UInt8(ascii: ";"), UInt8(ascii: "="):
            true
        default: false
        }
    }

    /// The bytes of an IPv6 address or an `IPvFuture` literal between the brackets.
    private static func isLiteralByte(_ byte: UInt8) -> Bool {
        byte == UInt8(ascii: ":") || (byte != UInt8(ascii: "%") && isNameByte(byte))
    }
}
