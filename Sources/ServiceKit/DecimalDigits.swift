/// Decimal digits of an integer without going through `String` (whose generic initialiser runs
/// unspecialised across modules, an allocation and a dynamic dispatch on hot paths).
public enum DecimalDigits {
    /// Calls `body` with the ASCII digits of `value` (a leading `-` when negative).
    @inlinable
    public static func withDigits<Result>(of value: Int64, _ body: (UnsafeRawBufferPointer) throws -> Result) rethrows -> Result {
        var magnitude = value.magnitude
        var scratch: (UInt64, UInt64, UInt64) = (0, 0, 0)
        return try withUnsafeMutableBytes(of: &scratch) { scratch in
            var start = scratch.count
            repeat {
                start -= 1
                scratch[start] = UInt8(ascii: "0") + UInt8(magnitude % 10)
                magnitude /= 10
            } while magnitude > 0
            if value < 0 {
                start -= 1
                scratch[start] = UInt8(ascii: "-")
            }
            return try body(UnsafeRawBufferPointer(rebasing: scratch[start...]))
        }
    }

    /// How many ASCII characters ``withDigits(of:_:)`` writes for `value`.
    @inlinable
    public static func count(of value: Int64) -> Int {
        var magnitude = value.magnitude
        var count = value < 0 ? 2 : 1
        while magnitude >= 10 {
            magnitude /= 10
            count += 1
        }
        return count
    }
}

extension Array<UInt8> {
    /// Appends the decimal digits of `value`.
    @inlinable
    public mutating func appendDecimal(_ value: Int64) {
        DecimalDigits.withDigits(of: value) { append(contentsOf: $0) }
    }
}
