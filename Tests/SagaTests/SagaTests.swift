import Booking
import Crypto
import Foundation
import Gateway
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import Payments
import Redis
import ServiceKit
import Testing

@Suite("The booking saga end to end: gateway, booking, payments, webhooks")
struct SagaTests {
    @Test("happy path to a confirmation code, a delayed card, a decline that puts the seats back; Redis, Postgres and payments agree")
    func paymentOutcomes() async throws {
        try await SagaFixture.with { fixture in
            let event = try await fixture.event(seats: 10)
            try await fixture.application.test(.live) { client in
                let alice = try await Shopper(fixture: fixture, client: client, user: "alice-\(event)")
                let bob = try await Shopper(fixture: fixture, client: client, user: "bob-\(event)")
                let carol = try await Shopper(fixture: fixture, client: client, user: "carol-\(event)")

                let aliceBooking = try await alice.reserve(event: event, quantity: 2)
                let withAmount = try await alice.post("/api/v1/payments/intent", #"{"booking_id":"\#(aliceBooking)","amount":1}"#)
                #expect(withAmount.status == .badRequest && json(withAmount)["field"] as? String == "amount", "a client cannot name the amount")
                let intentResponse = try await alice.post("/api/v1/payments/intent", #"{"booking_id":"\#(aliceBooking)"}"#)
                #expect(intentResponse.status == .created)
                let intent = json(intentResponse)
                let paymentID = try #require(intent["payment_id"] as? String)
                #expect(intent["amount"] as? Int == 10_000, "the total comes from the booking, never from the client")
                #expect(intent["currency"] as? String == "EUR")
                #expect(intent["status"] as? String == "requires_confirmation")
                #expect((intent["client_secret"] as? String)?.hasPrefix(paymentID + "_secret_") == true)
                let again = try await alice.post("/api/v1/payments/intent", #"{"booking_id":"\#(aliceBooking)"}"#)
                #expect(again.status == .ok)
                #expect(json(again)["payment_id"] as? String == paymentID, "one intent per booking")
                #expect(try await bob.post("/api/v1/payments/intent", #"{"booking_id":"\#(aliceBooking)"}"#).status == .notFound)
                #expect(try await alice.post("/api/v1/payments/intent", #"{"booking_id":42}"#).status == .badRequest)

                let paid = try await alice.post("/api/v1/payments/intent/confirm", #"{"payment_id":"\#(paymentID)","payment_method":"4242 4242 4242 4242"}"#)
                #expect(json(paid)["status"] as? String == "succeeded")
                #expect(try await fixture.eventually { try await alice.booking(aliceBooking)["status"] as? String == "confirmed" })
                let code = try #require(try await alice.booking(aliceBooking)["confirmation_code"] as? String)
                #expect(code.hasPrefix("BR-") && code.count == 13)

                let carolBooking = try await carol.reserve(event: event, quantity: 1)
                let carolPayment = try #require(json(try await carol.post("/api/v1/payments/intent", #"{"booking_id":"\#(carolBooking)"}"#))["payment_id"] as? String)
                let processing = try await carol.post("/api/v1/payments/intent/confirm", #"{"payment_id":"\#(carolPayment)","payment_method":"4000000000000077"}"#)
                #expect(json(processing)["status"] as? String == "processing")
                #expect(try await fixture.eventually { try await carol.booking(carolBooking)["status"] as? String == "confirmed" }, "the delayed card settles")

                let bobBooking = try await bob.reserve(event: event, quantity: 3)
                let bobPayment = try #require(json(try await bob.post("/api/v1/payments/intent", #"{"booking_id":"\#(bobBooking)"}"#))["payment_id"] as? String)
                let declined = try await bob.post("/api/v1/payments/intent/confirm", #"{"payment_id":"\#(bobPayment)","payment_method":"4000000000000002"}"#)
                #expect(json(declined)["status"] as? String == "failed")
                #expect(json(declined)["failure"] as? String == "card_declined")
                #expect(try await fixture.eventually { try await bob.booking(bobBooking)["status"] as? String == "cancelled" })
                #expect(try await fixture.inventory.zone(event: event, zone: "floor") == ZoneInventory(capacity: 10, available: 7, held: 0, sold: 3))
                let confirmAgain = try await bob.post("/api/v1/payments/intent/confirm", #"{"payment_id":"\#(bobPayment)","payment_method":"4242424242424242"}"#)
                #expect(json(confirmAgain)["status"] as? String == "failed", "a failed intent is not charged again")

                #expect(try await fixture.eventually {
                    let notes = try await fixture.notifications(for: [aliceBooking, bobBooking, carolBooking])
                    return notes[aliceBooking] == ["booking.confirmed"] && notes[bobBooking] == ["booking.cancelled"] && notes[carolBooking] == ["booking.confirmed"]
                })
                try await fixture.expectAgreement(event: event)
            }
        }
    }

    @Test("a payment started after the hold expired is refused before any charge, and the seats are sold only once")
    func latePaymentIsRefused() async throws {
        try await SagaFixture.with(hold: .seconds(2)) { fixture in
            let event = try await fixture.event(seats: 2)
            try await fixture.application.test(.live) { client in
                let slow = try await Shopper(fixture: fixture, client: client, user: "slow-\(event)")
                let quick = try await Shopper(fixture: fixture, client: client, user: "quick-\(event)")
                let booking = try await slow.reserve(event: event, quantity: 2)
                let payment = try #require(json(try await slow.post("/api/v1/payments/intent", #"{"booking_id":"\#(booking)"}"#))["payment_id"] as? String)
                try await Task.sleep(for: .milliseconds(2_300))
                let refused = try await slow.post("/api/v1/payments/intent/confirm", #"{"payment_id":"\#(payment)","payment_method":"pm_card_visa"}"#)
                #expect(refused.status == .conflict)
                #expect(json(refused)["type"] as? String == "https://booking-rush.dev/problems/booking-not-payable")
                #expect(json(try await slow.get("/api/v1/payments/\(payment)"))["status"] as? String == "requires_confirmation", "nothing was charged")
                #expect(try await fixture.eventually { try await slow.booking(booking)["status"] as? String == "expired" })
                #expect(try await fixture.inventory.zone(event: event, zone: "floor") == ZoneInventory(capacity: 2, available: 2, held: 0, sold: 0))
                _ = try await quick.reserve(event: event, quantity: 2)
                #expect(try await quick.post("/api/v1/bookings/reserve", #"{"event_id":"\#(event)","zone_id":"floor","quantity":1}"#).status == .conflict)
                try await fixture.expectAgreement(event: event)
            }
        }
    }

    @Test("a payment started in time is sold even when its webhook arrives after the hold's original expiry")
    func paidInTimeIsSold() async throws {
        try await SagaFixture.with(hold: .seconds(2)) { fixture in
            let event = try await fixture.event(seats: 2)
            try await fixture.application.test(.live) { client in
                let buyer = try await Shopper(fixture: fixture, client: client, user: "buyer-\(event)")
                let booking = try await buyer.reserve(event: event, quantity: 2)
                let payment = try #require(json(try await buyer.post("/api/v1/payments/intent", #"{"booking_id":"\#(booking)"}"#))["payment_id"] as? String)
                // A card that settles later (0077), then the webhook's receiver is down past the hold's expiry.
                let paying = try await buyer.post("/api/v1/payments/intent/confirm", #"{"payment_id":"\#(payment)","payment_method":"4000000000000077"}"#)
                #expect(json(paying)["status"] as? String == "processing")
                await fixture.kill("booking")
                try await Task.sleep(for: .milliseconds(2_500))
                #expect(try await fixture.eventually { try await fixture.failedDeliveryAttempts(payment) >= 1 }, "the success waited for the booking service")
                try await fixture.startBooking()
                #expect(try await fixture.eventually { try await buyer.booking(booking)["status"] as? String == "confirmed" })
                #expect(try await fixture.eventually { try await fixture.sagaState(booking) == "confirmed" })
                #expect(json(try await buyer.get("/api/v1/payments/\(payment)"))["status"] as? String == "succeeded", "not refunded")
                #expect(try await fixture.inventory.zone(event: event, zone: "floor") == ZoneInventory(capacity: 2, available: 0, held: 0, sold: 2))
                try await fixture.expectAgreement(event: event)
            }
        }
    }

    @Test("a payment that settles after its grace is refunded, and the seats are sold only once")
    func paymentPastGraceIsRefunded() async throws {
        try await SagaFixture.with(hold: .seconds(2), paymentGrace: .milliseconds(100)) { fixture in
            let event = try await fixture.event(seats: 2)
            try await fixture.application.test(.live) { client in
                let slow = try await Shopper(fixture: fixture, client: client, user: "slow-\(event)")
                let booking = try await slow.reserve(event: event, quantity: 2)
                let payment = try #require(json(try await slow.post("/api/v1/payments/intent", #"{"booking_id":"\#(booking)"}"#))["payment_id"] as? String)
                try await Task.sleep(for: .milliseconds(1_700))
                let paying = try await slow.post("/api/v1/payments/intent/confirm", #"{"payment_id":"\#(payment)","payment_method":"4000000000000077"}"#)
                #expect(json(paying)["status"] as? String == "processing", "started in time")
                #expect(try await fixture.eventually { json(try await slow.get("/api/v1/payments/\(payment)"))["status"] as? String == "refunded" })
                #expect(try await fixture.eventually { try await fixture.sagaState(booking) == "refunded" })
                #expect(try await slow.booking(booking)["status"] as? String == "expired")
                #expect(try await fixture.inventory.zone(event: event, zone: "floor") == ZoneInventory(capacity: 2, available: 2, held: 0, sold: 0))
                #expect(try await fixture.eventually { try await fixture.notifications(for: [booking])[booking] == ["booking.refund_requested", "booking.refunded"] })
                try await fixture.expectAgreement(event: event)
            }
        }
    }

    @Test("webhooks: bad, stale or tampered signatures change nothing; a replay or a late event is harmless; a half-applied event completes once")
    func webhookSecurity() async throws {
        try await SagaFixture.with { fixture in
            let event = try await fixture.event(seats: 5)
            let hold = try await fixture.inventory.reserve(event: event, zone: "floor", user: "dana", quantity: 1, bookingID: "\(event):\(UUID().uuidString.lowercased())")
            let intent = PaymentIntent(
                paymentID: "pi_test_\(UUID().uuidString.prefix(8))", bookingID: hold.bookingID, eventID: event, userID: "dana",
                amount: hold.total, currency: hold.currency, status: .succeeded, clientSecret: "secret", failure: nil
            )
            let succeeded = Array(try JSONEncoder().encode(PaymentEvent(type: .succeeded, data: intent)))
            let key = SymmetricKey(data: fixture.booking.webhookSecret)
            #expect(try await fixture.deliver(succeeded, signature: nil) == 400)
            #expect(try await fixture.deliver(succeeded, signature: WebhookSignature.sign(body: succeeded, key: SymmetricKey(data: Array("another-secret-another-secret-!!".utf8))) ) == 400)
            #expect(try await fixture.deliver(succeeded, signature: WebhookSignature.sign(body: succeeded, key: key, now: Date().addingTimeInterval(-600))) == 400)
            #expect(try await fixture.deliver(succeeded, signature: WebhookSignature.sign(body: Array("{}".utf8), key: key)) == 400)
            #expect(try await fixture.inventory.status(event: event, bookingID: hold.bookingID) == "held", "refused deliveries change nothing")

            // The Redis step of a previous delivery happened, then the service died before recording it.
            try await fixture.inventory.confirm(event: event, bookingID: hold.bookingID, payment: intent.paymentID)
            let signed = WebhookSignature.sign(body: succeeded, key: key)
            #expect(try await fixture.deliverOutcome(succeeded, signature: signed) == "applied")
            #expect(try await fixture.deliverOutcome(succeeded, signature: signed) == "duplicate")
            let created = Array(try JSONEncoder().encode(PaymentEvent(type: .created, data: intent)))
            #expect(try await fixture.deliverOutcome(created, signature: WebhookSignature.sign(body: created, key: key)) == "ignored", "created, after success")
            #expect(try await fixture.streamCount(event: event, type: "confirmed") == 1, "sold exactly once")
            #expect(try await fixture.sagaState(hold.bookingID) == "confirmed")
            #expect(try await fixture.inventory.zone(event: event, zone: "floor").sold == 1)
        }
    }

    @Test("the booking service is down when the payment succeeds: after its restart the booking is confirmed exactly once")
    func bookingDownDuringPayment() async throws {
        try await SagaFixture.with { fixture in
            let event = try await fixture.event(seats: 3)
            try await fixture.application.test(.live) { client in
                let erin = try await Shopper(fixture: fixture, client: client, user: "erin-\(event)")
                let booking = try await erin.reserve(event: event, quantity: 1)
                let payment = try #require(json(try await erin.post("/api/v1/payments/intent", #"{"booking_id":"\#(booking)"}"#))["payment_id"] as? String)
                await fixture.kill("booking")
                let paid = try await erin.post("/api/v1/payments/intent/confirm", #"{"payment_id":"\#(payment)","payment_method":"4242424242424242"}"#)
                #expect(json(paid)["status"] as? String == "succeeded")
                #expect(try await fixture.eventually { try await fixture.failedDeliveryAttempts(payment) >= 2 }, "the webhook is retried while booking is down")
                #expect(try await fixture.inventory.status(event: event, bookingID: booking) == "held")

                try await fixture.startBooking()
                #expect(try await fixture.eventually { try await erin.booking(booking)["status"] as? String == "confirmed" })
                #expect(try await fixture.eventually { try await fixture.sagaState(booking) == "confirmed" })
                try await Task.sleep(for: .milliseconds(500))
                #expect(try await fixture.streamCount(event: event, type: "confirmed") == 1)
                #expect(try await fixture.inventory.zone(event: event, zone: "floor") == ZoneInventory(capacity: 3, available: 2, held: 0, sold: 1))
            }
        }
    }
}
