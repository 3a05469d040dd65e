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
        let promise = eventLoop.makePromise(of: RedisValue.self)
        run(script, keys: keys, arguments: arguments, on: eventLoop, timeout: timeout) { (result: Result<RedisValue, RedisError>) in
            promise.completeWith(result.mapError { $0 as any Error })
        }
        return promise.futureResult
    }

    /// ``run(_:keys:arguments:on:timeout:)`` handing the reply to `reply` on `eventLoop` instead of
    /// completing a future: a caller that completes a promise of its own spares one.
    public func run(
        _ script: RedisScript,
        keys: [String],
        arguments: [any RedisArgument] = [],
        on eventLoop: any EventLoop,
        timeout: TimeAmount? = nil,
        reply: @escaping @Sendable (Result<RedisValue, RedisError>) -> Void
    ) {
        guard !cluster.isActive else {
            return eventLoop.makeFutureWithTask { try await self.run(script, keys: keys, arguments: arguments, timeout: timeout) }
                .whenComplete { reply($0.mapError(Self.normalize)) }
        }
        send(script.command(keys: keys, arguments: arguments), on: eventLoop, timeout: timeout, recovery: { error in
            guard error.kind == .noScript else { return nil }
            return eventLoop.makeFutureWithTask { try await self.run(script, keys: keys, arguments: arguments, timeout: timeout) }
        }, reply: reply)
    }

    /// Sends `command` and completes one promise on `eventLoop` with what
    /// ``send(_:on:timeout:recovery:reply:)`` hands on.
    private func send(
        _ command: RedisCommand,
        on eventLoop: any EventLoop,
        timeout: TimeAmount?,
        recovery: @escaping @Sendable (RedisServerError) -> EventLoopFuture<RedisValue>?
    ) -> EventLoopFuture<RedisValue> {
        let promise = eventLoop.makePromise(of: RedisValue.self)
        send(command, on: eventLoop, timeout: timeout, recovery: recovery) { (result: Result<RedisValue, RedisError>) in
            promise.completeWith(result.mapError { $0 as any Error })
        }
        return promise.futureResult
    }

    /// Sends `command` on the connection of `eventLoop` and hands `reply`, on `eventLoop`: the
    /// reply, the async path's answer for a cluster redirection, what `recovery` makes of another
    /// server error (nil: the error), or the normalized failure.
    private func send(
        _ command: RedisCommand,
        on eventLoop: any EventLoop,
        timeout: TimeAmount?,
        recovery: @escaping @Sendable (RedisServerError) -> EventLoopFuture<RedisValue>?,
        reply: @escaping @Sendable (Result<RedisValue, RedisError>) -> Void
    ) {
        let started = ContinuousClock.now
        let slot = slot(on: eventLoop)
        let onLoop: @Sendable (Result<RedisValue, RedisError>) -> Void
        if slot.eventLoop.inEventLoop, eventLoop.inEventLoop {
            onLoop = reply
        } else {
            onLoop = { result in eventLoop.execute { reply(result) } }
        }
        slot.send(command, timeout: timeout ?? configuration.commandTimeout) { result in
            self.metrics.record(command: command, duration: ContinuousClock.now - started)
            switch result {
            case .success(let value):
                onLoop(.success(value))
            case .failure(RedisError.server(let server)) where server.kind.needsRouting:
                eventLoop.makeFutureWithTask { try await self.send(command, timeout: timeout) }.whenComplete { reply($0.mapError(Self.normalize)) }
            case .failure(RedisError.server(let server)):
                if let recovered = recovery(server) {
                    recovered.hop(to: eventLoop).whenComplete { reply($0.mapError(Self.normalize)) }
                } else {
                    onLoop(.failure(RedisError.server(server)))
                }
            case .failure(let error):
                onLoop(.failure(Self.normalize(error)))
            }
        }
    }

    /// `SET key value PX milliseconds` from a channel handler, completing on `eventLoop`.
    public func set(_ key: String, to value: some RedisArgument, expiresIn: Duration, on eventLoop: any EventLoop) -> EventLoopFuture<Void> {
        var command = RedisCommand("SET", [key, value])
        command.append(expiry: expiresIn)
        return send(command, on: eventLoop).map { _ in }
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
