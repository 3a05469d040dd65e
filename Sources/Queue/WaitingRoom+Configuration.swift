import Crypto
import Redis

extension WaitingRoom {
    /// Creates or replaces the event's room settings; every gateway sees them at its next call.
    /// A new room draws the secret seed of its pre-queue lottery, kept for the room's life.
    public func configure(event: String, _ configuration: RoomConfiguration) async throws(QueueError) {
        let keys = try keys(event)
        try configuration.validate()
        try await redisCall {
            try await redis.hashSet(keys.room, configuration.redisFields)
            try await redis.hashSetIfAbsent(keys.room, field: "seed", to: Self.newSeed())
            try await redis.setAdd(roomsKey, [event])
        }
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
        let keys = try keys(event)
        let current = try await describe(event: event).configuration
        let merged = patch.applied(to: current)
        try merged.validate()
        let before = Self.fieldBytes(current.redisFields)
        var arguments: [any RedisArgument] = []
        for (name, value) in merged.redisFields where before[name] != Self.bytes(value) {
            arguments.append(name)
            arguments.append(value)
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

    /// Room-hash fields by name, their values as the bytes Redis would store.
    private static func fieldBytes(_ fields: [(String, any RedisArgument)]) -> [String: [UInt8]] {
        var byName: [String: [UInt8]] = [:]
        for (name, value) in fields { byName[name] = bytes(value) }
        return byName
    }

    /// The room's settings, the commitment to its pre-queue's seed and, once it has opened, the seed.
    public func describe(event: String) async throws(QueueError) -> RoomDescription {
        let keys = try keys(event)
        let hash = try await redisCall { try await redis.hashGetAll(keys.room) }
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
        try await redisCall { try await redis.setMembers(roomsKey) }.sorted()
    }

    /// Deletes the room and everyone's place in it (freed in Redis's background, so a crowded
    /// room does not block it), then the marks its passes left: the accounts anonymous passes
    /// were bound to and the claims of single-use passes. A room made again under the same id
    /// numbers its admissions from 1 again, and its passes must not meet the old room's marks.
    public func delete(event: String) async throws(QueueError) {
        let keys = try keys(event)
        _ = try await redisCall { try await redis.unlink(keys.all) }
        admissions.forget(event: event)
        _ = try await redisCall { try await redis.setRemove(roomsKey, [event]) }
        try await redisCall {
            for mark in keys.passMarkPatterns { try await redis.delete(matching: mark, sameSlotAs: keys.room) }
        }
    }

    /// Drops `event` from the room index when its room is gone (its keys deleted behind the
    /// API's back, or expired), so no gateway tries to release it again. A room configured again
    /// meanwhile stays listed. Returns whether the event was dropped.
    @discardableResult
    public func forget(event: String) async throws(QueueError) -> Bool {
        let keys = try keys(event)
        return try await redisCall {
            guard !(try await redis.exists(keys.room)) else { return false }
            try await redis.setRemove(roomsKey, [event])
            // `configure` writes the room before indexing it: one that came back since is indexed again.
            if try await redis.exists(keys.room) {
                try await redis.setAdd(roomsKey, [event])
                return false
            }
            return true
        }
    }

    /// Runs typed Redis calls; a Redis that fails them makes the room `unavailable`.
    private func redisCall<T>(_ body: () async throws -> T) async throws(QueueError) -> T {
        do {
            return try await body()
        } catch {
            throw .unavailable("\(error)")
        }
    }
}
