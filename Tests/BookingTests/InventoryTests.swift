import Booking
import Foundation
import Redis
import ServiceTestSupport
import Synchronization
import Testing

/// An event with one zone, in a key space of its own on the tests' Redis, deleted afterwards.
func withEvent(
    seats: Int,
    sale: SaleSettings = SaleSettings(),
    _ body: (Inventory, String) async throws -> Void
) async throws {
    try await TestRedis.withClient(commandTimeout: .seconds(10)) { redis in
        let inventory = Inventory(redis: redis)
        let event = "bk-\(UUID().uuidString.prefix(8).lowercased())"
        try await inventory.configureSale(event: event, sale)
        try await inventory.createZone(event: event, zone: "floor", capacity: seats, price: 4_500, currency: "EUR")
        try await body(inventory, event)
    }
}

/// Events of one type in the event's stream.
func streamCount(_ inventory: Inventory, event: String, type: String) async throws -> Int {
    let entries = try await inventory.redis.send("XRANGE", inventory.keys(event).stream, "-", "+")
    return (entries.array ?? []).filter { entry in
        guard let fields = entry.array?.last?.array else { return false }
        return fields.indices.contains { $0 % 2 == 0 && fields[$0].string == "type" && fields[$0 + 1].string == type }
    }.count
}

@Suite("Seat inventory in Redis: atomic holds, zero overselling")
struct InventoryTests {
    @Test("1,000 seats, 20,000 concurrent attempts: exactly 1,000 held, never negative")
    func stampede() async throws {
        try await withEvent(seats: 1_000) { inventory, event in
            let outcomes = try await withThrowingTaskGroup(of: Bool.self) { group in
                for index in 0..<20_000 {
                    group.addTask {
                        do {
                            _ = try await inventory.reserve(event: event, zone: "floor", user: "u\(index)", quantity: 1)
                            return true
                        } catch BookingError.soldOut {
                            return false
                        }
                    }
                }
                return try await group.reduce(into: [Bool]()) { $0.append($1) }
            }
            #expect(outcomes.filter { $0 }.count == 1_000)
            let zone = try await inventory.zone(event: event, zone: "floor")
            #expect(zone == ZoneInventory(capacity: 1_000, available: 0, held: 1_000, sold: 0))
            #expect(try await streamCount(inventory, event: event, type: "reserved") == 1_000)
        }
    }

    @Test("the per-user limit holds under concurrency")
    func perUserLimit() async throws {
        try await withEvent(seats: 500, sale: SaleSettings(maxSeatsPerUser: 6)) { inventory, event in
            let held = try await withThrowingTaskGroup(of: Int.self) { group in
                for _ in 0..<40 {
                    group.addTask {
                        do {
                            _ = try await inventory.reserve(event: event, zone: "floor", user: "greedy", quantity: 2)
                            return 2
                        } catch BookingError.overLimit {
                            return 0
                        }
                    }
                }
                return try await group.reduce(0, +)
            }
            #expect(held == 6)
            #expect(try await inventory.zone(event: event, zone: "floor").held == 6)
        }
    }

    @Test("expired holds return their seats exactly once, with three sweepers at once")
    func sweepers() async throws {
        try await withEvent(seats: 200, sale: SaleSettings(hold: .seconds(2))) { inventory, event in
            try await withThrowingTaskGroup(of: Void.self) { group in
                for index in 0..<150 { group.addTask { _ = try await inventory.reserve(event: event, zone: "floor", user: "u\(index % 30)", quantity: 1) } }
                try await group.waitForAll()
            }
            #expect(try await inventory.sweep(event: event) == 0, "nothing has expired yet")
            try await Task.sleep(for: .milliseconds(2_100))
            let released = try await withThrowingTaskGroup(of: Int.self) { group in
                for _ in 0..<3 { group.addTask { try await inventory.sweep(event: event) } }
                return try await group.reduce(0, +)
            }
            #expect(released == 150)
            #expect(try await inventory.zone(event: event, zone: "floor") == ZoneInventory(capacity: 200, available: 200, held: 0, sold: 0))
            #expect(try await streamCount(inventory, event: event, type: "expired") == 150)
        }
    }

