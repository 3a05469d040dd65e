import Foundation
import Logging
import PostgresNIO
import ServiceKit

/// Payment intents in Postgres. Every status change and the webhook that announces it are
/// written in one transaction (`payments.webhook_deliveries` is the service's outbox).
public struct PaymentStore: Sendable {
    let postgres: PostgresClient
    let logger: Logger

    public init(postgres: PostgresClient, logger: Logger) {
        self.postgres = postgres
        self.logger = logger
    }

    static let columns = "id, booking_id, event_id, user_id, amount_minor, currency, status, client_secret, failure"

    /// The booking's intent, created (with its `payment_intent.created` webhook) if it has none;
    /// `created` tells which.
    public func intent(for booking: PayableBooking, user: String) async throws -> (intent: PaymentIntent, created: Bool) {
        let id = "pi_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
        let secret = id + "_secret_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
        let created = try await postgres.withTransaction(logger: logger) { connection -> PaymentIntent? in
            let rows = try await connection.query("""
                INSERT INTO payments.intents (id, booking_id, event_id, user_id, amount_minor, currency, status, client_secret)
                VALUES (\(id), \(booking.bookingID), \(booking.eventID), \(user), \(Int64(booking.total)), \(booking.currency), 'requires_confirmation', \(secret))
                ON CONFLICT (booking_id) DO NOTHING RETURNING \(unescaped: Self.columns)
                """, logger: logger)
            guard let intent = try await Self.intents(rows).first else { return nil }
            try await Self.enqueue(PaymentEvent(type: .created, data: intent), on: connection, logger: logger)
            return intent
        }
        if let created { return (created, true) }
        guard let existing = try await intent(bookingID: booking.bookingID), existing.userID == user else { throw PaymentsError.bookingNotFound }
        return (existing, false)
    }

    public func intent(id: String) async throws -> PaymentIntent? {
        try await Self.intents(postgres.query("SELECT \(unescaped: Self.columns) FROM payments.intents WHERE id = \(id)", logger: logger)).first
    }

    public func intent(bookingID: String) async throws -> PaymentIntent? {
        try await Self.intents(postgres.query("SELECT \(unescaped: Self.columns) FROM payments.intents WHERE booking_id = \(bookingID)", logger: logger)).first
    }

    /// Moves the intent from one of `from` to `to`, recording `event` with it; nil when it was in
    /// another status (someone else moved it first).
    public func transition(
        _ id: String,
        from: [PaymentIntent.Status],
        to: PaymentIntent.Status,
        paymentMethod: String? = nil,
        failure: String? = nil,
        settlesIn: Duration? = nil,
        announcing event: PaymentEvent.Kind? = nil
    ) async throws -> PaymentIntent? {
        let settles = settlesIn.map { Date().addingTimeInterval(Double($0 / .milliseconds(1)) / 1000) }
        return try await postgres.withTransaction(logger: logger) { connection -> PaymentIntent? in
            let rows = try await connection.query("""
                UPDATE payments.intents SET status = \(to.rawValue), payment_method = COALESCE(\(paymentMethod), payment_method),
                    failure = COALESCE(\(failure), failure), settles_at = \(settles), updated_at = now()
                WHERE id = \(id) AND status = ANY(\(from.map(\.rawValue)))
                RETURNING \(unescaped: Self.columns)
                """, logger: logger)
            guard let intent = try await Self.intents(rows).first else { return nil }
            if let event { try await Self.enqueue(PaymentEvent(type: event, data: intent), on: connection, logger: logger) }
            return intent
        }
    }

    /// Intents still processing whose result is due, with their payment method.
    public func dueSettlements(limit: Int = 50) async throws -> [(id: String, method: String, amount: Int, currency: String)] {
        let rows = try await postgres.query("""
            SELECT id, COALESCE(payment_method, ''), amount_minor, currency FROM payments.intents
            WHERE status = 'processing' AND settles_at <= now() ORDER BY settles_at LIMIT \(limit)
            """, logger: logger)
        var due: [(id: String, method: String, amount: Int, currency: String)] = []
        for try await (id, method, amount, currency) in rows.decode((String, String, Int64, String).self) {
            due.append((id, method, Int(amount), currency))
        }
        return due
    }

    static func enqueue(_ event: PaymentEvent, on connection: PostgresConnection, logger: Logger) async throws {
        let payload = String(decoding: try JSONEncoder.sortedKeys.encode(event), as: UTF8.self)
        try await connection.query("""
            INSERT INTO payments.webhook_deliveries (event_id, payment_id, type, payload)
            VALUES (\(event.id), \(event.data.paymentID), \(event.type.rawValue), \(payload))
            """, logger: logger)
    }

    static func intents(_ rows: PostgresRowSequence) async throws -> [PaymentIntent] {
        var intents: [PaymentIntent] = []
        for try await (id, booking, event, user, amount, currency, status, secret, failure) in rows.decode(
            (String, String, String, String, Int64, String, String, String, String?).self
        ) {
            intents.append(PaymentIntent(
                paymentID: id, bookingID: booking, eventID: event, userID: user, amount: Int(amount), currency: currency,
                status: PaymentIntent.Status(rawValue: status) ?? .failed, clientSecret: secret, failure: failure
            ))
        }
        return intents
    }
}
