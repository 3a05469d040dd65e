import Booking
import Foundation
import Redis
import Testing

@Suite("Sales per zone over the sale: one sample per interval for the fleet")
struct SalesHistoryTests {
    @Test("a sample records sold and held seats per zone; a second offer within the interval is not kept")
    func samples() async throws {
        try await withEvent(seats: 10) { inventory, event in
            try await inventory.createZone(event: event, zone: "balcony", capacity: 5, price: 2_000, currency: "EUR")
            let hold = try await inventory.reserve(event: event, zone: "floor", user: "u1", quantity: 3)
            _ = try await inventory.reserve(event: event, zone: "balcony", user: "u2", quantity: 1)
            _ = try await inventory.confirm(event: event, bookingID: hold.bookingID, payment: "pi_test")

            #expect(try await inventory.recordSales(event: event))
            #expect(try await inventory.recordSales(event: event) == false, "another instance's offer within 5 s is dropped")
            let history = try await inventory.salesHistory(event: event)
            #expect(history.count == 1)
            let expected: [String: SalesSample.Counts] = ["floor": SalesSample.Counts(sold: 3, held: 0), "balcony": SalesSample.Counts(sold: 0, held: 1)]
            #expect(history.first?.zones == expected)
            #expect(try await inventory.recordSales(event: "bk-none-\(UUID().uuidString.prefix(8))") == false, "an event without zones has no history")
        }
    }
}
