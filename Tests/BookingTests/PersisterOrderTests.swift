import Booking
import Foundation
import Logging
import PostgresNIO
import Redis
import Testing

@Suite("The persister writes a booking's events right in whatever order they reach Postgres")
struct PersisterOrderTests {
    static let logger = Logger(label: "persister-order-tests")

    @Test("bookings that ended while their holds sat unacknowledged with a dead persister are written as they ended; the late holds change nothing")
    func endedBeforeReserved() async throws {
        try await withPublishedSale(prefix: "order", seats: 10, hold: .seconds(1)) { sale in
            let (postgres, redis, inventory, event, keys) = (sale.postgres, sale.redis, sale.inventory, sale.event, sale.keys)
            let sold = try await inventory.reserve(event: event, zone: "floor", user: "buyer", quantity: 2)
            let cancelled = try await inventory.reserve(event: event, zone: "floor", user: "quitter", quantity: 3)
            let expired = try await inventory.reserve(event: event, zone: "floor", user: "sleeper", quantity: 1)

            // An instance reads the three holds and dies before writing them.
            #expect(try await PersisterTests.readByDeadInstance(redis, stream: keys.stream) == 3)
            _ = try await inventory.confirm(event: event, bookingID: sold.bookingID, payment: "pi-order")
            try await inventory.cancel(event: event, bookingID: cancelled.bookingID, user: "quitter")
            try await Task.sleep(for: .milliseconds(Int(expired.expiresAt.timeIntervalSinceNow * 1000) + 100))
            #expect(try await inventory.sweep(event: event) == 1)

            // A live instance writes the ends first: the holds are another consumer's for a minute.
            let live = BookingPersister(redis: redis, postgres: postgres, claimAfter: .seconds(60), logger: Self.logger)
            #expect(try await live.drain(event: event).events == 3)
            try await PersisterTests.expectPostgres(postgres, event: event, held: 0, sold: 2, statuses: ["confirmed": 1, "cancelled": 1, "expired": 1])
            let row = try await Self.booking(postgres, sold.bookingID)
            let hash = try #require(try await redis.send("HGETALL", keys.booking(sold.bookingID)).stringFields)
            #expect(row.user == "buyer" && row.quantity == 2 && row.payment == "pi-order")
            #expect(row.total == Int64(hash["total"] ?? "") && row.currency == hash["currency"])
            #expect(row.createdMilliseconds == Int64(hash["created_ms"] ?? ""), "the hold's own creation time, not the confirmation's")

            // The dead instance's holds are claimed at last: nothing moves.
            let claiming = BookingPersister(redis: redis, postgres: postgres, claimAfter: .milliseconds(1), logger: Self.logger)
            #expect(try await claiming.drain(event: event).events == 3)
            try await PersisterTests.expectPostgres(postgres, event: event, held: 0, sold: 2, statuses: ["confirmed": 1, "cancelled": 1, "expired": 1])
            #expect(try await redis.send("XPENDING", keys.stream, BookingPersister.group).array?.first?.int == 0)
            #expect(try await inventory.zone(event: event, zone: "floor") == ZoneInventory(capacity: 10, available: 8, held: 0, sold: 2))
        }
    }

    @Test("an ended entry of the older format (no booking fields) still moves a booking Postgres holds, and is dropped for one it does not")
    func olderEndedEntries() async throws {
        try await withPublishedSale(prefix: "legacy", seats: 10) { sale in
            let (postgres, redis, inventory, event, keys) = (sale.postgres, sale.redis, sale.inventory, sale.event, sale.keys)
            let hold = try await inventory.reserve(event: event, zone: "floor", user: "buyer", quantity: 4)
            let persister = BookingPersister(redis: redis, postgres: postgres, logger: Self.logger)
            #expect(try await persister.drain(event: event).events == 1)

            let now = "\(Int(Date().timeIntervalSince1970 * 1000))"
            for (booking, user) in [(hold.bookingID, "buyer"), ("\(event):unknown", "ghost")] {
                try await redis.send(
                    "XADD", keys.stream, "*", "type", "confirmed", "booking", booking, "user", user, "zone", "floor", "quantity", "4",
                    "payment", "pi-legacy", "at_ms", now
                )
            }
            #expect(try await persister.drain(event: event).events == 2)
            try await PersisterTests.expectPostgres(postgres, event: event, held: 0, sold: 4, statuses: ["confirmed": 1])
            #expect(try await Self.booking(postgres, hold.bookingID).payment == "pi-legacy")
        }
    }

    struct Row {
        var user: String, quantity: Int, total: Int64, currency: String, payment: String?, createdMilliseconds: Int64
    }

    struct MissingBooking: Error { var id: String }

    static func booking(_ postgres: PostgresClient, _ id: String) async throws -> Row {
        let rows = try await postgres.query("""
            SELECT user_id, quantity, total_minor, currency, payment_ref, (extract(epoch FROM created_at) * 1000)::bigint
            FROM booking.bookings WHERE id = \(id)
            """, logger: logger)
        for try await (user, quantity, total, currency, payment, created) in rows.decode((String, Int, Int64, String, String?, Int64).self) {
            return Row(user: user, quantity: quantity, total: total, currency: currency, payment: payment, createdMilliseconds: created)
        }
        throw MissingBooking(id: id)
    }
}
