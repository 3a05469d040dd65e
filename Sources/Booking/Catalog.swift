import Foundation
import Logging
import PostgresNIO
import ServiceKit

/// A zone of an event: its seats and their price.
public struct CatalogZone: Sendable, Codable, Hashable {
    public var id: String
    public var name: String
    /// Price in minor units (cents).
    public var priceMinor: Int
    public var currency: String
    public var capacity: Int

    enum CodingKeys: String, CodingKey, CaseIterable {
        case id, name, priceMinor = "price_minor", currency, capacity
    }

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

    enum CodingKeys: String, CodingKey, CaseIterable {
        case id, name, venue, startsAt = "starts_at", saleStartsAt = "sale_starts_at", saleEndsAt = "sale_ends_at"
        case maxPerUser = "max_per_user", zones
    }

    /// Decodes an event; `max_per_user` may be left out (10).
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            id: try container.decode(String.self, forKey: .id), name: try container.decode(String.self, forKey: .name),
            venue: try container.decode(String.self, forKey: .venue), startsAt: try container.decode(Date.self, forKey: .startsAt),
            saleStartsAt: try container.decodeIfPresent(Date.self, forKey: .saleStartsAt),
            saleEndsAt: try container.decodeIfPresent(Date.self, forKey: .saleEndsAt),
            maxPerUser: try container.decodeIfPresent(Int.self, forKey: .maxPerUser) ?? 10,
            zones: try container.decode([CatalogZone].self, forKey: .zones)
        )
    }

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
    /// How long a reservation holds its seats.
    public let hold: Duration
    let logger: Logger

    public init(postgres: PostgresClient, inventory: Inventory, hold: Duration = .seconds(600), logger: Logger) {
        self.postgres = postgres
        self.inventory = inventory
        self.hold = hold
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

    /// Changes an event's description or sale settings (fields left nil keep their value); an event
    /// already published or cancelled has its sale settings reloaded into Redis at once.
    public func update(event: String, _ change: CatalogEventChange) async throws {
        var status: String?
        let rows = try await postgres.query("""
            UPDATE booking.events SET
                name = COALESCE(\(change.name), name), venue = COALESCE(\(change.venue), venue),
                starts_at = COALESCE(\(change.startsAt), starts_at),
                sale_starts_at = COALESCE(\(change.saleStartsAt), sale_starts_at),
                sale_ends_at = COALESCE(\(change.saleEndsAt), sale_ends_at),
                max_per_user = COALESCE(\(change.maxPerUser), max_per_user),
                status = COALESCE(\(change.status?.rawValue), status)
            WHERE id = \(event) RETURNING status
            """, logger: logger)
        for try await value in rows.decode(String.self) { status = value }
        guard let status else { throw BookingError.eventNotFound }
        if status != SaleSettings.Status.draft.rawValue { try await loadInventory(event: event) }
    }

    /// Puts the event on sale and loads its inventory into Redis.
    public func publish(event: String) async throws {
        try await postgres.query("UPDATE booking.events SET status = 'published' WHERE id = \(event)", logger: logger)
        try await loadInventory(event: event)
    }

    /// Loads sale settings and zones into Redis. Zones already in Redis keep their counts (holds
    /// in flight are never overwritten); new ones start with the seats Postgres says are free.
    public func loadInventory(event: String) async throws {
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

/// A change to an event: each field that is not nil replaces the event's.
public struct CatalogEventChange: Sendable, Codable, Hashable {
    public var name: String?
    public var venue: String?
    public var startsAt: Date?
    public var saleStartsAt: Date?
    public var saleEndsAt: Date?
    public var maxPerUser: Int?
    /// `cancelled` stops the sale; an event is published through `publish`.
    public var status: SaleSettings.Status?

    enum CodingKeys: String, CodingKey, CaseIterable {
        case name, venue, startsAt = "starts_at", saleStartsAt = "sale_starts_at", saleEndsAt = "sale_ends_at"
        case maxPerUser = "max_per_user", status
    }

    public init(name: String? = nil, venue: String? = nil, startsAt: Date? = nil, saleStartsAt: Date? = nil, saleEndsAt: Date? = nil, maxPerUser: Int? = nil, status: SaleSettings.Status? = nil) {
        self.name = name
        self.venue = venue
        self.startsAt = startsAt
        self.saleStartsAt = saleStartsAt
        self.saleEndsAt = saleEndsAt
        self.maxPerUser = maxPerUser
        self.status = status
    }

    /// Checks what the database's constraints would refuse, with clearer words.
    public func validate() throws(BookingError) {
        if let name, !name.isDisplayText(maxLength: 200) { throw .invalidCatalog(field: "name", Self.displayTextRule("name")) }
        if let venue, !venue.isDisplayText(maxLength: 200) { throw .invalidCatalog(field: "venue", Self.displayTextRule("venue")) }
        if let maxPerUser, !(1...100).contains(maxPerUser) { throw .invalidCatalog(field: "max_per_user", "max_per_user must be 1–100 seats") }
        if let status, status != .cancelled { throw .invalidCatalog(field: "status", "only `cancelled` can be set here; publish with POST …/publish") }
    }

    static func displayTextRule(_ field: String) -> String {
        "\(field) must have 1–200 characters, none of them control characters"
    }
}

extension CatalogEvent {
    /// Checks what the database's constraints would refuse, with clearer words.
    public func validate() throws(BookingError) {
        guard Self.isValidID(id) else { throw .invalidCatalog(field: "id", "id must be 1–64 of A–Z a–z 0–9 - _ .") }
        guard name.isDisplayText(maxLength: 200) else { throw .invalidCatalog(field: "name", CatalogEventChange.displayTextRule("name")) }
        guard venue.isDisplayText(maxLength: 200) else { throw .invalidCatalog(field: "venue", CatalogEventChange.displayTextRule("venue")) }
        guard (1...100).contains(maxPerUser) else { throw .invalidCatalog(field: "max_per_user", "max_per_user must be 1–100 seats") }
        guard !zones.isEmpty else { throw .invalidCatalog(field: "zones", "an event needs at least one zone") }
        if let saleStartsAt, let saleEndsAt, saleEndsAt <= saleStartsAt { throw .invalidCatalog(field: "sale_ends_at", "the sale must end after it starts") }
        for (index, zone) in zones.enumerated() {
            let at = "zones.\(index)."
            guard Self.isValidID(zone.id) else { throw .invalidCatalog(field: at + "id", "a zone id must be 1–64 of A–Z a–z 0–9 - _ .") }
            guard zone.name.isDisplayText(maxLength: 200) else { throw .invalidCatalog(field: at + "name", CatalogEventChange.displayTextRule("a zone's name")) }
            guard (0...Self.highestPrice).contains(zone.priceMinor) else {
                throw .invalidCatalog(field: at + "price_minor", "a zone's price_minor must be 0–1,000,000,000,000")
            }
            guard (0...1_000_000).contains(zone.capacity) else { throw .invalidCatalog(field: at + "capacity", "a zone's capacity must be 0–1,000,000") }
            guard zone.currency.count == 3, zone.currency.allSatisfy({ $0.isUppercase && $0.isASCII }) else {
                throw .invalidCatalog(field: at + "currency", "a zone's currency must be three capital letters, like EUR")
            }
        }
        guard Set(zones.map(\.id)).count == zones.count else { throw .invalidCatalog(field: "zones", "zone ids must differ") }
    }

    /// The highest seat price in minor units: a booking's total (price × up to 100 seats) is
    /// reckoned in a Lua number, exact only up to 2^53; a price of 2^62 came back as a total of
    /// `5.5340232221129e+19`, which no booking row could hold.
    public static let highestPrice = 1_000_000_000_000

    /// 1–64 of A–Z a–z 0–9 - _ .
    static func isValidID(_ id: String) -> Bool {
        (1...64).contains(id.utf8.count) && id.utf8.allSatisfy { $0 == 0x2D || $0 == 0x2E || $0 == 0x5F || ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x41 && $0 <= 0x5A) || ($0 >= 0x61 && $0 <= 0x7A) }
    }
}
