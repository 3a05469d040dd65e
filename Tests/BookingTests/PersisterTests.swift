import Booking
import Database
import Foundation
import Logging
import PostgresNIO
import Redis
import Testing

@Suite("Postgres as the system of record: the persister and the catalog")
struct PersisterTests {
    static let logger = Logger(label: "persister-tests")

    @Test("after a mixed run the persister drains, Redis and Postgres agree, and a replay changes nothing")
    func redisAndPostgresAgree() async throws {
        let url = ProcessInfo.processInfo.environment["TEST_DATABASE_URL"] ?? "postgres://booking_rush:booking_rush@127.0.0.1:15432/booking_rush_test"
        try await withPostgresClient(configuration: try PostgresClient.Configuration(url: url), logger: Self.logger) { postgres in
            try await MigrationRunner(migrations: try Migration.embedded(), logger: Self.logger).run(on: postgres)
            let redisURL = ProcessInfo.processInfo.environment["REDIS_URL"] ?? "redis://127.0.0.1:16379/0"
            var redisConfiguration = try RedisConfiguration(url: redisURL)
            redisConfiguration.commandTimeout = .seconds(10)
            let redis = RedisClient(configuration: redisConfiguration)
            let inventory = Inventory(redis: redis)
            let catalog = Catalog(postgres: postgres, inventory: inventory, logger: Self.logger)
            let event = "pg-\(UUID().uuidString.prefix(8).lowercased())"
            try await catalog.create(CatalogEvent(
                id: event, name: "Flash sale", venue: "Arena", startsAt: Date().addingTimeInterval(86_400),
                zones: [CatalogZone(id: "floor", name: "Floor", priceMinor: 5_000, currency: "EUR", capacity: 300)]
            ), organizer: "org-1")
            try await catalog.publish(event: event, hold: .seconds(2))

            let holds = try await withThrowingTaskGroup(of: Hold?.self) { group in
                for index in 0..<1_000 {
                    group.addTask { try? await inventory.reserve(event: event, zone: "floor", user: "u\(index)", quantity: 1) }
                }
                return try await group.reduce(into: [Hold]()) { if let hold = $1 { $0.append(hold) } }
            }
            #expect(holds.count == 300)
            for hold in holds.prefix(100) { try await inventory.confirm(event: event, bookingID: hold.bookingID, payment: "pi_\(hold.bookingID)") }
            for (index, hold) in holds.dropFirst(100).prefix(50).enumerated() {
                let user = try await redis.send("HGET", BookingKeys(event: event).booking(hold.bookingID), "user").string ?? "u\(index)"
                try await inventory.cancel(event: event, bookingID: hold.bookingID, user: user)
            }
            try await Task.sleep(for: .milliseconds(2_100))
            #expect(try await inventory.sweep(event: event) == 150)

            let persister = BookingPersister(redis: redis, postgres: postgres, batchSize: 200, logger: Self.logger)
            let progress = try await persister.persistAll()
            #expect(progress.events >= 600, "300 reserved, 100 confirmed, 50 cancelled, 150 expired")
            #expect(progress.transactions <= progress.events / 100, "batched: \(progress.events) events in \(progress.transactions) transactions")

            let redisZone = try await inventory.zone(event: event, zone: "floor")
            #expect(redisZone == ZoneInventory(capacity: 300, available: 200, held: 0, sold: 100))
            try await Self.expectPostgres(postgres, event: event, held: 0, sold: 100, statuses: ["confirmed": 100, "cancelled": 50, "expired": 150])

            // Everything delivered again (as after a crash before XACK): nothing changes.
            try await redis.send("XGROUP", "DESTROY", BookingKeys(event: event).stream, BookingPersister.group)
            #expect(try await persister.persistAll().events >= 600)
            try await Self.expectPostgres(postgres, event: event, held: 0, sold: 100, statuses: ["confirmed": 100, "cancelled": 50, "expired": 150])

            // Reloading the inventory never overwrites live counts.
            try await catalog.loadInventory(event: event)
            #expect(try await inventory.zone(event: event, zone: "floor") == redisZone)

            for key in (try await redis.send("KEYS", "bk:{evt:\(event)}:*").array ?? []).compactMap(\.string) { try await redis.send("DEL", key) }
            try await redis.send("SREM", BookingKeys.events, event)
            await redis.shutdown()
        }
    }

    static func expectPostgres(_ postgres: PostgresClient, event: String, held: Int, sold: Int, statuses: [String: Int]) async throws {
        for try await (zoneHeld, zoneSold) in try await postgres.query(
            "SELECT held, sold FROM booking.zones WHERE event_id = \(event)", logger: logger
        ).decode((Int, Int).self) {
            #expect(zoneHeld == held)
            #expect(zoneSold == sold)
        }
        var counted: [String: Int] = [:]
        for try await (status, count) in try await postgres.query(
            "SELECT status, count(*)::int FROM booking.bookings WHERE event_id = \(event) GROUP BY status", logger: logger
        ).decode((String, Int).self) {
            counted[status] = count
        }
        #expect(counted == statuses)
    }
}
