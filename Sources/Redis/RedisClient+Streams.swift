/// One entry of a Redis stream: its id and its fields (those whose values are text).
public struct RedisStreamEntry: Sendable, Hashable {
    public var id: String
    public var fields: [String: String]

    public init(id: String, fields: [String: String]) {
        self.id = id
        self.fields = fields
    }

    static func entries(_ reply: RedisValue?) -> [RedisStreamEntry] {
        (reply?.array ?? []).compactMap { entry in
            guard let parts = entry.array, parts.count == 2, let id = parts[0].string, let fields = parts[1].stringFields else { return nil }
            return RedisStreamEntry(id: id, fields: fields)
        }
    }
}

extension RedisClient {
    /// `XADD key [MAXLEN ~ maxLength] * field value...`: the new entry's id.
    @discardableResult
    public func streamAdd(_ key: String, trimmingTo maxLength: Int? = nil, _ fields: [(String, any RedisArgument)]) async throws(RedisError) -> String {
        var command = RedisCommand("XADD", [key])
        if let maxLength {
            for argument: any RedisArgument in ["MAXLEN", "~", maxLength] { command.append(argument) }
        }
        command.append("*")
        for (field, value) in fields {
            command.append(field)
            command.append(value)
        }
        let reply = try await send(command)
        guard let id = reply.string else { throw .unexpectedReply(reply) }
        return id
    }

    /// `XLEN key`: how many entries the stream holds (0 for a missing key).
    public func streamLength(_ key: String) async throws(RedisError) -> Int {
        try await integer(RedisCommand("XLEN", [key]))
    }

    /// `XGROUP CREATE key group 0 MKSTREAM`: whether the group is new (false when it existed).
    @discardableResult
    public func streamCreateGroup(_ key: String, group: String) async throws(RedisError) -> Bool {
        do {
            _ = try await send(RedisCommand("XGROUP", ["CREATE", key, group, "0", "MKSTREAM"]))
            return true
        } catch {
            // (A `catch .server(let e) where …` here crashes Swift 6.3's SIL verifier.)
            guard case .server(let serverError) = error, serverError.code == "BUSYGROUP" else { throw error }
            return false
        }
    }

    /// `XREADGROUP GROUP group consumer COUNT count STREAMS key id`: with id `0`, the consumer's
    /// own unacknowledged entries; with `>`, entries never delivered to the group.
    public func streamReadGroup(_ key: String, group: String, consumer: String, count: Int, after id: String) async throws(RedisError) -> [RedisStreamEntry] {
        let reply = try await send(RedisCommand("XREADGROUP", ["GROUP", group, consumer, "COUNT", count, "STREAMS", key, id]))
        return RedisStreamEntry.entries(reply.array?.first?.array?.last)
    }

    /// `XAUTOCLAIM key group consumer minIdle 0-0 COUNT count`: up to `count` entries another
    /// consumer left unacknowledged for `minIdleMilliseconds`, now delivered to `consumer`.
    public func streamAutoClaim(
        _ key: String, group: String, consumer: String, minIdleMilliseconds: Int, count: Int
    ) async throws(RedisError) -> [RedisStreamEntry] {
        let reply = try await send(RedisCommand("XAUTOCLAIM", [key, group, consumer, minIdleMilliseconds, "0-0", "COUNT", count]))
        guard let parts = reply.array, parts.count >= 2 else { return [] }
        return RedisStreamEntry.entries(parts[1])
    }

    /// `XACK key group id...`: how many entries were acknowledged.
    @discardableResult
    public func streamAcknowledge(_ key: String, group: String, ids: [String]) async throws(RedisError) -> Int {
        try await integer(RedisCommand("XACK", [key, group] + ids))
    }

    /// `XINFO STREAM key`: the stream's facts by name; nil for a missing key.
    public func streamInfo(_ key: String) async throws(RedisError) -> [String: RedisValue]? {
        guard try await exists(key) else { return nil }
        return try await send(RedisCommand("XINFO", ["STREAM", key])).fields
    }

    /// `XINFO GROUPS key`: each consumer group's facts by name (empty for a missing key).
    public func streamGroups(_ key: String) async throws(RedisError) -> [[String: RedisValue]] {
        guard try await exists(key) else { return [] }
        return (try await send(RedisCommand("XINFO", ["GROUPS", key])).array ?? []).compactMap(\.fields)
    }
}
