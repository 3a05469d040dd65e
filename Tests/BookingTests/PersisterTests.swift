import Booking
import Foundation
import HummingbirdTesting
import Logging
import NIOFoundationCompat
import PostgresNIO
import Redis
import Testing

@Suite("Postgres as the system of record: the persister and the catalog")
struct PersisterTests {
    static let logger = Logger(label: "persister-tests")

    @Test("after a mixed run the persister drains, Redis and Postgres agree, and a replay changes nothing")
    func redisAndPostgresAgree() async throws {
        try await withStores { postgres, redis in
            let inventory = Inventory(redis: redis)
            let catalog = Catalog(postgres: postgres, inventory: inventory, hold: .seconds(5), logger: Self.logger)
            let event = try await publishedEvent(catalog, prefix: "pg", seats: 300)

            let holds = try await withThrowingTaskGroup(of: Hold?.self) { group in
                for index in 0..<1_000 {
                    group.addTask { try? await inventory.reserve(event: event, zone: "floor", user: "u\(index)", quantity: 1) }
                }
                return try await group.reduce(into: [Hold]()) { if let hold = $1 { $0.append(hold) } }
            }
            #expect(holds.count == 300)
            for hold in holds.prefix(100) { try await inventory.confirm(event: event, bookingID: hold.bookingID, payment: "pi_\(hold.bookingID)") }
            for (index, hold) in holds.dropFirst(100).prefix(50).enumerated() {
                let user = try await redis.send("HGET", BookingKeys(event: event, in: redis.keySpace).booking(hold.bookingID), "user").string ?? "u\(index)"
                try await inventory.cancel(event: event, bookingID: hold.bookingID, user: user)
            }
            let lastExpiry = try #require(holds.map(\.expiresAt).max())
            try await Task.sleep(for: .milliseconds(Int(lastExpiry.timeIntervalSinceNow * 1000) + 200))
            #expect(try await inventory.sweep(event: event) == 150)

            let persister = BookingPersister(redis: redis, postgres: postgres, batchSize: 200, logger: Self.logger)
            let progress = try await persister.drain(event: event)
            #expect(progress.events >= 600, "300 reserved, 100 confirmed, 50 cancelled, 150 expired")
            #expect(progress.transactions <= progress.events / 100, "batched: \(progress.events) events in \(progress.transactions) transactions")

            let redisZone = try await inventory.zone(event: event, zone: "floor")
            #expect(redisZone == ZoneInventory(capacity: 300, available: 200, held: 0, sold: 100))
            try await Self.expectPostgres(postgres, event: event, held: 0, sold: 100, statuses: ["confirmed": 100, "cancelled": 50, "expired": 150])

            // Everything delivered again (as after a crash before XACK): nothing changes.
            try await redis.send("XGROUP", "DESTROY", BookingKeys(event: event, in: redis.keySpace).stream, BookingPersister.group)
            #expect(try await persister.drain(event: event).events >= 600)
            try await Self.expectPostgres(postgres, event: event, held: 0, sold: 100, statuses: ["confirmed": 100, "cancelled": 50, "expired": 150])

            // Reloading the inventory never overwrites live counts.
            try await catalog.loadInventory(event: event)
            #expect(try await inventory.zone(event: event, zone: "floor") == redisZone)
        }
    }

    @Test("one batch that expires a full zone's hold and sells its seats again never passes the capacity check")
    func batchAtCapacity() async throws {
        try await withStores { postgres, redis in
            let inventory = Inventory(redis: redis)
            let catalog = Catalog(postgres: postgres, inventory: inventory, hold: .seconds(1), logger: Self.logger)
            let event = try await publishedEvent(catalog, prefix: "cap", seats: 2)
            let first = try await inventory.reserve(event: event, zone: "floor", user: "first", quantity: 2)
            try await Task.sleep(for: .milliseconds(Int(first.expiresAt.timeIntervalSinceNow * 1000) + 100))
            #expect(try await inventory.sweep(event: event) == 1)
            let second = try await inventory.reserve(event: event, zone: "floor", user: "second", quantity: 2)
            try await inventory.confirm(event: event, bookingID: second.bookingID, payment: "pi-second")

            let progress = try await BookingPersister(redis: redis, postgres: postgres, logger: Self.logger).drain(event: event)
            #expect(progress.events == 4 && progress.transactions == 1, "reserved, expired, reserved, confirmed in one batch")
            try await Self.expectPostgres(postgres, event: event, held: 0, sold: 2, statuses: ["expired": 1, "confirmed": 1])
        }
    }

