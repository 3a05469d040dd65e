import NIOCore

extension RedisClient {
    /// `PING`: round-trips to the server.
    public func ping() async throws(RedisError) {
        let reply = try await send(RedisCommand("PING"))
        guard reply.string == "PONG" else { throw .unexpectedReply(reply) }
    }

    /// `GET key`: the value's bytes, or nil when the key is missing.
    public func get(_ key: String) async throws(RedisError) -> ByteBuffer? {
        switch try await send(RedisCommand("GET", [key])) {
        case .bulkString(let buffer): return buffer
        case .null: return nil
        case let other: throw .unexpectedReply(other)
        }
    }

    /// `GET key` as UTF-8 text.
    public func getString(_ key: String) async throws(RedisError) -> String? {
        try await get(key).map { String(buffer: $0) }
    }

    /// `SET key value [PX milliseconds] [NX]`; returns false when `onlyIfAbsent` and the key exists.
    @discardableResult
    public func set(
        _ key: String,
        to value: some RedisArgument,
        expiresIn: Duration? = nil,
        onlyIfAbsent: Bool = false
    ) async throws(RedisError) -> Bool {
        var command = RedisCommand("SET", [key, value])
        if let expiresIn { command.append(expiry: expiresIn) }
        if onlyIfAbsent { command.append("NX") }
        let reply = try await send(command)
        switch reply {
        case .simpleString("OK"): return true
        case .null: return false
        default: throw .unexpectedReply(reply)
        }
    }

    /// `SET key value [PX milliseconds] GET`: sets the value and answers the one it replaced (nil
    /// when the key was missing).
    public func replace(_ key: String, with value: some RedisArgument, expiresIn: Duration? = nil) async throws(RedisError) -> ByteBuffer? {
        var command = RedisCommand("SET", [key, value])
        if let expiresIn { command.append(expiry: expiresIn) }
        command.append("GET")
        switch try await send(command) {
        case .bulkString(let buffer): return buffer
        case .null: return nil
        case let other: throw .unexpectedReply(other)
        }
    }

    /// `DEL key...`: how many keys were removed.
    @discardableResult
    public func delete(_ keys: [String]) async throws(RedisError) -> Int {
        try await integer(RedisCommand("DEL", keys))
    }

    /// `UNLINK key...`: removes the keys, their memory freed in the background; how many were there.
    @discardableResult
    public func unlink(_ keys: [String]) async throws(RedisError) -> Int {
        try await integer(RedisCommand("UNLINK", keys))
    }

    /// `SCAN` with `MATCH pattern`, then `DEL` of each batch found: how many keys were removed.
    /// Walks the keyspace in steps, so it never blocks Redis the way `KEYS` does. With
    /// `sameSlotAs`, the scan runs on the cluster node that serves that key's slot (where keys
    /// hash-tagged like it live); without it, on this client's own server.
    @discardableResult
    public func delete(matching pattern: String, sameSlotAs key: String? = nil) async throws(RedisError) -> Int {
        let slot = key.map { RedisClusterSlot.of($0.utf8) }
        var cursor = "0"
        var removed = 0
        repeat {
            let reply = try await sendRouted(RedisCommand("SCAN", [cursor, "MATCH", pattern, "COUNT", 1_000]), slot: slot, timeout: nil)
            guard let parts = reply.array, parts.count == 2, let next = parts[0].string else { throw .unexpectedReply(reply) }
            cursor = next
            let keys = (parts[1].array ?? []).compactMap(\.string)
            if !keys.isEmpty { removed += try await delete(keys) }
        } while cursor != "0"
        return removed
    }

    /// `EXISTS key`: whether the key exists.
    public func exists(_ key: String) async throws(RedisError) -> Bool {
        try await integer(RedisCommand("EXISTS", [key])) == 1
    }

    /// `INCRBY key amount`: the new value.
    @discardableResult
    public func increment(_ key: String, by amount: Int = 1) async throws(RedisError) -> Int {
        try await integer(RedisCommand("INCRBY", [key, amount]))
    }

    /// Sends a command whose reply must be an integer.
    public func integer(_ command: RedisCommand) async throws(RedisError) -> Int {
        let reply = try await send(command)
        guard case .integer(let value) = reply else { throw .unexpectedReply(reply) }
        return value
    }
}
