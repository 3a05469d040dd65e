import Foundation
import PostgresNIO
import Redis
import Testing

@testable import Booking

@Suite("Reconciliation: Redis inventory against Postgres")
struct ReconcilerTests {
    @Test("agreement is reported clean; drift on either side is reported, and repaired only once Postgres has every event")
    func reportAndRepair() async throws {
        try await withStores { postgres, redis in
            let inventory = Inventory(redis: redis)
            let catalog = Catalog(postgres: postgres, inventory: inventory, logger: bookingTestLogger)
            let event = try await publishedEvent(catalog, prefix: "rec", seats: 50)
            let persister = BookingPersister(redis: redis, postgres: postgres, logger: bookingTestLogger)
            let reconciler = Reconciler(inventory: inventory, postgres: postgres, logger: bookingTestLogger)
            var holds: [Hold] = []
            for index in 0..<10 { holds.append(try await inventory.reserve(event: event, zone: "floor", user: "u\(index)", quantity: 2)) }
            for hold in holds.prefix(4) { try await inventory.confirm(event: event, bookingID: hold.bookingID, payment: "pi-\(hold.bookingID)") }

            let lagging = try #require(try await reconciler.reconcile(events: [event]).first)
            #expect(lagging.unpersisted == 14, "10 reserved and 4 confirmed events not yet in Postgres")
            #expect(!lagging.drift.isEmpty)

            try await persister.drain(event: event)
            let clean = try #require(try await reconciler.reconcile(events: [event]).first)
            #expect(clean.drift == [])
            #expect(clean.unpersisted == 0)
            #expect(clean.redis == ZoneInventory(capacity: 50, available: 30, held: 12, sold: 8))
            #expect(clean.bookings == clean.redis)

            // Drift on both sides: seats appear from nowhere in Redis, a counter is off in Postgres.
            try await redis.send("HINCRBY", BookingKeys(event: event, in: redis.keySpace).zone("floor"), "available", 5)
            try await postgres.query("UPDATE booking.zones SET sold = sold + 1 WHERE event_id = \(event)", logger: bookingTestLogger)
            let drifted = try #require(try await reconciler.reconcile(events: [event]).first)
            #expect(drifted.drift.count == 2)
            #expect(drifted.repairs == [], "a report alone changes nothing")
            #expect(try await inventory.zone(event: event, zone: "floor").available == 35)

            // A reservation Postgres does not have yet: Redis must not be overwritten.
            _ = try await inventory.reserve(event: event, zone: "floor", user: "late", quantity: 1)
            let behind = try #require(try await reconciler.reconcile(events: [event], repair: true).first)
            #expect(behind.repairs.contains("postgres counters set from its bookings"))
            #expect(behind.repairs.contains { $0.contains("redis not repaired") })
            #expect(try await inventory.zone(event: event, zone: "floor") == ZoneInventory(capacity: 50, available: 34, held: 13, sold: 8))

            try await persister.drain(event: event)
            let repaired = try #require(try await reconciler.reconcile(events: [event], repair: true).first)
            #expect(repaired.repairs == ["redis counts set from postgres"])
            #expect(try await inventory.zone(event: event, zone: "floor") == ZoneInventory(capacity: 50, available: 29, held: 13, sold: 8))
            #expect(try await reconciler.reconcile(events: [event]).first?.drift == [])

            // A Redis that lost the zone gets it back from Postgres.
            try await redis.send("DEL", BookingKeys(event: event, in: redis.keySpace).zone("floor"))
            let restored = try #require(try await reconciler.reconcile(events: [event], repair: true).first)
            #expect(restored.drift == ["missing from redis"])
            #expect(try await inventory.zone(event: event, zone: "floor") == ZoneInventory(capacity: 50, available: 29, held: 13, sold: 8))
        }
    }

