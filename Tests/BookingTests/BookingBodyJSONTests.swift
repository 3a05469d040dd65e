@testable import Booking
import Foundation
import NIOCore
@testable import ServiceKit
import Testing

@Suite("A booking's JSON, written directly")
struct BookingBodyJSONTests {
    /// What the services' JSON encoder (`ISO8601RequestContext`'s) writes for `body`.
    static func encoded(_ body: BookingBody) throws -> String {
        String(decoding: try ISO8601RequestContext.encoder.encode(body), as: UTF8.self)
    }

    static func written(_ body: BookingBody) -> String {
        String(buffer: body.json())
    }

    static func body(expiresAt: Date, code: String? = nil, event: String = "evt-1") -> BookingBody {
        BookingBody(
            bookingID: "\(event):1b4e28ba-2fa1-41d2-883f-0016d3cca427", eventID: event, zoneID: "floor", quantity: 2,
            status: "reserved", expiresAt: expiresAt, total: 10_000, currency: "EUR", confirmationCode: code
        )
    }

    @Test("the same text as the encoder, byte for byte, with and without a confirmation code", arguments: [
        0, 1.999, 1_796_193_944.5, 1_796_193_944.9999, -0.5, 951_782_400, 253_402_300_799,
    ])
    func sameText(seconds: Double) throws {
        let date = Date(timeIntervalSince1970: seconds)
        #expect(Self.written(Self.body(expiresAt: date)) == (try Self.encoded(Self.body(expiresAt: date))))
        #expect(Self.written(Self.body(expiresAt: date, code: "BR-7Q2X")) == (try Self.encoded(Self.body(expiresAt: date, code: "BR-7Q2X"))))
    }

    @Test("strings that need escaping decode to what was written")
    func escaping() throws {
        let event = "quote\" back\\slash /slash tab\t line\n nul\u{0} é 🎫"
        let written = Self.body(expiresAt: Date(timeIntervalSince1970: 1_800_000_000), code: "\u{1F}", event: event)
        let decoded = try ISO8601RequestContext.decoder.decode(BookingBody.self, from: Data(Self.written(written).utf8))
        #expect(decoded.eventID == event)
        #expect(decoded.bookingID == written.bookingID)
        #expect(decoded.confirmationCode == "\u{1F}")
        #expect(decoded.expiresAt == written.expiresAt)
        #expect(decoded.total == 10_000 && decoded.quantity == 2)
    }
}
