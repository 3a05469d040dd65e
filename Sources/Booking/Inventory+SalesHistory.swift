import EmbeddedResources
import Foundation
import Redis

/// One point of an event's sales history: sold and held seats per zone at `at`.
public struct SalesSample: Sendable, Hashable, Codable {
    public struct Counts: Sendable, Hashable, Codable {
        public var sold: Int
        public var held: Int

        public init(sold: Int, held: Int) {
            self.sold = sold
            self.held = held
        }
    }

    /// Unix time in milliseconds (Redis time).
    public var at: Int64
    public var zones: [String: Counts]
}

extension Inventory {
    static let salesHistoryScript = RedisScript(EmbeddedLua.bookingSalesHistory)
    /// Seconds between two samples of an event's sales, fleet-wide.
    public static let salesHistoryInterval = 5
    /// Samples kept per event: four hours at one per five seconds.
    public static let salesHistoryKept = 2_880
    /// Zones a sample covers at most.
    static let salesHistoryZones = 64

    /// Offers a sample of the event's sales per zone; kept when no instance took one in the last
    /// ``salesHistoryInterval`` seconds. Returns whether it was kept.
    @discardableResult
    public func recordSales(event: String) async throws(BookingError) -> Bool {
        let keys = keys(event)
        let zones = try await redisCall { try await redis.setMembers(keys.zones) }.sorted().prefix(Self.salesHistoryZones)
        guard !zones.isEmpty else { return false }
        let reply = try await run(
            Self.salesHistoryScript, keys: [keys.salesHistory, keys.sale] + zones.map(keys.zone),
            arguments: [Self.salesHistoryInterval * 1000, Self.salesHistoryKept] + zones.map { $0 as any RedisArgument }
        )
        return reply.int == 1
    }

    /// The event's sales history, oldest first: the latest `limit` samples.
    public func salesHistory(event: String, limit: Int = salesHistoryKept) async throws(BookingError) -> [SalesSample] {
        do {
            return try await redis.jsonList(keys(event).salesHistory, from: -max(1, min(limit, Self.salesHistoryKept)), through: -1)
        } catch {
            throw .unavailable("\(error)")
        }
    }
}
