import Logging
import Metrics
import NIOCore
import NIOPosix
import Synchronization

/// A pool of pipelined Redis connections spread over the event loops of a group. Against a
/// Redis Cluster it follows `MOVED` and `ASK` replies to the node that serves each key.
///
/// Commands go to a connection on the caller's own event loop when there is one (no thread
/// hop), otherwise round-robin. Safe to share between tasks.
public final class RedisClient: Sendable {
    /// The configuration the client was made with.
    public let configuration: RedisConfiguration
    /// The first segment of every key the deployment writes (from the configuration).
    public var keySpace: RedisKeySpace { configuration.keySpace }
    private let slots: [RedisConnectionSlot]
    private let slotsByLoop: [ObjectIdentifier: [RedisConnectionSlot]]
    private let nextSlot = Atomic<Int>(0)
    let metrics = RedisMetrics()
    let cluster = RedisClusterRouting()

    /// Creates a client; connections open on first use.
    public init(
        configuration: RedisConfiguration,
        eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        logger: Logger = Logger(label: "redis")
    ) {
        self.configuration = configuration
        var loops: [any EventLoop] = []
        for loop in eventLoopGroup.makeIterator() { loops.append(loop) }
        self.slots = (0..<configuration.poolSize).map { index in
            RedisConnectionSlot(configuration: configuration, eventLoop: loops[index % loops.count], logger: logger)
        }
        self.slotsByLoop = Dictionary(grouping: slots) { ObjectIdentifier($0.eventLoop) }
    }

    /// Sends one command and waits for its reply.
    ///
    /// - Throws: `RedisError.server` for an error reply; `.timeout`, `.connectionClosed` or
    ///   `.connectionUnavailable` when the reply cannot be had.
    public func send(_ command: RedisCommand, timeout: TimeAmount? = nil) async throws(RedisError) -> RedisValue {
        try await sendRouted(command, timeout: timeout)
    }

    /// Sends `command` to this client's own server, whatever its key.
    func sendHere(_ command: RedisCommand, timeout: TimeAmount? = nil) async throws(RedisError) -> RedisValue {
        let started = ContinuousClock.now
        defer { metrics.record(command: command, duration: ContinuousClock.now - started) }
        do {
            return try await slot().send(command, timeout: timeout ?? configuration.commandTimeout).get()
        } catch let error as RedisError {
            throw error
        } catch {
            throw RedisError.connectionUnavailable(reason: "\(error)")
        }
    }

    /// Sends `name` with `arguments`, e.g. `try await client.send("SET", "key", "value")`.
    @discardableResult
    public func send(_ name: String, _ arguments: any RedisArgument...) async throws(RedisError) -> RedisValue {
        try await send(RedisCommand(name, arguments))
    }

    /// Closes every connection; later commands fail with `RedisError.clientShutdown`.
    public func shutdown() async {
        await cluster.shutdown()
        for slot in slots {
            try? await slot.shutdown().get()
        }
    }

    /// A connection slot of `eventLoop` when the pool has one there, otherwise the next in turn.
    func slot(on eventLoop: any EventLoop) -> RedisConnectionSlot {
        if let local = slotsByLoop[ObjectIdentifier(eventLoop)] {
            if local.count == 1 { return local[0] }
            return local[nextSlot.wrappingAdd(1, ordering: .relaxed).oldValue % local.count]
        }
        return slots[nextSlot.wrappingAdd(1, ordering: .relaxed).oldValue % slots.count]
    }

    private func slot() -> RedisConnectionSlot {
        if slots.count > 1, let current = MultiThreadedEventLoopGroup.currentEventLoop {
            return slot(on: current)
        }
        return slots[nextSlot.wrappingAdd(1, ordering: .relaxed).oldValue % slots.count]
    }
}