    @Test("an entry Postgres refuses is set aside with its reason; the rest of its batch and of the stream are persisted")
    func poisonEntry() async throws {
        try await withStores { postgres, redis in
            let inventory = Inventory(redis: redis)
            let catalog = Catalog(postgres: postgres, inventory: inventory, hold: .seconds(600), logger: Self.logger)
            let event = try await publishedEvent(catalog, prefix: "poison", seats: 10)
            let keys = BookingKeys(event: event, in: redis.keySpace)
            _ = try await inventory.reserve(event: event, zone: "floor", user: "before", quantity: 2)
            // A reservation of 0 seats: the bookings table's CHECK (quantity > 0) refuses it.
            try await redis.send(
                "XADD", keys.stream, "*", "type", "reserved", "booking", "\(event):poison", "user", "bot", "zone", "floor", "quantity", "0",
                "total", "0", "currency", "EUR", "expires_ms", "\(Int(Date().timeIntervalSince1970 * 1000) + 600_000)", "at_ms", "0"
            )
            _ = try await inventory.reserve(event: event, zone: "floor", user: "after", quantity: 3)

            let persister = BookingPersister(redis: redis, postgres: postgres, logger: Self.logger)
            let progress = try await persister.drain(event: event)
            #expect(progress.events == 3)
            try await Self.expectPostgres(postgres, event: event, held: 5, sold: 0, statuses: ["held": 2])
            #expect(try await BookingPersister.deadLetters(redis: redis, events: [event]) == [event: 1])
            let letter = try #require(try await redis.send("XRANGE", keys.deadLetters, "-", "+").array?.first?.array?.last?.stringFields)
            #expect(letter["booking"] == "\(event):poison")
            #expect(letter["reason"]?.hasPrefix("23514") == true, "the reason names the check violation: \(letter["reason"] ?? "")")
            #expect(letter["entry"] != nil)
            try await buildBookingApplication(address: .init(port: 0), redis: redis, postgres: postgres, logger: Self.logger).test(.router) { client in
                let ready = try await client.execute(uri: "/ready", method: .get)
                #expect(ready.status == .ok, "dead letters are a warning, not a reason to take the service out of rotation")
                let checks = (try JSONSerialization.jsonObject(with: Data(buffer: ready.body)) as? [String: Any])?["checks"] as? [String: String]
                #expect(checks?["dead-letters"]?.hasPrefix("warning: ") == true, "\(checks ?? [:])")
                #expect(checks?["dead-letters"]?.contains(event) == true)
            }

            let pending = try await redis.send("XPENDING", keys.stream, BookingPersister.group)
            #expect(pending.array?.first?.int == 0, "every entry is acknowledged: the stream is not stuck")
            _ = try await inventory.reserve(event: event, zone: "floor", user: "later", quantity: 1)
            #expect(try await persister.drain(event: event).events == 1, "new entries keep being persisted")
            try await Self.expectPostgres(postgres, event: event, held: 6, sold: 0, statuses: ["held": 3])

            #expect(try await redis.setMembers(BookingKeys.eventsWithDeadLetters(in: redis.keySpace)) == [event], "readiness reads the flagged events only")
            try await redis.delete([keys.deadLetters])
            #expect(try await BookingPersister.flaggedDeadLetters(redis: redis)[event] == nil)
            let stillFlagged = try await redis.setMembers(BookingKeys.eventsWithDeadLetters(in: redis.keySpace)).contains(event)
            #expect(!stillFlagged, "an event whose dead letters were cleared leaves the flagged set")
        }
    }

