import Crypto
import Database
import Foundation
import Hummingbird
import Logging
import PostgresNIO
import ServiceKit

/// A zone with its live availability.
struct ZoneBody: ResponseEncodable {
    var id: String
    var name: String
    var priceMinor: Int
    var currency: String
    var capacity: Int
    var available: Int?
    enum CodingKeys: String, CodingKey { case id, name, priceMinor = "price_minor", currency, capacity, available }
}

struct EventBody: ResponseEncodable {
    var id: String
    var name: String
    var venue: String
    var startsAt: Date
    var status: String
    var maxPerUser: Int
    var zones: [ZoneBody]?
    enum CodingKeys: String, CodingKey { case id, name, venue, startsAt = "starts_at", status, maxPerUser = "max_per_user", zones }
}

struct EventList: ResponseEncodable {
    var events: [EventBody]
}

/// One zone's live counts, for organizers and the operator console.
struct ZoneInventoryBody: ResponseEncodable {
    var id: String
    var name: String
    var capacity: Int
    var available: Int
    var held: Int
    var sold: Int
}

struct EventInventoryBody: ResponseEncodable {
    var event: String
    var zones: [ZoneInventoryBody]
}

/// Sold and held seats per zone over the sale so far, a sample every `intervalSeconds`.
struct SalesHistoryBody: ResponseEncodable {
    var event: String
    var intervalSeconds: Int
    var samples: [SalesSample]
    enum CodingKeys: String, CodingKey { case event, intervalSeconds = "interval_s", samples }
}

/// `/api/v1/events`: the public catalog, and event creation for organizers.
struct EventRoutes: Sendable {
    let catalog: Catalog
    let inventory: Inventory
    let postgres: PostgresClient
    let logger: Logger

    static let editors: Set<String> = ["organizer", "admin"]

    func addRoutes(to router: Router<ISO8601RequestContext>) {
        let events = router.group("api/v1/events")
        events.get { _, _ -> EventList in
            EventList(events: try await list(where: "status = 'published'"))
        }
        events.get(":id") { _, context -> EventBody in
            let id = try context.parameters.require("id")
            guard var event = try await list(where: "id = $1 AND status <> 'draft'", id).first else { throw BookingError.eventNotFound }
            event.zones = try await zones(of: id).map(\.zone)
            return event
        }
        events.post { request, context -> Response in
            let user = try context.requireIdentity()
            guard user.has(anyOf: Self.editors) else { throw BookingError.forbidden }
            let event = try await request.decodeBody(as: CatalogEvent.self, context: context)
            try event.validate()
            do {
                try await catalog.create(event, organizer: user.userID)
            } catch where isUniqueViolation(error) {
                throw BookingError.eventExists
            }
            var response = Response(status: .created)
            response.headers[.location] = "/api/v1/events/\(event.id)"
            return response
        }
        events.patch(":id") { request, context -> Response in
            let user = try context.requireIdentity()
            let id = try context.parameters.require("id")
            try await authorizeEditor(user, of: id)
            let change = try await request.decodeBody(as: CatalogEventChange.self, context: context)
            try change.validate()
            do {
                try await catalog.update(event: id, change)
            } catch let error as PSQLError where error.serverInfo?[.sqlState] == "23514" {
                throw BookingError.invalidCatalog(field: "sale_ends_at", "the sale must end after it starts")
            }
            return Response(status: .noContent)
        }
        events.get(":id/inventory") { request, context -> EventInventoryBody in
            let user = try context.requireIdentity()
            let id = try context.parameters.require("id")
            try await authorizeEditor(user, of: id)
            var counted: [ZoneInventoryBody] = []
            for (zone, lookup) in try await zones(of: id) {
                let counts = try lookup.get()
                counted.append(ZoneInventoryBody(
                    id: zone.id, name: zone.name, capacity: counts.capacity, available: counts.available, held: counts.held, sold: counts.sold
                ))
            }
            return EventInventoryBody(event: id, zones: counted)
        }
        events.get(":id/inventory/history") { request, context -> SalesHistoryBody in
            let user = try context.requireIdentity()
            let id = try context.parameters.require("id")
            try await authorizeEditor(user, of: id)
            let limit = try request.integerQuery("limit", default: Inventory.salesHistoryKept, in: 1...Inventory.salesHistoryKept)
            return SalesHistoryBody(event: id, intervalSeconds: Inventory.salesHistoryInterval, samples: try await inventory.salesHistory(event: id, limit: limit))
        }
        events.post(":id/publish") { request, context -> Response in
            let user = try context.requireIdentity()
            let id = try context.parameters.require("id")
            try await authorizeEditor(user, of: id)
            try await catalog.publish(event: id)
            return Response(status: .noContent)
        }
    }

    /// Only the event's organizer, or an admin, may change it.
    private func authorizeEditor(_ user: GatewayIdentity, of event: String) async throws {
        var organizer: String?
        for try await owner in try await postgres.query("SELECT organizer_id FROM booking.events WHERE id = \(event)", logger: logger).decode(String.self) {
            organizer = owner
        }
        guard let organizer else { throw BookingError.eventNotFound }
        guard user.roles.contains("admin") || (user.roles.contains("organizer") && organizer == user.userID) else { throw BookingError.forbidden }
    }

    private func list(where condition: String, _ id: String? = nil) async throws -> [EventBody] {
        var query = PostgresQuery(unsafeSQL: "SELECT id, name, venue, starts_at, status, max_per_user FROM booking.events WHERE \(condition) ORDER BY starts_at, id LIMIT 200")
        if let id { query.binds.append(id) }
        var events: [EventBody] = []
        for try await (id, name, venue, starts, status, maxPerUser) in try await postgres.query(query, logger: logger).decode((String, String, String, Date, String, Int).self) {
            events.append(EventBody(id: id, name: name, venue: venue, startsAt: starts, status: status, maxPerUser: maxPerUser))
        }
        return events
    }

    /// The event's zones from Postgres, each with its live counts from Redis (read once).
    private func zones(of event: String) async throws -> [(zone: ZoneBody, counts: Result<ZoneInventory, BookingError>)] {
        var zones: [(zone: ZoneBody, counts: Result<ZoneInventory, BookingError>)] = []
        let rows = try await postgres.query(
            "SELECT id, name, price_minor, currency, capacity FROM booking.zones WHERE event_id = \(event) ORDER BY id", logger: logger
        )
        for try await (id, name, price, currency, capacity) in rows.decode((String, String, Int64, String, Int).self) {
            let counts: Result<ZoneInventory, BookingError>
            do { counts = .success(try await inventory.zone(event: event, zone: id)) } catch { counts = .failure(error) }
            let zone = ZoneBody(id: id, name: name, priceMinor: Int(price), currency: currency, capacity: capacity, available: try? counts.get().available)
            zones.append((zone, counts))
        }
        return zones
    }
}
