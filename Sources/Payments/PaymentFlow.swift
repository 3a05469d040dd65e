import Foundation
import Logging
import ServiceKit

/// Confirming, settling and refunding intents: the processor is asked, and the outcome is
/// recorded with its webhook. A claim (`requires_confirmation` → `processing`) comes first, so
/// two confirmations never charge twice; a claim left behind by a crash is settled by asking
/// the processor again with the same idempotency key.
public struct PaymentFlow: Sendable {
    /// How long a claimed charge may go unanswered before the settler asks the processor again.
    static let claimTimeout: Duration = .seconds(60)

    let store: PaymentStore
    let processor: any PaymentProcessor
    let logger: Logger

    public init(store: PaymentStore, processor: any PaymentProcessor, logger: Logger) {
        self.store = store
        self.processor = processor
        self.logger = logger
    }

    /// Charges the intent with `paymentMethod`; an intent already past confirmation is returned as it is.
    public func confirm(_ intent: PaymentIntent, paymentMethod: String) async throws -> PaymentIntent {
        guard let claimed = try await store.transition(
            intent.paymentID, from: [.requiresConfirmation], to: .processing, paymentMethod: paymentMethod, settlesIn: Self.claimTimeout
        ) else {
            return try await store.intent(id: intent.paymentID) ?? intent
        }
        let outcome = try await processor.charge(amount: claimed.amount, currency: claimed.currency, paymentMethod: paymentMethod, idempotencyKey: claimed.paymentID)
        return try await record(outcome, for: claimed.paymentID) ?? claimed
    }

    /// Settles every processing intent whose result is due; returns how many changed.
    @discardableResult
    public func settleDue() async throws -> Int {
        var settled = 0
        for due in try await store.dueSettlements() {
            let outcome = try await processor.retrieve(amount: due.amount, currency: due.currency, paymentMethod: due.method, idempotencyKey: due.id)
            let recorded = try await record(outcome, for: due.id)
            if case .processing = outcome { continue }
            if recorded != nil { settled += 1 }
        }
        return settled
    }

    /// Refunds a succeeded payment in full; a refunded one is returned as it is. The status is
    /// read afresh, so a caller holding an old copy does not ask the card network twice.
    public func refund(_ intent: PaymentIntent) async throws -> PaymentIntent {
        let intent = try await store.intent(id: intent.paymentID) ?? intent
        switch intent.status {
        case .refunded: return intent
        case .succeeded: break
        default: throw PaymentsError.notRefundable(intent.status)
        }
        try await processor.refund(paymentID: intent.paymentID, amount: intent.amount, currency: intent.currency)
        if let refunded = try await store.transition(intent.paymentID, from: [.succeeded], to: .refunded, announcing: .refunded) { return refunded }
        return try await store.intent(id: intent.paymentID) ?? intent
    }

    private func record(_ outcome: ChargeOutcome, for id: String) async throws -> PaymentIntent? {
        switch outcome {
        case .succeeded:
            return try await store.transition(id, from: [.processing], to: .succeeded, announcing: .succeeded)
        case .declined(let reason):
            logger.info("payment declined", metadata: ["payment": "\(id)", "reason": "\(reason)"])
            return try await store.transition(id, from: [.processing], to: .failed, failure: reason, announcing: .failed)
        case .processing(let after):
            return try await store.transition(id, from: [.processing], to: .processing, settlesIn: after)
        }
    }
}
