import Logging
import NIOCore

/// Keeps one connection to Redis on one event loop: connects on first use, and after the
/// connection dies reconnects on demand, backing off exponentially while connects fail.
///
/// While backing off, commands fail at once with `RedisError.connectionUnavailable` rather than
/// queue up behind a server that is not there. All state is touched on `eventLoop` only.
final class RedisConnectionSlot: @unchecked Sendable {
    private enum State {
        case idle(failures: Int)
        case connecting(EventLoopFuture<RedisConnection>, failures: Int)
        case connected(RedisConnection)
        case backingOff(until: NIODeadline, failures: Int, reason: String)
        case shutDown
    }

    let eventLoop: any EventLoop
    private let configuration: RedisConfiguration
    private let logger: Logger
    private var state: State = .idle(failures: 0)

    init(configuration: RedisConfiguration, eventLoop: any EventLoop, logger: Logger) {
        self.configuration = configuration
        self.eventLoop = eventLoop
        self.logger = logger
    }

    /// Sends a command on this slot's connection, connecting first if needed.
    func send(_ command: RedisCommand, timeout: TimeAmount) -> EventLoopFuture<RedisValue> {
        if eventLoop.inEventLoop {
            return sendOnLoop(command, timeout: timeout)
        }
        return eventLoop.flatSubmit { self.sendOnLoop(command, timeout: timeout) }
    }

    /// Sends a command; its reply (or failure) goes to `reply` on this slot's event loop. Sent from
    /// that loop to a live connection, it goes straight to the connection, without a promise between.
    func send(_ command: RedisCommand, timeout: TimeAmount, reply: @escaping @Sendable (Result<RedisValue, any Error>) -> Void) {
        if eventLoop.inEventLoop, case .connected(let connection) = state, connection.isActive {
            return connection.send(command, timeout: timeout, reply: .callback(reply))
        }
        send(command, timeout: timeout).whenComplete(reply)
    }

    /// Closes the connection and refuses further commands.
    func shutdown() -> EventLoopFuture<Void> {
        eventLoop.flatSubmit {
            let previous = self.state
            self.state = .shutDown
            switch previous {
            case .connected(let connection):
                return connection.close().recover { _ in }
            case .connecting(let future, _):
                return future.flatMap { $0.close() }.recover { _ in }
            default:
                return self.eventLoop.makeSucceededVoidFuture()
            }
        }
    }

    private func sendOnLoop(_ command: RedisCommand, timeout: TimeAmount) -> EventLoopFuture<RedisValue> {
        switch state {
        case .connected(let connection) where connection.isActive:
            return connection.send(command, timeout: timeout)
        case .connected:
            state = .idle(failures: 0)
            return connectThenSend(command, timeout: timeout, failures: 0)
        case .connecting(let future, _):
            return future.flatMap { $0.send(command, timeout: timeout) }
        case .idle(let failures):
            return connectThenSend(command, timeout: timeout, failures: failures)
        case .backingOff(let until, let failures, let reason):
            if NIODeadline.now() >= until {
                return connectThenSend(command, timeout: timeout, failures: failures)
            }
            return eventLoop.makeFailedFuture(RedisError.connectionUnavailable(reason: reason))
        case .shutDown:
            return eventLoop.makeFailedFuture(RedisError.clientShutdown)
        }
    }

    private func connectThenSend(_ command: RedisCommand, timeout: TimeAmount, failures: Int) -> EventLoopFuture<RedisValue> {
        let future = RedisConnection.connect(configuration: configuration, on: eventLoop, logger: logger)
        state = .connecting(future, failures: failures)
        future.whenComplete { result in
            switch result {
            case .success(let connection):
                self.connected(connection)
            case .failure(let error):
                self.connectFailed(error, failures: failures + 1)
            }
        }
        return future
            .flatMapErrorThrowing { error in
                if let redisError = error as? RedisError { throw redisError }
                throw RedisError.connectionUnavailable(reason: "\(error)")
            }
            .flatMap { $0.send(command, timeout: timeout) }
    }

    private func connected(_ connection: RedisConnection) {
        guard case .connecting = state else {
            connection.close(promise: nil)
            return
        }
        logger.debug("redis connected", metadata: ["redis.host": "\(configuration.host):\(configuration.port)"])
        state = .connected(connection)
        connection.channel.closeFuture.whenComplete { _ in
            if case .connected(let current) = self.state, current === connection {
                self.logger.info("redis connection closed", metadata: ["redis.host": "\(self.configuration.host):\(self.configuration.port)"])
                self.state = .idle(failures: 0)
            }
        }
    }

    private func connectFailed(_ error: any Error, failures: Int) {
        guard case .connecting = state else { return }
        let exponent = min(failures - 1, 16)
        let base = min(configuration.minimumBackoff.nanoseconds << exponent, configuration.maximumBackoff.nanoseconds)
        let jittered = base / 2 + Int64.random(in: 0...max(1, base / 2))
        logger.warning("redis connect failed", metadata: [
            "redis.host": "\(configuration.host):\(configuration.port)",
            "error": "\(error)",
            "retry_in_ms": "\(jittered / 1_000_000)",
        ])
        state = .backingOff(until: .now() + .nanoseconds(jittered), failures: failures, reason: "\(error)")
    }
}

extension RedisConnection {
    func close(promise: EventLoopPromise<Void>?) {
        channel.close(promise: promise)
    }
}
