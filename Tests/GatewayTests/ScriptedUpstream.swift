import NIOCore
import NIOPosix

/// An upstream on a loopback port that writes `answer` once per request head it reads.
final class ScriptedUpstream: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    private let answer: String
    private var received = ""

    init(answer: String) { self.answer = answer }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        received += String(buffer: unwrapInboundIn(data))
        while let end = received.range(of: "\r\n\r\n") {
            received.removeSubrange(..<end.upperBound)
            context.writeAndFlush(NIOAny(ByteBuffer(string: answer)), promise: nil)
        }
    }

    /// Runs `body` with an upstream answering `answer`, given its URL; stopped afterwards.
    static func with(answering answer: String, _ body: (String) async throws -> Void) async throws {
        let server = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(ScriptedUpstream(answer: answer)) }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        let url = "http://127.0.0.1:\(server.localAddress?.port ?? 0)"
        do {
            try await body(url)
        } catch {
            try? await server.close()
            throw error
        }
        try await server.close()
    }
}
