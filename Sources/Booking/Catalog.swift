import Foundation
import Logging
import PostgresNIO

/// A zone of an event: its seats and their price.
public struct CatalogZone: Sendable, Codable, Hashable {
    public var id: String
    public var name: String
    /// Price in minor units (cents).
    public var priceMinor: Int
    public var currency: String
    public var capacity: Int

    public init(id: String, name: String, priceMinor: Int, currency: String, capacity: Int) {
        self.id = id
        self.name = name
        self.priceMinor = priceMinor
        self.currency = currency
        self.capacity = capacity
    }
}

/// An event of the catalog.
public struct CatalogEvent: Sendable, Codable, Hashable {
    public var id: String
    public var name: String
    public var venue: String
    public var startsAt: Date
    public var saleStartsAt: Date?
    public var saleEndsAt: Date?
    public var maxPerUser: Int
    public var zones: [CatalogZone]

    public init(id: String, name: String, venue: String, startsAt: Date, saleStartsAt: Date? = nil, saleEndsAt: Date? = nil, maxPerUser: Int = 10, zones: [CatalogZone]) {
        self.id = id
        self.name = name
        self.venue = venue
        self.startsAt = startsAt
        self.saleStartsAt = saleStartsAt
        self.saleEndsAt = saleEndsAt
        self.maxPerUser = maxPerUser
        self.zones = zones
    }
}

/// The catalog in Postgres (the system of record), and its loading into Redis.
public struct Catalog: Sendable {
    let postgres: PostgresClient
    let inventory: Inventory
    let logger: Logger

    public init(postgres: PostgresClient, inventory: Inventory, logger: Logger) {
        self.postgres = postgres
        self.inventory = inventory
        self.logger = logger
    }

    /// Creates a draft event with its zones.
    public func create(_ event: CatalogEvent, organizer: String) async throws {
        try await postgres.withTransaction(logger: logger) { connection in
            try await connection.query("""
                INSERT INTO booking.events (id, name, venue, starts_at, sale_starts_at, sale_ends_at, max_per_user, organizer_id)
                VALUES (\(event.id), \(event.name), \(event.venue), \(event.startsAt), \(event.saleStartsAt), \(event.saleEndsAt), \(event.maxPerUser), \(organizer))
                """, logger: logger)
            for zone in event.zones {
                try await connection.query("""
                    INSERT INTO booking.zones (event_id, id, name, price_minor, currency, capacity)
                    VALUES (\(event.id), \(zone.id), \(zone.name), \(Int64(zone.priceMinor)), \(zone.currency), \(zone.capacity))
                    """, logger: logger)
            }
        }
    }

    /// Puts the event on sale and loads its inventory into Redis.
    public func publish(event: String, hold: Duration = .seconds(600)) async throws {
        try await postgres.query("UPDATE booking.events SET status = 'published' WHERE id = \(event)", logger: logger)
        try await loadInventory(event: event, hold: hold)
    }

    /// Loads sale settings and zones into Redis. Zones already in Redis keep their counts (holds
    /// in flight are never overwritten); new ones start with the seats Postgres says are free.
    public func loadInventory(event: String, hold: Duration = .seconds(600)) async throws {
        let rows = try await postgres.query(
            "SELECT status, sale_starts_at, sale_ends_at, max_per_user FROM booking.events WHERE id = \(event)", logger: logger
        )
        var settings: SaleSettings?
        for try await (status, starts, ends, maxPerUser) in rows.decode((String, Date?, Date?, Int).self) {
            settings = SaleSettings(status: SaleSettings.Status(rawValue: status) ?? .draft, startsAt: starts, endsAt: ends, maxSeatsPerUser: maxPerUser, hold: hold)
        }
        guard let settings else { throw BookingError.eventNotFound }
        try await inventory.configureSale(event: event, settings)
        let zones = try await postgres.query(
            "SELECT id, price_minor, currency, capacity, held, sold FROM booking.zones WHERE event_id = \(event)", logger: logger
        )
        for try await (zone, price, currency, capacity, held, sold) in zones.decode((String, Int64, String, Int, Int, Int).self) {
            try await inventory.createZone(
                event: event, zone: zone, capacity: capacity, price: Int(price), currency: currency, available: capacity - held - sold
            )
        }
    }
}
