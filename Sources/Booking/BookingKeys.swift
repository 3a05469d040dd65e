import Redis

/// Redis key names of one event's inventory and bookings, all hash-tagged `{evt:ID}` so that
/// every script's keys live in one Redis Cluster slot (the same slot as the event's waiting room).
public struct BookingKeys: Sendable, Hashable {
    public let event: String
    /// The prefix shared by every key of the event: `SPACE:{evt:ID}:` (`bk:{evt:ID}:` by default).
    public let prefix: String

    public init(event: String, in space: RedisKeySpace) {
        self.event = event
        self.prefix = space.tagged("evt:" + event) + ":"
    }

    /// Hash: status, sale window, seats per user, hold length.
    public var sale: String { prefix + "sale" }
    /// Hash: one zone's capacity, available, held and sold seats, price and currency.
    public func zone(_ id: String) -> String { prefix + "zone:" + id }
    /// Set: the event's zone ids.
    public var zones: String { prefix + "zones" }
    /// List: samples of sold and held seats per zone over the sale, oldest first (JSON).
    public var salesHistory: String { prefix + "sales-history" }
    /// Hash: seats each user holds or bought.
    public var userSeats: String { prefix + "user-seats" }
    /// Hash: one booking.
    public func booking(_ id: String) -> String { prefix + "booking:" + id }
    /// Sorted set: held bookings by expiry.
    public var holds: String { prefix + "holds" }
    /// Stream: booking events for the persister.
    public var stream: String { prefix + "stream" }
    /// Stream: booking events Postgres refused, with the reason, set aside by the persister.
    public var deadLetters: String { prefix + "dead-letters" }

    /// Set of every event with inventory in `space` (not hash-tagged: never used inside a script).
    public static func events(in space: RedisKeySpace) -> String { space.key("booking-events") }
    /// Set of the events whose persister set entries aside, so readiness need not look at every event.
    public static func eventsWithDeadLetters(in space: RedisKeySpace) -> String { space.key("booking-dead-letter-events") }
}
