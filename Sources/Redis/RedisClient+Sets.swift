extension RedisClient {
    /// `SADD key member...`: how many members are new.
    @discardableResult
    public func setAdd(_ key: String, _ members: [String]) async throws(RedisError) -> Int {
        try await integer(RedisCommand("SADD", [key] + members))
    }

    /// `SREM key member...`: how many members were there.
    @discardableResult
    public func setRemove(_ key: String, _ members: [String]) async throws(RedisError) -> Int {
        try await integer(RedisCommand("SREM", [key] + members))
    }

    /// `SMEMBERS key`: every member, in no particular order (empty for a missing key).
    public func setMembers(_ key: String) async throws(RedisError) -> [String] {
        let reply = try await send(RedisCommand("SMEMBERS", [key]))
        guard let members = reply.array else { throw .unexpectedReply(reply) }
        return members.compactMap(\.string)
    }
}
