import Logging
import NIOCore
import NIOPosix

/// One TCP connection to Redis, with any number of commands in flight.
///
/// Its methods may be called from any thread.
public final class RedisConnection: Sendable {
    /// The channel the connection runs on.
    public let channel: any Channel

    init(channel: any Channel) {
        self.channel = channel
    }

    /// The event loop that owns the connection.
    public var eventLoop: any EventLoop { channel.eventLoop }

    /// Whether the connection can still carry commands.
    public var isActive: Bool { channel.isActive }

    /// Opens a connection, then authenticates and selects the database as `configuration` says.
    public static func connect(
        configuration: RedisConfiguration,
        on eventLoop: any EventLoop,
        logger: Logger
    ) -> EventLoopFuture<RedisConnection> {
        ClientBootstrap(group: eventLoop)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelOption(.socketOption(.so_keepalive), value: 1)
            .connectTimeout(configuration.connectTimeout)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandlers([
                        RedisReplyDecoder(),
                        RedisCommandHandler(),
                    ])
                }
            }
            .connect(host: configuration.host, port: configuration.port)
            .flatMap { channel in
                let connection = RedisConnection(channel: channel)
                return connection.handshake(configuration: configuration)
                    .map { connection }
                    .flatMapErrorThrowing { error in
                        channel.close(promise: nil)
                        throw error
                    }
            }
    }

    /// Sends `AUTH` and `SELECT` as needed. RESP2 only: `HELLO` is never sent.
    private func handshake(configuration: RedisConfiguration) -> EventLoopFuture<Void> {
        var commands: [RedisCommand] = []
        if let password = configuration.password {
            if let username = configuration.username {
                commands.append(RedisCommand("AUTH", [username, password]))
            } else {
                commands.append(RedisCommand("AUTH", [password]))
            }
        }
        if configuration.database != 0 {
            commands.append(RedisCommand("SELECT", [configuration.database]))
        }
        let replies = commands.map { send($0, timeout: configuration.connectTimeout) }
        return EventLoopFuture.andAllSucceed(replies, on: eventLoop)
    }

    /// Sends one command and returns its reply. A server error reply fails the future with
    /// `RedisError.server`.
    public func send(_ command: RedisCommand, timeout: TimeAmount) -> EventLoopFuture<RedisValue> {
        let promise = eventLoop.makePromise(of: RedisValue.self)
        send(command, timeout: timeout, reply: .promise(promise))
        return promise.futureResult
    }

    /// Sends one command; its reply (or failure) goes to `reply`, on the connection's event loop.
    func send(_ command: RedisCommand, timeout: TimeAmount, reply: RedisReplyTarget) {
        let request = RedisRequest(encoded: command.encoded(allocator: channel.allocator), reply: reply, timeout: timeout)
        if eventLoop.inEventLoop {
            write(request)
        } else {
            eventLoop.execute { self.write(request) }
        }
    }

    /// Writes on the channel's own loop, where a closed channel is seen before the write is lost.
    private func write(_ request: RedisRequest) {
        guard channel.isActive else {
            request.reply.fail(RedisError.connectionClosed)
            return
        }
        channel.write(request, promise: nil)
    }

    /// Closes the connection; commands in flight fail with `RedisError.connectionClosed`.
    public func close() -> EventLoopFuture<Void> {
        channel.close()
    }
}
