import Foundation
import Payments
import Testing
import ServiceKit

@Suite("Payment intents: charged once, settled, refunded, each change announced once")
struct PaymentFlowTests {
    @Test("twenty confirmations at once charge the card once and announce one success")
    func concurrentConfirmations() async throws {
        try await PaymentsTestStore.with { fixture in
            let processor = CountingProcessor()
            let flow = PaymentFlow(store: fixture.store, processor: processor, logger: PaymentsTestStore.logger)
            let intent = try await fixture.intent("concurrent")
            let answers = try await withThrowingTaskGroup(of: PaymentIntent.Status.self) { group in
                for _ in 0..<20 { group.addTask { try await flow.confirm(intent, paymentMethod: "pm_card_visa").status } }
                return try await group.reduce(into: [PaymentIntent.Status]()) { $0.append($1) }
            }
            #expect(processor.charges == 1, "one charge for twenty confirmations")
            #expect(answers.allSatisfy { $0 == .processing || $0 == .succeeded }, "\(answers)")
            #expect(answers.contains(.succeeded), "the confirmation that charged reports the success")
            #expect(try await fixture.store.intent(id: intent.paymentID)?.status == .succeeded)
            #expect(try await fixture.webhooks(of: intent.paymentID) == ["payment_intent.created", "payment_intent.succeeded"])

            let again = try await flow.confirm(intent, paymentMethod: "pm_card_chargeDeclined")
            #expect(again.status == .succeeded, "a settled intent is answered as it is")
            #expect(processor.charges == 1)
        }
    }

    @Test("a declined card fails the intent with its reason; it is not charged again")
    func declined() async throws {
        try await PaymentsTestStore.with { fixture in
            let processor = CountingProcessor()
            let flow = PaymentFlow(store: fixture.store, processor: processor, logger: PaymentsTestStore.logger)
            let intent = try await fixture.intent("declined")
            let failed = try await flow.confirm(intent, paymentMethod: "4000 0000 0000 9995")
            #expect(failed.status == .failed)
            #expect(failed.failure == "insufficient_funds")
            #expect(try await flow.confirm(intent, paymentMethod: "pm_card_visa").status == .failed)
            #expect(processor.charges == 1)
            #expect(try await fixture.webhooks(of: intent.paymentID) == ["payment_intent.created", "payment_intent.payment_failed"])
        }
    }

    @Test("a delayed card stays processing until its result is due, then the settler records it once")
    func delayedCard() async throws {
        try await PaymentsTestStore.with { fixture in
            let flow = PaymentFlow(store: fixture.store, processor: CountingProcessor(delay: .milliseconds(300)), logger: PaymentsTestStore.logger)
            let intent = try await fixture.intent("delayed")
            #expect(try await flow.confirm(intent, paymentMethod: "4000000000000077").status == .processing)
            try await flow.settleDue()
            #expect(try await fixture.store.intent(id: intent.paymentID)?.status == .processing, "not due yet")
            try await Task.sleep(for: .milliseconds(400))
            try await flow.settleDue()
            try await flow.settleDue()
            #expect(try await fixture.store.intent(id: intent.paymentID)?.status == .succeeded)
            #expect(try await fixture.webhooks(of: intent.paymentID) == ["payment_intent.created", "payment_intent.succeeded"])
        }
    }

    @Test("only a succeeded payment is refunded, once, with its webhook")
    func refund() async throws {
        try await PaymentsTestStore.with { fixture in
            let processor = CountingProcessor()
            let flow = PaymentFlow(store: fixture.store, processor: processor, logger: PaymentsTestStore.logger)
            let intent = try await fixture.intent("refund")
            await #expect(throws: PaymentsError.notRefundable(.requiresConfirmation)) { try await flow.refund(intent) }
            let paid = try await flow.confirm(intent, paymentMethod: "pm_card_visa")
            #expect(try await flow.refund(paid).status == .refunded)
            #expect(try await flow.refund(paid).status == .refunded, "a second refund finds it refunded")
            #expect(processor.refunds == 1, "the card network is asked once")
            #expect(try await fixture.webhooks(of: intent.paymentID) == ["payment_intent.created", "payment_intent.succeeded", "charge.refunded"])
        }
    }
}
