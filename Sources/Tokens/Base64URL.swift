import Foundation

/// URL-safe base64 (RFC 4648 §5) as tickets, place tokens and JWTs use it, written and read
/// byte by byte: no padding on output; on input, padding is optional, and only the canonical
/// spelling of each byte string is accepted (unused trailing bits must be zero).
public enum Base64URL {
    static let alphabet: [UInt8] = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)

    /// Each byte's six-bit value in the alphabet, or 0xFF for a byte outside it.
    static let values: [UInt8] = {
        var values = [UInt8](repeating: 0xFF, count: 256)
        for (value, byte) in alphabet.enumerated() { values[Int(byte)] = UInt8(value) }
        return values
    }()

    /// The unpadded encoding of `bytes`.
    public static func encode(_ bytes: [UInt8]) -> String {
        bytes.withUnsafeBytes { encode($0) }
    }

    /// The unpadded encoding of the bytes in `bytes`.
    public static func encode(_ bytes: UnsafeRawBufferPointer) -> String {
        let count = bytes.count
        let length = count / 3 * 4 + [0, 2, 3][count % 3]
        guard length > 0 else { return "" }
        return String(unsafeUninitializedCapacity: length) { (output: UnsafeMutableBufferPointer<UInt8>) -> Int in
            alphabet.withUnsafeBufferPointer { alphabet in
                var written = 0
                var group: UInt32 = 0
                var held = 0
                for byte in bytes {
                    group = group << 8 | UInt32(byte)
                    held += 1
                    if held == 3 {
                        output[written] = alphabet[Int(group >> 18 & 63)]
                        output[written + 1] = alphabet[Int(group >> 12 & 63)]
                        output[written + 2] = alphabet[Int(group >> 6 & 63)]
                        output[written + 3] = alphabet[Int(group & 63)]
                        written += 4
                        group = 0
                        held = 0
                    }
                }
                if held == 1 {
                    output[written] = alphabet[Int(group >> 2 & 63)]
                    output[written + 1] = alphabet[Int(group << 4 & 63)]
                    written += 2
                } else if held == 2 {
                    output[written] = alphabet[Int(group >> 10 & 63)]
                    output[written + 1] = alphabet[Int(group >> 4 & 63)]
                    output[written + 2] = alphabet[Int(group << 2 & 63)]
                    written += 3
                }
                return written
            }
        }
    }

    /// The bytes a whole string encodes, as the `Substring` overload reads them.
    public static func decode(_ text: String) -> [UInt8]? {
        decode(text[...])
    }

    /// The bytes `text` encodes; nil for a byte outside the alphabet, an impossible length or a
    /// non-canonical ending.
    public static func decode(_ text: Substring) -> [UInt8]? {
        var utf8 = text.utf8[...]
        var padding = 0
        while utf8.last == UInt8(ascii: "="), padding < 2 {
            utf8 = utf8.dropLast()
            padding += 1
        }
        let count = utf8.count
        guard count % 4 != 1, padding == 0 || (count + padding) % 4 == 0 else { return nil }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(count * 3 / 4)
        let valid = values.withUnsafeBufferPointer { values -> Bool in
            var group: UInt32 = 0
            var held = 0
            for byte in utf8 {
                let value = values[Int(byte)]
                guard value != 0xFF else { return false }
                group = group << 6 | UInt32(value)
                held += 1
                if held == 4 {
                    bytes.append(UInt8(truncatingIfNeeded: group >> 16))
                    bytes.append(UInt8(truncatingIfNeeded: group >> 8))
                    bytes.append(UInt8(truncatingIfNeeded: group))
                    group = 0
                    held = 0
                }
            }
            switch held {
            case 2:
                guard group & 0xF == 0 else { return false }
                bytes.append(UInt8(truncatingIfNeeded: group >> 4))
            case 3:
                guard group & 0x3 == 0 else { return false }
                bytes.append(UInt8(truncatingIfNeeded: group >> 10))
                bytes.append(UInt8(truncatingIfNeeded: group >> 2))
            default:
                break
            }
            return true
        }
        return valid ? bytes : nil
    }
}

extension Data {
    /// Decodes URL-safe base64 with or without padding.
    public init?(base64URLEncoded text: Substring) {
        guard let bytes = Base64URL.decode(text) else { return nil }
        self.init(bytes)
    }

    /// URL-safe base64 without padding.
    public func base64URLEncodedString() -> String {
        withUnsafeBytes { Base64URL.encode($0) }
    }
}
