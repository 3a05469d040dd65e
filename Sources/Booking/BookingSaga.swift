import Foundation
import Logging
import PostgresNIO
import ServiceKit

/// The booking saga, driven by payment webhooks and persisted in `booking.sagas`:
/// reserve → payment intent → payment succeeded → booking confirmed (seats sold) → notified;
/// payment failed → seats released, booking cancelled; success after the hold lapsed → refund.
///
/// Each event first does its Redis step (idempotent: confirming twice keeps one sale), then
/// records, in one transaction, that the event was applied, the saga's new state and an outbox
/// row. A crash between the two is healed by the webhook's redelivery; a replayed or duplicated
/// event finds itself recorded and changes nothing; states only move forward, so an event that
/// arrives late is ignored.
public struct BookingSaga: Sendable {
    public enum State: String, Sendable, Codable {
        case paymentPending = "payment_pending"
        case confirmed, cancelled
        case refundPending = "refund_pending"
        case refunded
    }

    /// What handling an event did.
    public enum Outcome: String, Sendable, Codable {
        /// The saga moved.
        case applied
        /// This event was applied before.
        case duplicate
        /// The saga is already past this event (it came late or out of order).
        case ignored
    }

    let inventory: Inventory
    let postgres: PostgresClient
    let refunds: RefundRequester
    let logger: Logger

    public init(inventory: Inventory, postgres: PostgresClient, refunds: RefundRequester, logger: Logger) {
        self.inventory = inventory
        self.postgres = postgres
        self.refunds = refunds
        self.logger = logger
    }

    public func handle(_ event: PaymentEvent) async throws -> Outcome {
        if try await isProcessed(event.id) { return .duplicate }
        let intent = event.data
        switch event.type {
        case .created:
            return try await record(event, state: .paymentPending, from: [])
        case .succeeded:
            let code: String
            do {
                code = try await inventory.confirm(event: intent.eventID, bookingID: intent.bookingID, payment: intent.paymentID)
            } catch .expired, .alreadyCancelled, .bookingNotFound {
                let outcome = try await record(event, state: .refundPending, from: [.paymentPending], notify: "booking.refund_requested")
                if outcome == .applied { await refunds.request(paymentID: intent.paymentID, bookingID: intent.bookingID) }
                return outcome
            }
            return try await record(event, state: .confirmed, from: [.paymentPending], code: code, notify: "booking.confirmed")
        case .failed:
            do {
                try await inventory.cancel(event: intent.eventID, bookingID: intent.bookingID, user: intent.userID)
            } catch .alreadyCancelled, .expired, .bookingNotFound {
                // The seats are back already.
            }
            return try await record(event, state: .cancelled, from: [.paymentPending], notify: "booking.cancelled")
        case .refunded:
            return try await record(event, state: .refunded, from: [.paymentPending, .refundPending, .confirmed], notify: "booking.refunded")
        }
    }

    private func isProcessed(_ eventID: String) async throws -> Bool {
        let rows = try await postgres.query("SELECT 1 FROM booking.processed_webhooks WHERE event_id = \(eventID)", logger: logger)
        for try await _ in rows { return true }
        return false
    }

    /// In one transaction: the event marked applied, the saga moved to `state` if it is in one of
    /// `from` (or new), and the notification put in the outbox.
    private func record(_ event: PaymentEvent, state: State, from: [State], code: String? = nil, notify type: String? = nil) async throws -> Outcome {
        let intent = event.data
        return try await postgres.withTransaction(logger: logger) { connection -> Outcome in
            let first = try await connection.query(
                "INSERT INTO booking.processed_webhooks (event_id) VALUES (\(event.id)) ON CONFLICT DO NOTHING RETURNING event_id", logger: logger
            )
            var isNew = false
            for try await _ in first { isNew = true }
            guard isNew else { return .duplicate }
            let refundAt: Date? = state == .refundPending ? Date().addingTimeInterval(30) : nil
            let moved = try await connection.query("""
                INSERT INTO booking.sagas (booking_id, event_id, user_id, payment_id, state, confirmation_code, next_refund_at)
                VALUES (\(intent.bookingID), \(intent.eventID), \(intent.userID), \(intent.paymentID), \(state.rawValue), \(code), \(refundAt))
                ON CONFLICT (booking_id) DO UPDATE SET state = EXCLUDED.state,
                    confirmation_code = COALESCE(EXCLUDED.confirmation_code, booking.sagas.confirmation_code),
                    next_refund_at = EXCLUDED.next_refund_at, updated_at = now()
                WHERE booking.sagas.state = ANY(\(from.map(\.rawValue)))
                RETURNING state
                """, logger: logger)
            var applied = false
            for try await _ in moved { applied = true }
            guard applied else {
                logger.info("payment event ignored: the saga is past it", metadata: ["event": "\(event.id)", "type": "\(event.type.rawValue)"])
                return .ignored
            }
            if let type {
                let notification = SagaNotification(
                    type: type, bookingID: intent.bookingID, eventID: intent.eventID, userID: intent.userID,
                    paymentID: intent.paymentID, amount: intent.amount, currency: intent.currency, confirmationCode: code
                )
                let payload = String(decoding: try JSONEncoder.sortedKeys.encode(notification), as: UTF8.self)
                try await connection.query(
                    "INSERT INTO booking.outbox (booking_id, type, payload) VALUES (\(intent.bookingID), \(type), \(payload))", logger: logger
                )
            }
            return .applied
        }
    }
}

/// What the saga tells the rest of the world (through the outbox and the notifications stream).
public struct SagaNotification: Sendable, Hashable, Codable {
    public var type: String
    public var bookingID: String
    public var eventID: String
    public var userID: String
    public var paymentID: String
    public var amount: Int
    public var currency: String
    public var confirmationCode: String?

    enum CodingKeys: String, CodingKey {
        case type, bookingID = "booking_id", eventID = "event_id", userID = "user_id", paymentID = "payment_id"
        case amount, currency, confirmationCode = "confirmation_code"
    }
}