    @Test("a repair whose Postgres read is older than the stream's last event is refused, even once the persister caught up")
    func repairRefusedAfterNewEvents() async throws {
        try await withStores { postgres, redis in
            let inventory = Inventory(redis: redis)
            let catalog = Catalog(postgres: postgres, inventory: inventory, logger: bookingTestLogger)
            let event = try await publishedEvent(catalog, prefix: "mark", seats: 10)
            let persister = BookingPersister(redis: redis, postgres: postgres, logger: bookingTestLogger)
            let reconciler = Reconciler(inventory: inventory, postgres: postgres, logger: bookingTestLogger)
            _ = try await inventory.reserve(event: event, zone: "floor", user: "first", quantity: 2)
            try await persister.drain(event: event)
            let mark = try #require(try await reconciler.streamMark(event: event), "caught up")

            // Postgres is read now (held 2); then a reservation lands and is persisted.
            _ = try await inventory.reserve(event: event, zone: "floor", user: "meanwhile", quantity: 3)
            try await persister.drain(event: event)
            let keys = BookingKeys(event: event, in: redis.keySpace)
            await #expect(throws: (any Error).self, "held 2 from the old read would free 3 held seats") {
                try await redis.run(Reconciler.repairScript, keys: [keys.zone("floor"), keys.stream], arguments: [BookingPersister.group, 10, 2, 0, mark])
            }
            #expect(try await inventory.zone(event: event, zone: "floor") == ZoneInventory(capacity: 10, available: 5, held: 5, sold: 0))
            let fresh = try #require(try await reconciler.streamMark(event: event))
            let repaired = try await redis.run(Reconciler.repairScript, keys: [keys.zone("floor"), keys.stream], arguments: [BookingPersister.group, 10, 5, 0, fresh])
            #expect(repaired.array?.compactMap(\.int) == [10, 5, 5, 0], "with a current read the repair goes ahead")
        }
    }

    @Test("reconcile --repair racing live reservations and the persister never frees a held seat or oversells")
    func repairRacingReservations() async throws {
        try await withStores { postgres, redis in
            let inventory = Inventory(redis: redis)
            let catalog = Catalog(postgres: postgres, inventory: inventory, logger: bookingTestLogger)
            let event = try await publishedEvent(catalog, prefix: "race", seats: 150)
            let persister = BookingPersister(redis: redis, postgres: postgres, batchSize: 7, logger: bookingTestLogger)
            let reconciler = Reconciler(inventory: inventory, postgres: postgres, logger: bookingTestLogger)
            // Drift for the repairs to act on: Postgres's counter is off.
            try await postgres.query("UPDATE booking.zones SET held = held + 4 WHERE event_id = \(event)", logger: bookingTestLogger)
            let succeeded = try await withThrowingTaskGroup(of: Int.self) { group in
                group.addTask {
                    var held = 0
                    for index in 0..<200 {
                        if (try? await inventory.reserve(event: event, zone: "floor", user: "u\(index)", quantity: 1)) != nil { held += 1 }
                    }
                    return held
                }
                group.addTask {
                    for _ in 0..<40 { try await persister.drain(event: event) }
                    return 0
                }
                group.addTask {
                    for _ in 0..<40 { _ = try await reconciler.reconcile(events: [event], repair: true) }
                    return 0
                }
                return try await group.reduce(0, +)
            }
            try await persister.drain(event: event)
            _ = try await reconciler.reconcile(events: [event], repair: true)
            let zone = try await inventory.zone(event: event, zone: "floor")
            #expect(succeeded == 150, "exactly the capacity was sold, never more")
            #expect(zone == ZoneInventory(capacity: 150, available: 0, held: 150, sold: 0))
            #expect(try await redis.send("ZCARD", BookingKeys(event: event, in: redis.keySpace).holds).int == zone.held, "every held seat has its hold")
            let final = try #require(try await reconciler.reconcile(events: [event]).first)
            #expect(final.drift == [], "\(final)")
        }
    }
}