    @Test("an orphaned hold (its booking gone) is dropped from the expiry index once and does not stop the expiries behind it")
    func orphanedHold() async throws {
        try await withEvent(seats: 10, sale: SaleSettings(hold: .seconds(1))) { inventory, event in
            for index in 0..<3 { _ = try await inventory.reserve(event: event, zone: "floor", user: "u\(index)", quantity: 1) }
            let holds = inventory.keys(event).holds
            _ = try await inventory.redis.send("ZADD", holds, "0", "bk_orphan")
            try await Task.sleep(for: .milliseconds(1_100))
            let orphans = Mutex<[String]>([])
            #expect(try await inventory.sweep(event: event) { orphan in orphans.withLock { $0.append(orphan) } } == 3)
            #expect(orphans.withLock { $0 } == ["bk_orphan"])
            #expect(try await inventory.redis.send("ZSCORE", holds, "bk_orphan").string == nil, "gone from the index")
            #expect(try await inventory.zone(event: event, zone: "floor") == ZoneInventory(capacity: 10, available: 10, held: 0, sold: 0))
            #expect(try await inventory.sweep(event: event) { orphan in orphans.withLock { $0.append(orphan) } } == 0)
            #expect(orphans.withLock { $0.count } == 1, "reported once")
        }
    }

    @Test("confirm sells; double cancel, confirm after expiry and cancel after confirm are refused, inventory stays right")
    func lifecycle() async throws {
        try await withEvent(seats: 10, sale: SaleSettings(hold: .seconds(2))) { inventory, event in
            let sold = try await inventory.reserve(event: event, zone: "floor", user: "ann", quantity: 2)
            #expect(sold.total == 9_000 && sold.currency == "EUR", "prices come from the catalog")
            try await inventory.confirm(event: event, bookingID: sold.bookingID, payment: "pi_1")
            try await inventory.confirm(event: event, bookingID: sold.bookingID, payment: "pi_1")
            await #expect(throws: BookingError.alreadyConfirmed) { try await inventory.cancel(event: event, bookingID: sold.bookingID, user: "ann") }

            let cancelled = try await inventory.reserve(event: event, zone: "floor", user: "bob", quantity: 3)
            await #expect(throws: BookingError.notOwner) { try await inventory.cancel(event: event, bookingID: cancelled.bookingID, user: "eve") }
            try await inventory.cancel(event: event, bookingID: cancelled.bookingID, user: "bob")
            await #expect(throws: BookingError.alreadyCancelled) { try await inventory.cancel(event: event, bookingID: cancelled.bookingID, user: "bob") }

            let lapsed = try await inventory.reserve(event: event, zone: "floor", user: "cat", quantity: 4)
            try await Task.sleep(for: .milliseconds(2_100))
            await #expect(throws: BookingError.expired) { try await inventory.confirm(event: event, bookingID: lapsed.bookingID, payment: "pi_late") }
            #expect(try await inventory.status(event: event, bookingID: lapsed.bookingID) == "expired")
            #expect(try await inventory.expire(event: event, bookingID: lapsed.bookingID) == false, "already returned once")

            #expect(try await inventory.zone(event: event, zone: "floor") == ZoneInventory(capacity: 10, available: 8, held: 0, sold: 2))
            #expect(try await inventory.reserve(event: event, zone: "floor", user: "bob", quantity: 8).status == "held", "bob's cancelled seats count no more")
        }
    }

    @Test("refusals: unknown zone or event, not on sale, bad quantity; a booking id makes reserve idempotent")
    func refusals() async throws {
        try await withEvent(seats: 5) { inventory, event in
            await #expect(throws: BookingError.zoneNotFound) { try await inventory.reserve(event: event, zone: "balcony", user: "u", quantity: 1) }
            await #expect(throws: BookingError.eventNotFound) { try await inventory.reserve(event: "no-\(event)", zone: "floor", user: "u", quantity: 1) }
            await #expect(throws: BookingError.invalidQuantity) { try await inventory.reserve(event: event, zone: "floor", user: "u", quantity: 0) }
            await #expect(throws: BookingError.invalidQuantity) { try await inventory.reserve(event: event, zone: "floor", user: "u", quantity: -3) }
            let first = try await inventory.reserve(event: event, zone: "floor", user: "u", quantity: 2, bookingID: "same")
            let again = try await inventory.reserve(event: event, zone: "floor", user: "u", quantity: 2, bookingID: "same")
            #expect(first.isNew && !again.isNew, "the second call finds the first booking")
            #expect(first.bookingID == again.bookingID && first.expiresAt == again.expiresAt && first.total == again.total)
            #expect(try await inventory.zone(event: event, zone: "floor").held == 2)
            try await inventory.configureSale(event: event, SaleSettings(startsAt: Date().addingTimeInterval(3_600)))
            await #expect(throws: BookingError.notOnSale) { try await inventory.reserve(event: event, zone: "floor", user: "v", quantity: 1) }
            try await inventory.configureSale(event: event, SaleSettings(status: .draft))
            await #expect(throws: BookingError.notOnSale) { try await inventory.reserve(event: event, zone: "floor", user: "v", quantity: 1) }
        }
    }
}
