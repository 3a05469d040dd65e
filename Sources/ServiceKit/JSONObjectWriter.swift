#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import NIOCore

/// Writes one flat JSON object of string, integer and date fields, escaping strings as RFC 8259
/// asks: for bodies on hot paths, where `JSONEncoder`'s generic walk costs more than the answer.
/// Fields come out in the order they are written; nil fields are left out. The object is built
/// in a byte array and written to the buffer once, at ``finish()``: a `ByteBuffer` write costs a
/// uniqueness and an exclusivity check each, and an object is made of dozens of small writes.
public struct JSONObjectWriter {
    private var buffer: ByteBuffer
    private var bytes: [UInt8] = []
    private var empty = true

    /// Starts the object in `buffer`, after what it holds.
    public init(buffer: ByteBuffer) {
        self.buffer = buffer
        bytes.reserveCapacity(max(128, buffer.writableBytes))
        bytes.append(UInt8(ascii: "{"))
    }

    /// Writes `"name":"value"`, unless `value` is nil.
    public mutating func field(_ name: StaticString, string value: String?) {
        guard let value else { return }
        key(name)
        bytes.appendJSONString(value)
    }

    /// Writes `"name":value`, unless `value` is nil.
    public mutating func field(_ name: StaticString, integer value: Int64?) {
        guard let value else { return }
        key(name)
        writeDecimal(value)
    }

    /// Writes `"name":value`, unless `value` is nil.
    public mutating func field(_ name: StaticString, integer value: Int?) {
        field(name, integer: value.map(Int64.init))
    }

    private mutating func writeDecimal(_ value: Int64) {
        bytes.appendDecimal(value)
    }

    /// Writes `"name":"<ISO 8601>"` in UTC to the second (`2026-12-04T15:20:00Z`), unless
    /// `value` is nil: the text `JSONEncoder`'s `.iso8601` strategy writes for the years 1583 to
    /// 9999 (Foundation counts earlier days by the Julian calendar; four digits hold the year).
    public mutating func field(_ name: StaticString, date value: Date?) {
        guard let value else { return }
        key(name)
        var seconds = time_t(value.timeIntervalSince1970.rounded(.down))
        var parts = tm()
        gmtime_r(&seconds, &parts)
        bytes.append(UInt8(ascii: "\""))
        writePadded(Int(parts.tm_year) + 1900, digits: 4)
        bytes.append(UInt8(ascii: "-"))
        writePadded(Int(parts.tm_mon) + 1, digits: 2)
        bytes.append(UInt8(ascii: "-"))
        writePadded(Int(parts.tm_mday), digits: 2)
        bytes.append(UInt8(ascii: "T"))
        writePadded(Int(parts.tm_hour), digits: 2)
        bytes.append(UInt8(ascii: ":"))
        writePadded(Int(parts.tm_min), digits: 2)
        bytes.append(UInt8(ascii: ":"))
        writePadded(Int(parts.tm_sec), digits: 2)
        bytes.append(contentsOf: "Z\"".utf8)
    }

    private mutating func writePadded(_ value: Int, digits: Int) {
        var divisor = 1
        for _ in 1..<digits { divisor *= 10 }
        var rest = value
        while divisor > 0 {
            bytes.append(UInt8(ascii: "0") + UInt8(rest / divisor % 10))
            rest %= divisor
            divisor /= 10
        }
    }

    /// The object, closed.
    public mutating func finish() -> ByteBuffer {
        bytes.append(UInt8(ascii: "}"))
        buffer.writeBytes(bytes)
        return buffer
    }

    private mutating func key(_ name: StaticString) {
        if !empty { bytes.append(UInt8(ascii: ",")) }
        empty = false
        bytes.append(UInt8(ascii: "\""))
        bytes.append(contentsOf: UnsafeBufferPointer(start: name.utf8Start, count: name.utf8CodeUnitCount))
        bytes.append(UInt8(ascii: "\""))
        bytes.append(UInt8(ascii: ":"))
    }
}

extension Array where Element == UInt8 {
    /// Appends `value` as a JSON string, quoted and escaped as RFC 8259 asks (quote, backslash
    /// and control characters; everything else as it is).
    public mutating func appendJSONString(_ value: String) {
        append(UInt8(ascii: "\""))
        if !value.utf8.contains(where: { $0 < 0x20 || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\\") }) {
            append(contentsOf: value.utf8)
            append(UInt8(ascii: "\""))
            return
        }
        for byte in value.utf8 {
            switch byte {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"):
                append(UInt8(ascii: "\\"))
                append(byte)
            case 0..<0x20:
                append(contentsOf: "\\u00".utf8)
                appendHex(of: CollectionOfOne(byte))
            default:
                append(byte)
            }
        }
        append(UInt8(ascii: "\""))
    }
}
