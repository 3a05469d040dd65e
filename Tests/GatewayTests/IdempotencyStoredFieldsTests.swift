import Foundation
import NIOCore
import NIOHTTP1
import Testing

@testable import Gateway

@Suite("The response fields an idempotency key stores for its replays")
struct IdempotencyStoredFieldsTests {
    @Test("the replayed fields, in their order, as JSON pairs that decode to the values sent, escapes included")
    func pairs() throws {
        let headers = HTTPHeaders([
            ("Location", #"/orders/"q"\back\slash"#), ("X-Other", "not stored"), ("content-type", "application/json; charset=utf-8"),
            ("ETag", "W/\"v1\"\u{01}é"), ("Content-Type", "second one is not stored"),
        ])
        let json = IdempotencyStore.storedFields(headers)
        let decoded = try JSONDecoder().decode([[String]].self, from: Data(json))
        #expect(decoded == [["Content-Type", "application/json; charset=utf-8"], ["Location", #"/orders/"q"\back\slash"#], ["ETag", "W/\"v1\"\u{01}é"]])
        #expect(String(decoding: IdempotencyStore.storedFields(HTTPHeaders()), as: UTF8.self) == "[]")

        let replayed = IdempotencyStore.replay(status: 201, headers: String(decoding: json, as: UTF8.self), body: .bulkString(ByteBuffer(string: "{}")))
        #expect(replayed.status == .created)
        #expect(replayed.headers["Location"] == [#"/orders/"q"\back\slash"#])
        #expect(replayed.headers["ETag"] == ["W/\"v1\"\u{01}é"])
        #expect(replayed.headers["idempotent-replayed"] == ["true"])
        #expect(String(buffer: replayed.body) == "{}")
    }
}
