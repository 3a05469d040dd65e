import NIOCore
import Testing

@testable import Redis

@Suite("Reading replies as field maps")
struct RedisValueTests {
    static func bulk(_ text: String) -> RedisValue { .bulkString(ByteBuffer(string: text)) }

    @Test("string fields: names and values read as text, nil and nested values dropped, a repeated name's last value wins, an odd tail ignored", arguments: [
        [bulk("a"), bulk("1"), bulk("b"), .integer(2)],
        [bulk("a"), .null, bulk("b"), bulk("x")],
        [bulk("a"), bulk("1"), bulk("a"), .array([])],
        [bulk("a"), .array([]), bulk("a"), bulk("2")],
        [.array([]), bulk("1"), .simpleString("c"), bulk("3"), bulk("tail")],
        [],
    ] as [[RedisValue]])
    func stringFields(values: [RedisValue]) {
        let reply = RedisValue.array(values)
        #expect(reply.stringFields == reply.fields?.compactMapValues(\.string))
    }

    @Test("string fields of a reply that is not an array: none")
    func notAnArray() {
        #expect(Self.bulk("a").stringFields == nil)
        #expect(RedisValue.null.stringFields == nil)
        #expect(RedisValue.array([Self.bulk("a"), Self.bulk("1"), Self.bulk("b"), .integer(2)]).stringFields == ["a": "1", "b": "2"])
    }
}
