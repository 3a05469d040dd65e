import NIOCore

extension ReserveRequest {
    /// The request read straight from the bytes of its usual shape: one object with exactly
    /// `event_id`, `zone_id` (strings without escapes) and `quantity` (a plain integer), in any
    /// order, with any JSON whitespace. Anything else is nil, and the caller decodes it with
    /// `JSONDecoder` as before; where this reads a body, it reads the values `JSONDecoder` would.
    init?(plainJSON body: ByteBuffer) {
        let parsed: ReserveRequest? = body.withUnsafeReadableBytes { bytes in
            var reader = PlainJSONReader(bytes: bytes)
            return reader.reserveRequest()
        }
        guard let parsed else { return nil }
        self = parsed
    }
}

/// Reads the few JSON shapes the fast reservation path accepts; every other byte sequence,
/// valid JSON or not, is refused (nil) rather than interpreted.
private struct PlainJSONReader {
    let bytes: UnsafeRawBufferPointer
    var index = 0

    init(bytes: UnsafeRawBufferPointer) {
        self.bytes = bytes
    }

    mutating func reserveRequest() -> ReserveRequest? {
        var eventID: String?
        var zoneID: String?
        var quantity: Int?
        guard consume(UInt8(ascii: "{")) else { return nil }
        repeat {
            guard let key = plainString(), consume(UInt8(ascii: ":")) else { return nil }
            switch key {
            case "event_id" where eventID == nil:
                guard let value = plainString() else { return nil }
                eventID = value
            case "zone_id" where zoneID == nil:
                guard let value = plainString() else { return nil }
                zoneID = value
            case "quantity" where quantity == nil:
                guard let value = plainInteger() else { return nil }
                quantity = value
            default:
                return nil
            }
        } while consume(UInt8(ascii: ","))
        guard consume(UInt8(ascii: "}")), let eventID, let zoneID, let quantity else { return nil }
        skipWhitespace()
        guard index == bytes.count else { return nil }
        return ReserveRequest(eventID: eventID, zoneID: zoneID, quantity: quantity)
    }

    /// Skips JSON whitespace, then takes `byte` if it is next.
    private mutating func consume(_ byte: UInt8) -> Bool {
        skipWhitespace()
        guard index < bytes.count, bytes[index] == byte else { return false }
        index += 1
        return true
    }

    private mutating func skipWhitespace() {
        while index < bytes.count {
            switch bytes[index] {
            case 0x20, 0x09, 0x0A, 0x0D: index += 1
            default: return
            }
        }
    }

    /// A string with no escape and no control character, valid UTF-8.
    private mutating func plainString() -> String? {
        guard consume(UInt8(ascii: "\"")) else { return nil }
        let start = index
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "\"") {
                defer { index += 1 }
                return String(validating: UnsafeRawBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self)
            }
            guard byte != UInt8(ascii: "\\"), byte >= 0x20 else { return nil }
            index += 1
        }
        return nil
    }

    /// An integer as JSON writes it (`-`, then `0` or digits without a leading zero), with no
    /// fraction or exponent, that fits an `Int`.
    private mutating func plainInteger() -> Int? {
        skipWhitespace()
        let negative = index < bytes.count && bytes[index] == UInt8(ascii: "-")
        if negative { index += 1 }
        let start = index
        var magnitude = 0
        while index < bytes.count, case let digit = bytes[index], digit >= UInt8(ascii: "0"), digit <= UInt8(ascii: "9") {
            let (times10, overflow) = magnitude.multipliedReportingOverflow(by: 10)
            let (sum, carry) = times10.addingReportingOverflow(Int(digit - UInt8(ascii: "0")))
            guard !overflow, !carry else { return nil }
            magnitude = sum
            index += 1
        }
        let digits = index - start
        guard digits > 0, digits == 1 || bytes[start] != UInt8(ascii: "0") else { return nil }
        if index < bytes.count {
            switch bytes[index] {
            case UInt8(ascii: "."), UInt8(ascii: "e"), UInt8(ascii: "E"): return nil
            default: break
            }
        }
        return negative ? -magnitude : magnitude
    }
}
