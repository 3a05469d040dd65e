import NIOCore
import NIOHTTP1
import NIOPosix

/// Keep-alive HTTP/1.1 connections to upstreams, owned by one event loop: a proxied request
/// borrows one on the loop its client connection lives on, so no request changes thread.
///
/// Passive health: an upstream that refuses or times out a connect is tried last for a few seconds.
/// All state is touched on `eventLoop` only (the class is shared as Sendable for that reason).
final class UpstreamPool: @unchecked Sendable {
    static let connectTimeout = TimeAmount.seconds(2)
    static let idleLifetime = TimeAmount.seconds(30)
    static let maximumIdlePerTarget = 256
    static let unhealthyFor = TimeAmount.seconds(5)

    let eventLoop: any EventLoop
    /// The descriptors shared with client connections.
    let limit: ConnectionLimit
    /// The loop's exchanges waiting for an upstream's response head.
    let deadlines: ResponseDeadlines
    /// The loop's requests to upstreams, flushed at the end of each tick.
    let flushes: TickFlushes
    /// Idle connections per target key, newest last; the lists are objects so that taking and
    /// returning a connection reads the dictionary instead of changing it (its modify accessor
    /// allocates on every call).
    private var idle: [String: IdleConnections] = [:]
    private var unhealthyUntil: [String: NIODeadline] = [:]

    init(eventLoop: any EventLoop, limit: ConnectionLimit) {
        self.eventLoop = eventLoop
        self.limit = limit
        self.deadlines = ResponseDeadlines(eventLoop: eventLoop)
        self.flushes = TickFlushes(eventLoop: eventLoop)
    }

    /// `targets` with the ones that failed lately moved to the back (the same array when none did).
    func ordered(_ targets: [UpstreamTarget]) -> [UpstreamTarget] {
        eventLoop.preconditionInEventLoop()
        guard !unhealthyUntil.isEmpty else { return targets }
        let now = NIODeadline.now()
        let healthy = targets.filter { (unhealthyUntil[$0.key] ?? now) <= now }
        return healthy + targets.filter { (unhealthyUntil[$0.key] ?? now) > now }
    }

    func markUnhealthy(_ target: UpstreamTarget) {
        unhealthyUntil[target.key] = .now() + Self.unhealthyFor
    }

    /// An idle connection to `target` (unless `fresh`), or a new one; `done` runs on the loop.
    /// ``DescriptorsExhausted`` when the gateway has no descriptor to spare for a new one.
    func connection(to target: UpstreamTarget, fresh: Bool, _ done: @escaping (Result<UpstreamConnection, any Error>) -> Void) {
        eventLoop.preconditionInEventLoop()
        if !fresh, let connection = takeIdle(target) {
            done(.success(connection))
            return
        }
        guard limit.admitUpstream() else { return done(.failure(DescriptorsExhausted())) }
        let bootstrap = ClientBootstrap(group: eventLoop)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .connectTimeout(Self.connectTimeout)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let decoder = UpstreamResponseDecoder()
                    try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(decoder))
                    try channel.pipeline.syncOperations.addHandler(UpstreamHandler(decoder: decoder))
                }
            }
        let connecting: EventLoopFuture<any Channel>
        if let address = try? SocketAddress(ipAddress: target.host, port: target.port) {
            connecting = bootstrap.connect(to: address)
        } else {
            connecting = bootstrap.connect(host: target.host, port: target.port)
        }
        connecting.assumeIsolated().whenComplete { result in
            switch result {
            case .success(let channel):
                channel.closeFuture.whenComplete { [limit = self.limit] _ in limit.releaseUpstream() }
                do {
                    let handler = try channel.pipeline.syncOperations.handler(type: UpstreamHandler.self)
                    self.unhealthyUntil[target.key] = nil
                    done(.success(UpstreamConnection(channel: channel, handler: handler, target: target)))
                } catch {
                    channel.close(promise: nil)
                    done(.failure(error))
                }
            case .failure(let error):
                self.limit.releaseUpstream()
                if !DescriptorsExhausted.describes(error) { self.markUnhealthy(target) }
                done(.failure(error))
            }
        }
    }

    /// Takes back a connection whose exchange ended cleanly, for the next request.
    func release(_ connection: UpstreamConnection) {
        connection.handler.exchange = nil
        connection.handler.resumeReads()
        guard connection.channel.isActive else { return }
        let list: IdleConnections
        if let known = idle[connection.target.key] {
            list = known
        } else {
            list = IdleConnections()
            idle[connection.target.key] = list
        }
        guard list.connections.count < Self.maximumIdlePerTarget else {
            connection.close()
            return
        }
        connection.idleSince = .now()
        list.connections.append(connection)
    }

    /// The newest idle connection to `target` still open and not too old.
    private func takeIdle(_ target: UpstreamTarget) -> UpstreamConnection? {
        guard let list = idle[target.key], !list.connections.isEmpty else { return nil }
        let oldest = NIODeadline.now() - Self.idleLifetime
        while let connection = list.connections.popLast() {
            if connection.channel.isActive, connection.idleSince > oldest {
                connection.reused = true
                return connection
            }
            connection.close()
        }
        return nil
    }
}

/// A target's idle connections, newest last.
private final class IdleConnections {
    var connections: [UpstreamConnection] = []
}

/// One borrowed connection to an upstream.
final class UpstreamConnection {
    let channel: any Channel
    let handler: UpstreamHandler
    let target: UpstreamTarget
    /// Whether it served an earlier request: a stale keep-alive connection may close under it.
    var reused = false
    var idleSince = NIODeadline.now()

    init(channel: any Channel, handler: UpstreamHandler, target: UpstreamTarget) {
        self.channel = channel
        self.handler = handler
        self.target = target
    }

    /// Writes a request whose bytes are `head` then `body`, answered with a response to `method`;
    /// it leaves when `flushes` ends the tick (at once without them).
    func send(method: HTTPMethod, head: ByteBuffer, body: [ByteBuffer], flushes: TickFlushes?) {
        handler.decoder.expectResponse(to: method)
        channel.write(head, promise: nil)
        for part in body { channel.write(part, promise: nil) }
        if let flushes { flushes.flushAfterTick(self) } else { channel.flush() }
    }

    func flush() {
        channel.flush()
    }

    var isWritable: Bool { channel.isWritable }

    /// Closes without telling the exchange (it is the one closing).
    func close() {
        handler.exchange = nil
        channel.close(promise: nil)
    }
}
