import EmbeddedResources
import Foundation
import Redis

/// One point of a room's history: its figures at `at`.
public struct RoomHistorySample: Sendable, Hashable, Codable {
    /// Unix time in milliseconds (Redis time).
    public var at: Int64
    public var configured: Double
    public var observed: Double
    public var waiting: Int
    public var prequeue: Int
    public var active: Int
    public var released: Int
}

extension WaitingRoom {
    static let historyScript = RedisScript(EmbeddedLua.roomHistory)
    /// Seconds between two samples of a room's history, fleet-wide.
    public static let historyInterval = 5
    /// Samples kept per room: four hours at one per five seconds.
    public static let historyKept = 2_880

    /// Offers `stats` as the room's next history sample; kept when no gateway took one in the
    /// last ``historyInterval`` seconds. Returns whether it was kept.
    @discardableResult
    public func recordHistory(event: String, stats: RoomStats) async throws(QueueError) -> Bool {
        let keys = try keys(event)
        let reply = try await run(Self.historyScript, event: event, keys: [keys.room, keys.history], arguments: [
            Self.historyInterval * 1000, Self.historyKept, stats.configuredRate, stats.observedRate, stats.waiting,
            stats.prequeue, stats.activePasses, stats.releasedTotal,
        ])
        return reply.int == 1
    }

    /// The room's history, oldest first: the latest `limit` samples.
    public func history(event: String, limit: Int = historyKept) async throws(QueueError) -> [RoomHistorySample] {
        let keys = try keys(event)
        do {
            return try await redis.jsonList(keys.history, from: -max(1, min(limit, Self.historyKept)), through: -1)
        } catch {
            throw .unavailable("\(error)")
        }
    }
}
