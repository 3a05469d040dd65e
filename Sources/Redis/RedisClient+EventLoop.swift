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
        return send(command, on: eventLoop, timeout: timeout) { _ in nil }
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
        guard !cluster.isActive else {
            return eventLoop.makeFutureWithTask { try await self.run(script, keys: keys, arguments: arguments, timeout: timeout) }
        }
        return send(script.command(keys: keys, arguments: arguments), on: eventLoop, timeout: timeout) { error in
            guard error.kind == .noScript else { return nil }
            return eventLoop.makeFutureWithTask { try await self.run(script, keys: keys, arguments: arguments, timeout: timeout) }
        }
    }

    /// Sends `command` on the connection of `eventLoop` and completes one promise there: with the
    /// reply, through the async path for a cluster redirection, with what `recovery` makes of
    /// another server error (nil: the error), or with the normalized failure.
    private func send(
        _ command: RedisCommand,
        on eventLoop: any EventLoop,
        timeout: TimeAmount?,
        recovery: @escaping @Sendable (RedisServerError) -> EventLoopFuture<RedisValue>?
    ) -> EventLoopFuture<RedisValue> {
        let started = ContinuousClock.now
        let promise = eventLoop.makePromise(of: RedisValue.self)
        slot(on: eventLoop).send(command, timeout: timeout ?? configuration.commandTimeout).whenComplete { result in
            self.metrics.record(command: command, duration: ContinuousClock.now - started)
            switch result {
            case .success(let value):
                promise.succeed(value)
            case .failure(RedisError.server(let server)) where server.kind.needsRouting:
                promise.completeWithTask { try await self.send(command, timeout: timeout) }
            case .failure(RedisError.server(let server)):
                if let recovered = recovery(server) { promise.completeWith(recovered) } else { promise.fail(RedisError.server(server)) }
            case .failure(let error):
                promise.fail(Self.normalize(error))
            }
        }
        return promise.futureResult
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
