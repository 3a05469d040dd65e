/// UUIDs as lower-case text, made without Foundation's `UUID`: on Linux its `init()` opens,
/// reads and closes `/dev/urandom` for every UUID, and its `uuidString` formats with `sprintf`.
/// Ids made on hot paths (bookings, idempotency and pass claims, payment intents) come from here.
public enum UUIDText {
    /// A random (version 4) UUID, its 122 random bits from ``SecureRandom``.
    public static func random() -> String {
        SecureRandom.with16Bytes { random in
            version4(random.loadUnaligned(as: UInt64.self), random.loadUnaligned(fromByteOffset: 8, as: UInt64.self))
        }
    }

    /// The UUID of version 4 whose other 122 bits are those of `high` and `low` (in memory order).
    public static func version4(_ high: UInt64, _ low: UInt64) -> String {
        var bytes = (high, low)
        return withUnsafeMutableBytes(of: &bytes) { raw in
            raw[6] = raw[6] & 0x0F | 0x40
            raw[8] = raw[8] & 0x3F | 0x80
            return lowercased(UnsafeRawBufferPointer(raw))
        }
    }

    /// The first 16 of `bytes` as a UUID's text, unchanged (no version bits set): eight, four,
    /// four, four and twelve lower-case hexadecimal digits, as Foundation's
    /// `UUID(uuid:).uuidString.lowercased()` writes them.
    @inlinable
    public static func lowercased(_ bytes: some Sequence<UInt8>) -> String {
        String(unsafeUninitializedCapacity: 36) { text in
            var at = 0
            for (index, byte) in bytes.prefix(16).enumerated() {
                if index == 4 || index == 6 || index == 8 || index == 10 {
                    text[at] = UInt8(ascii: "-")
                    at += 1
                }
                text[at] = hexDigit(byte >> 4)
                text[at + 1] = hexDigit(byte & 0x0F)
                at += 2
            }
            precondition(at == 36, "a UUID takes 16 bytes")
            return at
        }
    }
}
