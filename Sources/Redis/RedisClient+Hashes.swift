extension RedisClient {
    /// `HSET key field value...`: how many fields are new.
    @discardableResult
    public func hashSet(_ key: String, _ fields: [(String, any RedisArgument)]) async throws(RedisError) -> Int {
        var command = RedisCommand("HSET", [key])
        for (field, value) in fields {
            command.append(field)
            command.append(value)
        }
        return try await integer(command)
    }

    /// `HSETNX key field value`: whether the field was absent and is now set.
    @discardableResult
    public func hashSetIfAbsent(_ key: String, field: String, to value: some RedisArgument) async throws(RedisError) -> Bool {
        try await integer(RedisCommand("HSETNX", [key, field, value])) == 1
    }

    /// `HGET key field`: the field's value as text; nil when it or the key is missing.
    public func hashGet(_ key: String, field: String) async throws(RedisError) -> String? {
        try await send(RedisCommand("HGET", [key, field])).string
    }

    /// `HMGET key field...`: each field's value as text, nil where it is missing, in the order asked.
    public func hashGet(_ key: String, fields: [String]) async throws(RedisError) -> [String?] {
        let reply = try await send(RedisCommand("HMGET", [key] + fields))
        guard let values = reply.array, values.count == fields.count else { throw .unexpectedReply(reply) }
        return values.map(\.string)
    }

    /// `HGETALL key`: every field with its value as text (empty for a missing key).
    public func hashGetAll(_ key: String) async throws(RedisError) -> [String: String] {
        let reply = try await send(RedisCommand("HGETALL", [key]))
        guard let fields = reply.stringFields else { throw .unexpectedReply(reply) }
        return fields
    }

    /// `HDEL key field...`: how many fields were removed.
    @discardableResult
    public func hashDelete(_ key: String, fields: [String]) async throws(RedisError) -> Int {
        try await integer(RedisCommand("HDEL", [key] + fields))
    }
}
