import NIOCore
import NIOEmbedded
import Testing

@testable import Redis

@Suite("RESP decoding through hiredis")
struct RedisReplyDecoderTests {
    /// Several replies of every type, with CRLF and NUL inside a bulk string.
    static let stream = Array(
        "+OK\r\n:-42\r\n$6\r\nab\r\n\0z\r\n$-1\r\n*-1\r\n-WRONGTYPE Operation against a key\r\n*3\r\n:1\r\n*2\r\n$1\r\nx\r\n+y\r\n$0\r\n\r\n".utf8
    )
    static let expected: [RedisValue] = [
        .simpleString("OK"),
        .integer(-42),
        .bulkString(ByteBuffer(bytes: Array("ab\r\n\0z".utf8))),
        .null,
        .null,
        .error(RedisServerError(message: "WRONGTYPE Operation against a key")),
        .array([.integer(1), .array([.bulkString(ByteBuffer(string: "x")), .simpleString("y")]), .bulkString(ByteBuffer())]),
    ]

    private func decode(_ chunks: [ArraySlice<UInt8>]) throws -> [RedisValue] {
        let channel = EmbeddedChannel(handler: RedisReplyDecoder())
        for chunk in chunks {
            try channel.writeInbound(ByteBuffer(bytes: chunk))
        }
        var values: [RedisValue] = []
        while let value = try channel.readInbound(as: RedisValue.self) { values.append(value) }
        _ = try channel.finish()
        return values
    }

    @Test("a stream split at every byte boundary decodes to the same replies")
    func splitAtEveryBoundary() throws {
        for split in 0...Self.stream.count {
            let values = try decode([Self.stream[..<split], Self.stream[split...]])
            #expect(values == Self.expected, "split at byte \(split)")
        }
    }

    @Test("a stream fed one byte at a time decodes")
    func oneByteAtATime() throws {
        let values = try decode(Self.stream.indices.map { Self.stream[$0...$0] })
        #expect(values == Self.expected)
    }

    @Test("several replies in one read are all passed on")
    func severalRepliesInOneRead() throws {
        let many = Array(repeating: Self.stream, count: 50).flatMap { $0 }
        let values = try decode([many[...]])
        #expect(values.count == Self.expected.count * 50)
        #expect(Array(values.suffix(Self.expected.count)) == Self.expected)
    }

    @Test("a stream read's nested strings come back in order, each its own value")
    func nestedStrings() throws {
        let entry = { (id: String, fields: [String]) in "*2\r\n$\(id.utf8.count)\r\n\(id)\r\n*\(fields.count)\r\n" + fields.map { "$\($0.utf8.count)\r\n\($0)\r\n" }.joined() }
        let reply = "*1\r\n*2\r\n$6\r\nstream\r\n*2\r\n" + entry("1-0", ["type", "held", "seats", ""]) + entry("1-1", ["type", "released"]) + ":7\r\n"
        let values = try decode([Array(reply.utf8)[...]])
        let entries: [RedisValue] = [
            .array([.bulkString(ByteBuffer(string: "1-0")), .array(["type", "held", "seats", ""].map { .bulkString(ByteBuffer(string: $0)) })]),
            .array([.bulkString(ByteBuffer(string: "1-1")), .array(["type", "released"].map { .bulkString(ByteBuffer(string: $0)) })]),
        ]
        #expect(values == [.array([.array([.bulkString(ByteBuffer(string: "stream")), .array(entries)])]), .integer(7)])
        guard case .array(let outer) = values.first, case .array(let stream) = outer.first, case .bulkString(var name) = stream.first else {
            Issue.record("not a stream read: \(values)")
            return
        }
        name.writeString("-changed")
        #expect(String(buffer: name) == "stream-changed")
        #expect(values.first == .array([.array([.bulkString(ByteBuffer(string: "stream")), .array(entries)])]), "a string changed alone")
    }

    @Test("bytes that are not RESP are a protocol violation")
    func protocolViolation() throws {
        let channel = EmbeddedChannel(handler: RedisReplyDecoder())
        #expect(throws: RedisError.self) {
            try channel.writeInbound(ByteBuffer(string: "?nonsense\r\n"))
        }
        _ = try? channel.finish()
    }

    @Test("commands are encoded as RESP arrays of bulk strings, binary-safe")
    func encoding() {
        let command = RedisCommand("SET", ["k", [UInt8]([0, 13, 10, 255]), 7])
        let expected = Array("*4\r\n$3\r\nSET\r\n$1\r\nk\r\n$4\r\n".utf8) + [0, 13, 10, 255] + Array("\r\n$1\r\n7\r\n".utf8)
        #expect(Array(command.encoded().readableBytesView) == expected)
        #expect(command.name == "SET")
        #expect(command.description == "SET (3 arguments)")
        #expect(command.count == 4)
    }
}
