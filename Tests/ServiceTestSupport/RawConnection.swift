import Hummingbird
import HummingbirdTesting
import NIOCore
import NIOPosix
import Testing

/// A raw TCP connection to a live server.
public enum RawConnection {
    /// Writes `request`, then reads until `done` (given everything received so far and the
    /// connection's outbound writer) says so, the server closes, or `limit` has passed (the
    /// connection is closed then); returns everything received.
    public static func exchange(
        port: Int, _ request: String, limit: TimeAmount = .seconds(20),
        until done: (String, NIOAsyncChannelOutboundWriter<ByteBuffer>) async throws -> Bool
    ) async throws -> String {
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connect(host: "127.0.0.1", port: port) { channel in
                channel.eventLoop.makeCompletedFuture { try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel) }
            }
        let connection = channel.channel
        let deadline = connection.eventLoop.scheduleTask(in: limit) { connection.close(promise: nil) }
        defer { deadline.cancel() }
        return try await channel.executeThenClose { inbound, outbound in
            try await outbound.write(ByteBuffer(string: request))
            var received = ""
            for try await buffer in inbound {
                received += String(buffer: buffer)
                if try await done(received, outbound) { break }
            }
            return received
        }
    }
}

extension RawConnection {
    /// Writes `request` to a live `application` and, once `ready` finds what was received so far
    /// complete, lets the live test end, so the server shuts down gracefully; returns everything
    /// received and how long after the shutdown began the connection closed.
    public static func heldThroughShutdown(
        of application: some ApplicationProtocol, _ request: String, once ready: @escaping @Sendable (String) -> Bool
    ) async throws -> (text: String, closedAfter: Duration) {
        let received = AsyncStream<Void>.makeStream()
        let (held, shutDown) = try await application.test(.live) { client in
            let port = try #require(client.port)
            let held = Task {
                let text = try await exchange(port: port, request) { text, _ in
                    if ready(text) { received.continuation.yield() }
                    return false
                }
                return (text, ContinuousClock.now)
            }
            for await _ in received.stream { break }
            return (held, ContinuousClock.now)
        }
        let (text, closed) = try await held.value
        return (text, closed - shutDown)
    }
}

extension RawConnection {
    /// Writes `request`, shuts the client's side of the connection, then reads until the server
    /// closes (or `limit` has passed); returns everything received.
    public static func halfClosed(port: Int, _ request: String, limit: TimeAmount = .seconds(10)) async throws -> String {
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelOption(ChannelOptions.allowRemoteHalfClosure, value: true)
            .connect(host: "127.0.0.1", port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel, configuration: .init(isOutboundHalfClosureEnabled: true))
                }
            }
        let connection = channel.channel
        let deadline = connection.eventLoop.scheduleTask(in: limit) { connection.close(promise: nil) }
        defer { deadline.cancel() }
        return try await channel.executeThenClose { inbound, outbound in
            try await outbound.write(ByteBuffer(string: request))
            outbound.finish()
            var received = ""
            for try await buffer in inbound { received += String(buffer: buffer) }
            return received
        }
    }
}
