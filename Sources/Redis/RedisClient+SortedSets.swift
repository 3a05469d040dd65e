import NIOCore

extension RedisClient {
    /// `ZADD key score member`: whether the member is new.
    @discardableResult
    public func sortedSetAdd(_ key: String, member: String, score: Double) async throws(RedisError) -> Bool {
        try await integer(RedisCommand("ZADD", [key, score, member])) == 1
    }

    /// `ZREM key member`: whether the member was there.
    @discardableResult
    public func sortedSetRemove(_ key: String, member: String) async throws(RedisError) -> Bool {
        try await integer(RedisCommand("ZREM", [key, member])) == 1
    }

    /// `ZREMRANGEBYSCORE key -inf max`: removes the members scored `max` or lower; how many went.
    @discardableResult
    public func sortedSetRemove(_ key: String, scoresThrough max: Double) async throws(RedisError) -> Int {
        try await integer(RedisCommand("ZREMRANGEBYSCORE", [key, "-inf", max]))
    }

    /// `ZRANGEBYSCORE key min +inf LIMIT 0 limit`: up to `limit` members scored `min` or higher, lowest first.
    public func sortedSetMembers(_ key: String, scoresFrom min: Double, limit: Int) async throws(RedisError) -> [String] {
        let reply = try await send(RedisCommand("ZRANGEBYSCORE", [key, min, "+inf", "LIMIT", 0, limit]))
        guard let members = reply.array else { throw .unexpectedReply(reply) }
        return members.compactMap(\.string)
    }

    /// `ZRANGEBYSCORE key -inf max LIMIT 0 limit`: up to `limit` members scored `max` or lower, lowest first.
    public func sortedSetMembers(_ key: String, scoresThrough max: Double, limit: Int) async throws(RedisError) -> [String] {
        let reply = try await send(RedisCommand("ZRANGEBYSCORE", [key, "-inf", max, "LIMIT", 0, limit]))
        guard let members = reply.array else { throw .unexpectedReply(reply) }
        return members.compactMap(\.string)
    }

    /// `MGET key...`: each key's value, nil where the key is missing.
    public func getMany(_ keys: [String]) async throws(RedisError) -> [ByteBuffer?] {
        guard !keys.isEmpty else { return [] }
        let reply = try await send(RedisCommand("MGET", keys))
        guard let values = reply.array, values.count == keys.count else { throw .unexpectedReply(reply) }
        return values.map { value in
            if case .bulkString(let buffer) = value { return buffer }
            return nil
        }
    }
}
