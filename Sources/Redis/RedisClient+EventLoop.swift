import NIOCore

extension RedisClient {
    /// Sends one command from a channel handler: the connection of `eventLoop` carries it and the
    /// reply completes on `eventLoop`, so a caller on that loop never changes thread.
    ///
    /// Replies that need the async machinery (`MOVED`/`ASK` in a cluster) are handed to
    /// ``send(_:timeout:)``; a client that has learnt cluster routes always takes that path.
    public func send(_ command: RedisCommand, on eventLoop: any EventLoop, timeout: TimeAmount? = nil) -> EventLoopFuture<RedisValue> {
        guard !cluster.isActive else {
            return eventLoop.makeFutureWithTask { try await self.send(command, timeout: timeout) }
        }
        let started = ContinuousClock.now
        let reply = slot(on: eventLoop).send(command, timeout: timeout ?? configuration.commandTimeout).hop(to: eventLoop)
        return reply.flatMapError { error in
            if case RedisError.server(let server) = error, server.kind.needsRouting {
                return eventLoop.makeFutureWithTask { try await self.send(command, timeout: timeout) }
            }
            return eventLoop.makeFailedFuture(Self.normalize(error))
        }.always { _ in
            self.metrics.record(command: command, duration: ContinuousClock.now - started)
        }
    }

    /// Runs `script` with `EVALSHA` from a channel handler, its reply on `eventLoop`; a missing
    /// script (`NOSCRIPT`) or a cluster redirection falls back to ``run(_:keys:arguments:timeout:)``.
    public func run(
        _ script: RedisScript,
        keys: [String],
        arguments: [any RedisArgument] = [],
        on eventLoop: any EventLoop,
        timeout: TimeAmount? = nil
    ) -> EventLoopFuture<RedisValue> {
        send(script.command(keys: keys, arguments: arguments), on: eventLoop, timeout: timeout).flatMapError { error in
            if case RedisError.server(let server) = error, server.kind == .noScript {
                return eventLoop.makeFutureWithTask {
                    try await self.run(script, keys: keys, arguments: arguments, timeout: timeout)
                }
            }
            return eventLoop.makeFailedFuture(error)
        }
    }

    /// `SET key value PX milliseconds` from a channel handler, completing on `eventLoop`.
    public func set(_ key: String, to value: some RedisArgument, expiresIn: Duration, on eventLoop: any EventLoop) -> EventLoopFuture<Void> {
        let milliseconds = Int(expiresIn.components.seconds * 1000 + expiresIn.components.attoseconds / 1_000_000_000_000_000)
        return send(RedisCommand("SET", [key, value, "PX", milliseconds]), on: eventLoop).map { _ in }
    }

    /// The ``RedisError`` a future from this client failed with (anything else: the connection is unavailable).
    public static func normalize(_ error: any Error) -> RedisError {
        (error as? RedisError) ?? .connectionUnavailable(reason: "\(error)")
    }
}

extension RedisServerError.Kind {
    /// Whether the reply redirects the command to another cluster node.
    var needsRouting: Bool {
        switch self {
        case .moved, .ask: true
        default: false
        }
    }
}
