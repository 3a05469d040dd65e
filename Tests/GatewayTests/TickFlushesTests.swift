import NIOCore
import NIOEmbedded
import Testing

@testable import Gateway

@Suite("Upstream requests flushed at the end of their event-loop tick")
struct TickFlushesTests {
    @Test("requests written in one tick leave together once the loop has handled its events")
    func flushedAfterTheTick() throws {
        let loop = EmbeddedEventLoop()
        let flushes = TickFlushes(eventLoop: loop)
        let connections = try (0..<3).map { _ in try Self.connection(on: loop) }
        for (index, connection) in connections.enumerated() {
            connection.send(method: .GET, head: ByteBuffer(string: "GET /\(index) HTTP/1.1\r\n\r\n"), body: [], flushes: flushes)
        }
        for connection in connections {
            #expect(try Self.sent(connection) == nil, "nothing leaves while the tick goes on")
        }
        loop.run()
        for (index, connection) in connections.enumerated() {
            #expect(try Self.sent(connection) == "GET /\(index) HTTP/1.1\r\n\r\n")
        }

        connections[1].send(
            method: .POST, head: ByteBuffer(string: "POST /later HTTP/1.1\r\ncontent-length: 4\r\n\r\n"), body: [ByteBuffer(string: "body")],
            flushes: flushes
        )
        #expect(try Self.sent(connections[1]) == nil)
        loop.run()
        #expect(try Self.sent(connections[1]) == "POST /later HTTP/1.1\r\ncontent-length: 4\r\n\r\nbody", "a later tick is flushed too")
    }

    @Test("without tick flushes a request leaves at once")
    func flushedAtOnce() throws {
        let connection = try Self.connection(on: EmbeddedEventLoop())
        connection.send(method: .GET, head: ByteBuffer(string: "GET / HTTP/1.1\r\n\r\n"), body: [], flushes: nil)
        #expect(try Self.sent(connection) == "GET / HTTP/1.1\r\n\r\n")
    }

    /// An upstream connection over an embedded channel, its handlers as the pool sets them up.
    static func connection(on loop: EmbeddedEventLoop) throws -> UpstreamConnection {
        let decoder = UpstreamResponseDecoder()
        let handler = UpstreamHandler(decoder: decoder)
        let channel = EmbeddedChannel(loop: loop)
        try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(decoder))
        try channel.pipeline.syncOperations.addHandler(handler)
        return UpstreamConnection(channel: channel, handler: handler, target: try #require(UpstreamTarget("http://127.0.0.1:9")))
    }

    /// Everything flushed to the connection's socket so far, as text; nil when nothing was.
    static func sent(_ connection: UpstreamConnection) throws -> String? {
        let channel = try #require(connection.channel as? EmbeddedChannel)
        var text: String?
        while let buffer = try channel.readOutbound(as: ByteBuffer.self) {
            text = (text ?? "") + String(buffer: buffer)
        }
        return text
    }
}
