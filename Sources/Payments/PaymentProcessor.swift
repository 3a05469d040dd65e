import Foundation

/// What a card network answered.
public enum ChargeOutcome: Sendable, Hashable {
    case succeeded
    case declined(reason: String)
    /// Accepted, but the result comes later (asynchronous payment methods).
    case processing(settlesAfter: Duration)
}

/// Where money moves. The built-in `TestCardProcessor` keeps the whole flow offline; a real
/// adapter (Stripe's API over async-http-client) plugs in behind the same protocol.
public protocol PaymentProcessor: Sendable {
    /// Charges `amount` minor units; `idempotencyKey` (the intent id) makes a retry safe.
    func charge(amount: Int, currency: String, paymentMethod: String, idempotencyKey: String) async throws -> ChargeOutcome
    /// The outcome now of the charge made under `idempotencyKey` (making it, if a crash came
    /// before it was made): how a processing or orphaned charge is settled.
    func retrieve(amount: Int, currency: String, paymentMethod: String, idempotencyKey: String) async throws -> ChargeOutcome
    /// Returns a successful charge in full; idempotent per payment (two callers racing to refund
    /// one payment move its money back once).
    func refund(paymentID: String, amount: Int, currency: String) async throws
}

/// Stripe's test cards, offline: `4242 4242 4242 4242` (or `pm_card_visa`) succeeds,
/// `4000 0000 0000 0002` (`pm_card_chargeDeclined`) is declined, `4000 0000 0000 9995` is declined
/// for insufficient funds, and `4000 0000 0000 0077` is accepted and succeeds after `delay`.
/// Any other number is declined as an invalid card.
public struct TestCardProcessor: PaymentProcessor {
    public let delay: Duration

    public init(delay: Duration = .seconds(3)) {
        self.delay = delay
    }

    public func charge(amount: Int, currency: String, paymentMethod: String, idempotencyKey: String) async throws -> ChargeOutcome {
        switch Self.normalized(paymentMethod) {
        case "4242424242424242", "pm_card_visa": .succeeded
        case "4000000000000002", "pm_card_chargedeclined": .declined(reason: "card_declined")
        case "4000000000009995", "pm_card_chargedeclinedinsufficientfunds": .declined(reason: "insufficient_funds")
        case "4000000000000077": .processing(settlesAfter: delay)
        default: .declined(reason: "invalid_number")
        }
    }

    /// The delayed card has settled by the time anyone asks again; the others answer as they did.
    public func retrieve(amount: Int, currency: String, paymentMethod: String, idempotencyKey: String) async throws -> ChargeOutcome {
        let outcome = try await charge(amount: amount, currency: currency, paymentMethod: paymentMethod, idempotencyKey: idempotencyKey)
        if case .processing = outcome { return .succeeded }
        return outcome
    }

    public func refund(paymentID: String, amount: Int, currency: String) async throws {}

    static func normalized(_ method: String) -> String {
        method.lowercased().filter { !$0.isWhitespace && $0 != "-" }
    }
}
