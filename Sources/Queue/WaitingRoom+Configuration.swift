import Crypto
import Redis

extension WaitingRoom {
    /// Creates or replaces the event's room settings; every gateway sees them at its next call.
    /// A new room draws the secret seed of its pre-queue lottery, kept for the room's life.
    public func configure(event: String, _ configuration: RoomConfiguration) async throws(QueueError) {
        let keys = try Self.keys(event)
        try configuration.validate()
        var command = RedisCommand("HSET", [keys.room])
        for field in configuration.redisFields { command.append(field) }
        try await send(command)
        try await send(RedisCommand("HSETNX", [keys.room, "seed", Self.newSeed()]))
        try await send(RedisCommand("SADD", [QueueKeys.rooms, event]))
    }

    /// Hex SHA-256 of `seed`: the commitment published before the seed is revealed.
    public static func commitment(toSeed seed: String) -> String {
        SHA256.hash(data: Array(seed.utf8)).map { byte in
            let hex = String(byte, radix: 16)
            return byte < 16 ? "0" + hex : hex
        }.joined()
    }

    static func newSeed() -> String {
        var generator = SystemRandomNumberGenerator()
        return (0..<4).map { _ in
            let word = String(generator.next() as UInt64, radix: 16)
            return String(repeating: "0", count: 16 - word.count) + word
        }.joined()
    }

    /// Changes only the mode (pause, resume, open, close).
    public func setMode(event: String, _ mode: RoomMode) async throws(QueueError) {
        try await patch(event: event, RoomConfigurationPatch(mode: mode))
    }

    /// Changes only the settings `patch` changes, checked against the room's current ones, in
    /// one script call (`room_patch.lua`): concurrent changes of different settings all stay, and
    /// a room deleted meanwhile is not brought back. A room that does not exist is `roomNotFound`.
    public func patch(event: String, _ patch: RoomConfigurationPatch) async throws(QueueError) {
        let keys = try Self.keys(event)
        let current = try await describe(event: event).configuration
        let merged = patch.applied(to: current)
        try merged.validate()
        let before = Self.fieldBytes(current.redisFields)
        var arguments: [any RedisArgument] = []
        let fields = merged.redisFields
        for index in stride(from: 0, to: fields.count - 1, by: 2) {
            let name = Self.bytes(fields[index]), value = Self.bytes(fields[index + 1])
            guard before[name] != value else { continue }
            arguments.append(fields[index])
            arguments.append(fields[index + 1])
        }
        guard try await run(Self.patchScript, event: event, keys: [keys.room], arguments: arguments).int == 1 else {
            throw .roomNotFound(event: event)
        }
    }

    private static func bytes(_ argument: any RedisArgument) -> [UInt8] {
        var bytes: [UInt8] = []
        argument.appendRedisBytes(to: &bytes)
        return bytes
    }

    /// Room-hash fields by name, as the bytes Redis would store.
    private static func fieldBytes(_ fields: [any RedisArgument]) -> [[UInt8]: [UInt8]] {
        var byName: [[UInt8]: [UInt8]] = [:]
        for index in stride(from: 0, to: fields.count - 1, by: 2) { byName[bytes(fields[index])] = bytes(fields[index + 1]) }
        return byName
    }

    /// The room's settings, the commitment to its pre-queue's seed and, once it has opened, the seed.
    public func describe(event: String) async throws(QueueError) -> RoomDescription {
        let keys = try Self.keys(event)
        let reply = try await send(RedisCommand("HGETALL", [keys.room]))
        let hash = reply.stringFields ?? [:]
        guard let configuration = RoomConfiguration(hash: hash) else { throw .roomNotFound(event: event) }
        let opened = hash["opened"] == "1"
        return RoomDescription(
            event: event, configuration: configuration, opened: opened,
            seedCommitment: hash["seed"].map(Self.commitment(toSeed:)),
            seed: opened ? hash["seed"] : nil, prequeueSize: opened ? hash["prequeue_size"].flatMap { Int($0) } : nil
        )
    }

    /// Every event that has a room.
    public func events() async throws(QueueError) -> [String] {
        let reply = try await send(RedisCommand("SMEMBERS", [QueueKeys.rooms]))
        return (reply.array ?? []).compactMap(\.string).sorted()
    }

    /// Deletes the room and everyone's place in it (freed in Redis's background, so a crowded
    /// room does not block it).
    public func delete(event: String) async throws(QueueError) {
        let keys = try Self.keys(event)
        try await send(RedisCommand("UNLINK", keys.all))
        admissions.forget(event: event)
        try await send(RedisCommand("SREM", [QueueKeys.rooms, event]))
    }

    /// Drops `event` from the room index when its room is gone (its keys deleted behind the
    /// API's back, or expired), so no gateway tries to release it again. A room configured again
    /// meanwhile stays listed. Returns whether the event was dropped.
    @discardableResult
    public func forget(event: String) async throws(QueueError) -> Bool {
        let keys = try Self.keys(event)
        guard try await send(RedisCommand("EXISTS", [keys.room])).int == 0 else { return false }
        try await send(RedisCommand("SREM", [QueueKeys.rooms, event]))
        // `configure` writes the room before indexing it: one that came back since is indexed again.
        if try await send(RedisCommand("EXISTS", [keys.room])).int != 0 {
            try await send(RedisCommand("SADD", [QueueKeys.rooms, event]))
            return false
        }
        return true
    }

    @discardableResult
    private func send(_ command: RedisCommand) async throws(QueueError) -> RedisValue {
        do {
            return try await redis.send(command)
        } catch {
            throw .unavailable("\(error)")
        }
    }
}
