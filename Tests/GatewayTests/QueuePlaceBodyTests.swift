import Foundation
import NIOCore
import Testing

@testable import Gateway

@Suite("The place body's JSON")
struct QueuePlaceBodyTests {
    static func object(_ body: QueuePlaceBody) throws -> [String: Any] {
        let json = body.json()
        return try #require(try JSONSerialization.jsonObject(with: Data(json.readableBytesView)) as? [String: Any])
    }

    @Test("Fields that are set are written, nil ones left out, numbers as numbers")
    func fields() throws {
        let body = QueuePlaceBody(status: "waiting", position: 12, ahead: 11, etaSeconds: 3, pollAfterMilliseconds: 2_000, ticket: "v1.abc.def", place: "q1.w12.xyz")
        let object = try Self.object(body)
        #expect(object.count == 7)
        #expect(object["status"] as? String == "waiting")
        #expect(object["position"] as? Int == 12)
        #expect(object["ahead"] as? Int == 11)
        #expect(object["eta_seconds"] as? Int == 3)
        #expect(object["poll_after_ms"] as? Int == 2_000)
        #expect(object["ticket"] as? String == "v1.abc.def")
        #expect(object["place"] as? String == "q1.w12.xyz")
    }

    @Test("Quotes, backslashes, control characters and non-ASCII text survive the round trip")
    func escaping() throws {
        let hostile = "https://shop.example/\"quoted\"\\path\n\t\u{01}é→🎟"
        let object = try Self.object(QueuePlaceBody(status: "admitted", pass: "a\"b", targetURL: hostile))
        #expect(object["target_url"] as? String == hostile)
        #expect(object["pass"] as? String == "a\"b")
        let text = String(buffer: QueuePlaceBody(status: "x", targetURL: "\u{01}\"").json())
        #expect(text == #"{"status":"x","target_url":"\u0001\""}"#)
    }

    @Test("Numbers are written in decimal, zero, negatives and the extremes of Int64 included", arguments: [
        0, 7, 10, 99, 1_000, -1, -42, 1_733_000_000_000, Int64.max, Int64.min,
    ])
    func numbers(value: Int64) throws {
        let text = String(buffer: QueuePlaceBody(status: "x", opensAt: value).json())
        #expect(text == #"{"status":"x","opens_at":\#(value)}"#)
    }

    @Test("A pre-queue place asks for its next poll 1 to 10 s ahead, whatever opening time and idle timeout it is given", arguments: [
        Int64.min, -1, 0, 1_733_000_000_000, 1_733_000_004_000, 1_733_000_100_000, Int64.max,
    ])
    func prequeuePoll(opensAt: Int64) throws {
        let now = Date(timeIntervalSince1970: 1_733_000_000)
        for idleTimeout in [0, 6, 60, Int.max] {
            let body = try #require(QueuePlaceBody(unsigned: .prequeue(opensAt: opensAt, prequeueCount: 3, idleTimeout: idleTimeout), now: now))
            let poll = try #require(body.pollAfterMilliseconds)
            #expect((1_000...10_000).contains(poll), "opens_at \(opensAt), idle timeout \(idleTimeout): \(poll)")
        }
        let soon = try #require(QueuePlaceBody(unsigned: .prequeue(opensAt: 1_733_000_004_000, prequeueCount: 3), now: now))
        #expect(soon.pollAfterMilliseconds == 4_000, "4 s before the opening, the next poll is at the opening")
    }
}
