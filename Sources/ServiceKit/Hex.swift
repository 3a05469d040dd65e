/// The lower-case hexadecimal digit (ASCII) of a value below 16.
@inlinable
public func hexDigit(_ value: UInt8) -> UInt8 {
    value < 10 ? UInt8(ascii: "0") + value : UInt8(ascii: "a") - 10 + value
}

extension Sequence<UInt8> {
    /// Lower-case hexadecimal, two digits a byte (without Foundation's slow `String(format:)`).
    /// Inlinable: unspecialised, each byte would cost an iterator witness call.
    @inlinable
    public var hexString: String {
        var digits: [UInt8] = []
        digits.reserveCapacity(underestimatedCount * 2)
        digits.appendHex(of: self)
        return String(decoding: digits, as: UTF8.self)
    }
}

extension Array<UInt8> {
    /// Appends `bytes` in lower-case hexadecimal, two digits a byte.
    @inlinable
    public mutating func appendHex(of bytes: some Sequence<UInt8>) {
        for byte in bytes {
            append(hexDigit(byte >> 4))
            append(hexDigit(byte & 0x0F))
        }
    }
}

/// The bytes of lower- or upper-case hexadecimal `text` (two digits a byte), or nil when it is
/// not hexadecimal or longer than `limit` bytes.
public func hexDecoded(_ text: some Collection<UInt8>, limit: Int = 64) -> [UInt8]? {
    guard text.count % 2 == 0, text.count / 2 <= limit else { return nil }
    var bytes: [UInt8] = []
    bytes.reserveCapacity(text.count / 2)
    var high: UInt8?
    for digit in text {
        let value: UInt8
        switch digit {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): value = digit - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): value = digit - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): value = digit - UInt8(ascii: "A") + 10
        default: return nil
        }
        if let first = high {
            bytes.append(first << 4 | value)
            high = nil
        } else {
            high = value
        }
    }
    return bytes
}
