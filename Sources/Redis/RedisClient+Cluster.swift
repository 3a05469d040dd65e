import NIOCore
import Synchronization

/// What a client has learnt of a Redis Cluster from `MOVED` replies: which node serves which
/// slot, and a client per node. Empty (and never consulted) against a single Redis.
final class RedisClusterRouting: Sendable {
    private let learnt = Atomic<Bool>(false)
    private let owners = Mutex<[Int: String]>([:])
    private let nodes = Mutex<[String: RedisClient]>([:])

    /// Whether a `MOVED` reply has taught any route (a cluster is in use).
    var isActive: Bool { learnt.load(ordering: .relaxed) }

    /// The node address known to serve `command`'s slot, if any.
    func address(for command: RedisCommand) -> String? {
        guard learnt.load(ordering: .relaxed), let key = command.routingKey else { return nil }
        return address(forSlot: RedisClusterSlot.of(key))
    }

    func address(forSlot slot: Int) -> String? {
        guard learnt.load(ordering: .relaxed) else { return nil }
        return owners.withLock { $0[slot] }
    }

    func learn(slot: Int, address: String) {
        owners.withLock { $0[slot] = address }
        learnt.store(true, ordering: .relaxed)
    }

    /// The client for the node at `address` (`host:port`), made on first use with `base`'s settings.
    func node(_ address: String, base: RedisConfiguration) -> RedisClient {
        nodes.withLock { nodes in
            if let client = nodes[address] { return client }
            let client = RedisClient(configuration: Self.configuration(base, at: address))
            nodes[address] = client
            return client
        }
    }

    static func configuration(_ base: RedisConfiguration, at address: String) -> RedisConfiguration {
        var configuration = base
        if let colon = address.lastIndex(of: ":"), let port = Int(address[address.index(after: colon)...]) {
            configuration.host = String(address[..<colon].filter { $0 != "[" && $0 != "]" })
            configuration.port = port
        }
        return configuration
    }

    func shutdown() async {
        for client in nodes.withLock({ Array($0.values) }) { await client.shutdown() }
    }
}

extension RedisClient {
    /// Sends `command` to the node that serves its key: this client's own server unless a
    /// `MOVED` reply taught otherwise. Follows `MOVED` (remembering the slot's new owner) and
    /// `ASK` (one `ASKING` + command on a fresh connection to the importing node), up to 5 hops.
    func sendRouted(_ command: RedisCommand, slot knownSlot: Int? = nil, timeout: TimeAmount?) async throws(RedisError) -> RedisValue {
        let routed = knownSlot.flatMap { cluster.address(forSlot: $0) } ?? cluster.address(for: command)
        var target = routed.map { cluster.node($0, base: configuration) } ?? self
        var hops = 0
        while true {
            do {
                return try await target.sendHere(command, timeout: timeout)
            } catch RedisError.server(let error) where hops < 5 {
                hops += 1
                switch error.kind {
                case .moved(let slot, let address):
                    cluster.learn(slot: slot, address: address)
                    target = cluster.node(address, base: configuration)
                case .ask(_, let address):
                    return try await asking(address, command, timeout: timeout)
                default:
                    throw .server(error)
                }
            }
        }
    }

    private func asking(_ address: String, _ command: RedisCommand, timeout: TimeAmount?) async throws(RedisError) -> RedisValue {
        var single = RedisClusterRouting.configuration(configuration, at: address)
        single.poolSize = 1
        let client = RedisClient(configuration: single)
        do {
            _ = try await client.sendHere(RedisCommand("ASKING"), timeout: timeout)
            let reply = try await client.sendHere(command, timeout: timeout)
            await client.shutdown()
            return reply
        } catch {
            await client.shutdown()
            throw error
        }
    }
}
