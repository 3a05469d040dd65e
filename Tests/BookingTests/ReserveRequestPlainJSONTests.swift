@testable import Booking
import Foundation
import NIOCore
import Testing

@Suite("A reservation's body read straight from its bytes")
struct ReserveRequestPlainJSONTests {
    static func decoded(_ text: String) -> ReserveRequest? {
        try? JSONDecoder().decode(ReserveRequest.self, from: Data(text.utf8))
    }

    static func read(_ text: String) -> ReserveRequest? {
        ReserveRequest(plainJSON: ByteBuffer(string: text))
    }

    static func same(_ a: ReserveRequest?, _ b: ReserveRequest?) -> Bool {
        a?.eventID == b?.eventID && a?.zoneID == b?.zoneID && a?.quantity == b?.quantity
    }

    @Test("the usual shapes read as JSONDecoder decodes them", arguments: [
        #"{"event_id":"evt-1","zone_id":"floor","quantity":2}"#,
        #"{"quantity":1,"zone_id":"balcony","event_id":"bench-direct-1796490443"}"#,
        " {\n\t\"event_id\" : \"é 🎫 /x\" ,\r\n \"zone_id\":\"\", \"quantity\" : -3 } \n",
        #"{"event_id":"a","zone_id":"b","quantity":0}"#,
        #"{"event_id":"a","zone_id":"b","quantity":-0}"#,
        #"{"event_id":"a","zone_id":"b","quantity":9223372036854775807}"#,
    ])
    func usualShapes(text: String) throws {
        let read = try #require(Self.read(text))
        #expect(Self.same(read, Self.decoded(text)))
    }

    @Test("anything else is left to JSONDecoder", arguments: [
        #"{"event_id":"a\"b","zone_id":"b","quantity":1}"#,
        #"{"event_id":"a\u0041","zone_id":"b","quantity":1}"#,
        #"{"event\u005fid":"a","zone_id":"b","quantity":1}"#,
        #"{"event_id":"a","zone_id":"b","quantity":1,"note":"x"}"#,
        #"{"event_id":"a","event_id":"c","zone_id":"b","quantity":1}"#,
        #"{"event_id":"a","zone_id":"b"}"#,
        #"{"event_id":"a","zone_id":"b","quantity":1.0}"#,
        #"{"event_id":"a","zone_id":"b","quantity":1e2}"#,
        #"{"event_id":"a","zone_id":"b","quantity":01}"#,
        #"{"event_id":"a","zone_id":"b","quantity":9223372036854775808}"#,
        #"{"event_id":"a","zone_id":"b","quantity":-9223372036854775809}"#,
        #"{"event_id":"a","zone_id":"b","quantity":"1"}"#,
        #"{"event_id":null,"zone_id":"b","quantity":1}"#,
        #"{"event_id":"a","zone_id":"b","quantity":1}x"#,
        #"{"event_id":"a","zone_id":"b","quantity":1,}"#,
        #"[{"event_id":"a","zone_id":"b","quantity":1}]"#,
        "{\"event_id\":\"a\tb\",\"zone_id\":\"b\",\"quantity\":1}",
        #"{"event_id":"a","zone_id":"b","quantity":-}"#,
        #"{"event_id":"a","zone_id":"b","quantity":1"#,
        #"{"event_id":"a"#,
        "",
    ])
    func refused(text: String) {
        #expect(Self.read(text) == nil)
    }

    @Test("bytes that are not UTF-8 are refused")
    func invalidUTF8() {
        var body = ByteBuffer(string: #"{"event_id":""#)
        body.writeBytes([0xC3, 0x28])
        body.writeString(#"","zone_id":"b","quantity":1}"#)
        #expect(ReserveRequest(plainJSON: body) == nil)
        #expect((try? JSONDecoder().decode(ReserveRequest.self, from: Data(body.readableBytesView))) == nil)
    }

    @Test("whatever it reads, JSONDecoder reads the same: every cut and every byte changed in a body")
    func mutations() {
        let original = Array(#"{"event_id":"evt-9","zone_id":"z1","quantity":12}"#.utf8)
        var bodies: [[UInt8]] = (0...original.count).map { Array(original.prefix($0)) }
        let replacements = Array(#"{}[]":,\ 0129-.eEnatrufl"#.utf8) + [0x00, 0x0A, 0x80, 0xFF]
        for position in original.indices {
            for byte in replacements {
                var changed = original
                changed[position] = byte
                bodies.append(changed)
            }
        }
        var readCount = 0
        for body in bodies {
            guard let read = ReserveRequest(plainJSON: ByteBuffer(bytes: body)) else { continue }
            readCount += 1
            let decoded = try? JSONDecoder().decode(ReserveRequest.self, from: Data(body))
            #expect(Self.same(read, decoded), "\(String(decoding: body, as: UTF8.self))")
        }
        #expect(readCount > 20, "the mutations include readable bodies (digits, whitespace, other names' letters)")
    }
}
