/// The lower-case hexadecimal digit (ASCII) of a value below 16.
@inlinable
public func hexDigit(_ value: UInt8) -> UInt8 {
    value < 10 ? UInt8(ascii: "0") + value : UInt8(ascii: "a") - 10 + value
}

extension Sequence<UInt8> {
    /// Lower-case hexadecimal, two digits a byte (without Foundation's slow `String(format:)`).
    public var hexString: String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(underestimatedCount * 2)
        for byte in self {
            bytes.append(hexDigit(byte >> 4))
            bytes.append(hexDigit(byte & 0x0F))
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}

extension UnsafeRawBufferPointer {
    /// Lower-case hexadecimal, two digits a byte, written straight into the string's storage.
    public var hexString: String {
        String(unsafeUninitializedCapacity: count * 2) { digits in
            for (index, byte) in enumerated() {
                digits[2 * index] = hexDigit(byte >> 4)
                digits[2 * index + 1] = hexDigit(byte & 0x0F)
            }
            return count * 2
        }
    }
}