    @Test("a persister that dies between reading and acknowledging loses nothing: a restarted one claims its entries")
    func crashedConsumerIsClaimed() async throws {
        try await withStores { postgres, redis in
            let inventory = Inventory(redis: redis)
            let catalog = Catalog(postgres: postgres, inventory: inventory, logger: Self.logger)
            let event = try await publishedEvent(catalog, prefix: "crash", seats: 100)
            let stream = BookingKeys(event: event, in: redis.keySpace).stream
            for index in 0..<40 { _ = try await inventory.reserve(event: event, zone: "floor", user: "u\(index)", quantity: 1) }

            // The first instance reads everything, then dies before writing or acknowledging.
            #expect(try await Self.readByDeadInstance(redis, stream: stream) == 40)
            for index in 40..<60 { _ = try await inventory.reserve(event: event, zone: "floor", user: "u\(index)", quantity: 1) }

            let restarted = BookingPersister(redis: redis, postgres: postgres, claimAfter: .milliseconds(50), logger: Self.logger)
            try await Task.sleep(for: .milliseconds(100))
            #expect(try await restarted.drain(event: event).events == 60)
            try await Self.expectPostgres(postgres, event: event, held: 60, sold: 0, statuses: ["held": 60])
            let pending = try await redis.send("XPENDING", stream, BookingPersister.group)
            #expect(pending.array?.first?.int == 0)
        }
    }

    @Test("acknowledged entries past the retention are trimmed; unacknowledged ones stay")
    func streamIsTrimmed() async throws {
        try await withStores { postgres, redis in
            let inventory = Inventory(redis: redis)
            let catalog = Catalog(postgres: postgres, inventory: inventory, logger: Self.logger)
            let event = try await publishedEvent(catalog, prefix: "trim", seats: 100)
            let stream = BookingKeys(event: event, in: redis.keySpace).stream
            for index in 0..<30 { _ = try await inventory.reserve(event: event, zone: "floor", user: "u\(index)", quantity: 1) }
            let keeping = BookingPersister(redis: redis, postgres: postgres, logger: Self.logger)
            #expect(try await keeping.drain(event: event).events == 30)
            #expect(try await redis.send("XLEN", stream).int == 30, "within the retention")

            try await redis.send("XGROUP", "CREATECONSUMER", stream, BookingPersister.group, "slow")
            for index in 30..<40 { _ = try await inventory.reserve(event: event, zone: "floor", user: "u\(index)", quantity: 1) }
            _ = try await redis.send("XREADGROUP", "GROUP", BookingPersister.group, "slow", "COUNT", 5, "STREAMS", stream, ">")
            let trimming = BookingPersister(redis: redis, postgres: postgres, claimAfter: .seconds(60), retention: .zero, logger: Self.logger)
            #expect(try await trimming.drain(event: event).events == 5)
            #expect(try await redis.send("XLEN", stream).int == 10, "the 5 unacknowledged entries and the 5 after them stay")
            try await Self.expectPostgres(postgres, event: event, held: 35, sold: 0, statuses: ["held": 35])
        }
    }

    /// Reads every new entry of `stream` as a persister that then dies would: delivered to the
    /// consumer `dead-instance`, never acknowledged. Returns how many it read.
    static func readByDeadInstance(_ redis: RedisClient, stream: String) async throws -> Int? {
        try await redis.send("XGROUP", "CREATE", stream, BookingPersister.group, "0", "MKSTREAM")
        let read = try await redis.send("XREADGROUP", "GROUP", BookingPersister.group, "dead-instance", "COUNT", 10_000, "STREAMS", stream, ">")
        return read.array?.first?.array?.last?.array?.count
    }

    static func expectPostgres(_ postgres: PostgresClient, event: String, held: Int, sold: Int, statuses: [String: Int]) async throws {
        var zones: [(held: Int, sold: Int)] = []
        for try await zone in try await postgres.query(
            "SELECT held, sold FROM booking.zones WHERE event_id = \(event)", logger: logger
        ).decode((Int, Int).self) {
            zones.append(zone)
        }
        #expect(zones.count == 1, "the event's one zone is in Postgres")
        #expect(zones.first?.held == held)
        #expect(zones.first?.sold == sold)
        var counted: [String: Int] = [:]
        for try await (status, count) in try await postgres.query(
            "SELECT status, count(*)::int FROM booking.bookings WHERE event_id = \(event) GROUP BY status", logger: logger
        ).decode((String, Int).self) {
            counted[status] = count
        }
        #expect(counted == statuses)
    }
}
