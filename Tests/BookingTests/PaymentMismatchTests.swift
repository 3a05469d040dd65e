import Foundation
import PostgresNIO
import Redis
import Testing

@testable import Booking

@Suite("Reconciliation: bookings against their payments")
struct PaymentMismatchTests {
    @Test("confirmed but unpaid, paid but not confirmed, and paid another amount are listed; agreeing pairs are not")
    func mismatchesListed() async throws {
        try await withStores { postgres, redis in
            let catalog = Catalog(postgres: postgres, inventory: Inventory(redis: redis), logger: bookingTestLogger)
            let event = try await publishedEvent(catalog, prefix: "pay", seats: 10)
            func booking(_ name: String, _ status: String, total: Int = 5_000) async throws -> String {
                let id = "\(event):\(name)"
                try await postgres.query("""
                    INSERT INTO booking.bookings (id, event_id, zone_id, user_id, quantity, status, total_minor, currency, expires_at, created_at)
                    VALUES (\(id), \(event), 'floor', 'buyer', 1, \(status), \(total), 'EUR', now(), now())
                    """, logger: bookingTestLogger)
                return id
            }
            func payment(for booking: String, _ status: String, amount: Int = 5_000) async throws {
                let id = "pi_\(UUID().uuidString.prefix(12).lowercased())"
                try await postgres.query("""
                    INSERT INTO payments.intents (id, booking_id, event_id, user_id, amount_minor, currency, status, client_secret)
                    VALUES (\(id), \(booking), \(event), 'buyer', \(amount), 'EUR', \(status), 'secret')
                    """, logger: bookingTestLogger)
            }
            do {
                try await payment(for: try await booking("paid", "confirmed"), "succeeded")
                try await payment(for: try await booking("refunded", "cancelled"), "refunded")
                try await payment(for: try await booking("declined", "expired"), "failed")
                let unpaid = try await booking("unpaid", "confirmed")
                let paidCancelled = try await booking("paid-cancelled", "cancelled")
                try await payment(for: paidCancelled, "succeeded")
                let underpaid = try await booking("underpaid", "confirmed")
                try await payment(for: underpaid, "succeeded", amount: 4_000)
                let reconciler = Reconciler(inventory: Inventory(redis: redis), postgres: postgres, logger: bookingTestLogger)

                let mismatches = try await reconciler.paymentMismatches(events: [event])
                #expect(mismatches.map(\.bookingID) == [paidCancelled, underpaid, unpaid].sorted())
                let byBooking = Dictionary(uniqueKeysWithValues: mismatches.map { ($0.bookingID, $0) })
                #expect(byBooking[unpaid]?.paymentID == nil)
                #expect(byBooking[paidCancelled]?.bookingStatus == "cancelled")
                #expect(byBooking[paidCancelled]?.paymentStatus == "succeeded")
                #expect(byBooking[underpaid]?.total == 5_000)
                #expect(byBooking[underpaid]?.amount == 4_000)
                #expect(try await reconciler.paymentMismatches(events: ["another-\(event)"]).isEmpty, "the event filter holds")
            } catch {
                try? await Self.deleteRows(of: event, postgres: postgres)
                throw error
            }
            try await Self.deleteRows(of: event, postgres: postgres)
        }
    }

    static func deleteRows(of event: String, postgres: PostgresClient) async throws {
        try await postgres.query("DELETE FROM payments.intents WHERE event_id = \(event)", logger: bookingTestLogger)
        try await postgres.query("DELETE FROM booking.bookings WHERE event_id = \(event)", logger: bookingTestLogger)
    }
}
