import Foundation
import Logging
import PostgresNIO
import Redis
import ServiceKit
import ServiceLifecycle

/// The saga's background work: relays the outbox to the `SPACE:notifications` Redis Stream, and
/// asks again for refunds not yet confirmed by a `charge.refunded` webhook, with backoff. Rows
/// are taken `FOR UPDATE SKIP LOCKED` inside a transaction, so several booking instances share
/// the work without doing any row twice at once; a crash after the `XADD` but before the commit
/// relays that row again (notifications carry the outbox id, for consumers to drop repeats).
public struct SagaWorker: Service {
    /// The stream the outbox is relayed to in `space`: `SPACE:notifications`.
    public static func notifications(in space: RedisKeySpace) -> String { space.key("notifications") }
    /// Refunds the payments service refused or did not answer: 1 s, doubling, up to 256 s.
    static let refundBackoff = RetryBackoff(base: .seconds(1), maximum: .seconds(256))
    /// How long an accepted refund may wait for its webhook before it is asked for again.
    static let refundConfirmationWait: Duration = .seconds(60)

    let postgres: PostgresClient
    let redis: RedisClient
    let refunds: RefundRequester
    let interval: Duration
    let logger: Logger

    public init(postgres: PostgresClient, redis: RedisClient, refunds: RefundRequester, interval: Duration = .milliseconds(200), logger: Logger) {
        self.postgres = postgres
        self.redis = redis
        self.refunds = refunds
        self.interval = interval
        self.logger = logger
    }

    public func run() async throws {
        await PeriodicWorker.run("the saga worker", every: interval, retryAfter: .seconds(1), logger: logger) {
            let relayed = try await relayOutbox()
            try await retryRefunds()
            return relayed == 0 ? .idle : .busy
        }
    }

    /// Relays up to 100 outbox rows; returns how many.
    @discardableResult
    public func relayOutbox() async throws -> Int {
        try await postgres.withTransaction(logger: logger) { connection in
            let rows = try await connection.query("""
                SELECT id, type, payload FROM booking.outbox WHERE relayed_at IS NULL ORDER BY id LIMIT 100 FOR UPDATE SKIP LOCKED
                """, logger: logger)
            var ids: [Int64] = []
            for try await (id, type, payload) in rows.decode((Int64, String, String).self) {
                try await redis.streamAdd(Self.notifications(in: redis.keySpace), trimmingTo: 100_000, [("outbox_id", Int(id)), ("type", type), ("payload", payload)])
                ids.append(id)
            }
            if !ids.isEmpty {
                try await connection.query("UPDATE booking.outbox SET relayed_at = now() WHERE id = ANY(\(ids))", logger: logger)
            }
            return ids.count
        }
    }

    /// Asks again for every refund that is due; a refund the payments service accepted is asked
    /// again only if its webhook has not come within a minute.
    public func retryRefunds() async throws {
        try await postgres.withTransaction(logger: logger) { connection in
            let rows = try await connection.query("""
                SELECT booking_id, payment_id, refund_attempts FROM booking.sagas
                WHERE state = 'refund_pending' AND next_refund_at <= now() ORDER BY next_refund_at LIMIT 20 FOR UPDATE SKIP LOCKED
                """, logger: logger)
            var due: [(booking: String, payment: String, attempts: Int)] = []
            for try await row in rows.decode((String, String, Int).self) { due.append(row) }
            for saga in due {
                let accepted = await refunds.request(paymentID: saga.payment, bookingID: saga.booking)
                let wait = (accepted ? Self.refundConfirmationWait : Self.refundBackoff.delay(afterAttempt: saga.attempts)) / .seconds(1)
                try await connection.query("""
                    UPDATE booking.sagas SET refund_attempts = refund_attempts + 1,
                        next_refund_at = now() + make_interval(secs => \(wait)) WHERE booking_id = \(saga.booking)
                    """, logger: logger)
            }
        }
    }
}
