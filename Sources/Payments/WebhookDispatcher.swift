import AsyncHTTPClient
import Crypto
import Foundation
import Logging
import NIOCore
import PostgresNIO
import ServiceKit
import ServiceLifecycle

/// Delivers the webhooks in `payments.webhook_deliveries` to the booking service, signed
/// Stripe-style, until each is acknowledged with a 2xx. Failed deliveries wait with exponential
/// backoff and jitter (`RetryBackoff`). Rows are taken `FOR UPDATE SKIP LOCKED` inside a transaction, so
/// any number of payments instances can deliver side by side without sending one twice at once.
public struct WebhookDispatcher: Service {
    /// 0.5 s, doubling, up to 5 minutes.
    public static let defaultBackoff = RetryBackoff(base: .milliseconds(500), maximum: .seconds(300))

    let postgres: PostgresClient
    let client: HTTPClient
    let url: String
    let key: SymmetricKey
    let backoff: RetryBackoff
    let batchSize: Int
    let logger: Logger

    public init(postgres: PostgresClient, client: HTTPClient, url: String, secret: [UInt8], backoff: RetryBackoff = WebhookDispatcher.defaultBackoff, batchSize: Int = 20, logger: Logger) {
        self.postgres = postgres
        self.client = client
        self.url = url
        self.key = SymmetricKey(data: secret)
        self.backoff = backoff
        self.batchSize = batchSize
        self.logger = logger
    }

    public func run() async throws {
        await PeriodicWorker.run("webhook delivery", every: .milliseconds(100), retryAfter: .seconds(1), logger: logger) {
            try await deliverDue() == 0 ? .idle : .busy
        }
    }

    /// Sends every delivery that is due (one batch); returns how many were attempted.
    @discardableResult
    public func deliverDue() async throws -> Int {
        try await postgres.withTransaction(logger: logger) { connection in
            let rows = try await connection.query("""
                SELECT event_id, payload, attempts FROM payments.webhook_deliveries
                WHERE delivered_at IS NULL AND next_attempt_at <= now()
                ORDER BY created_at LIMIT \(batchSize) FOR UPDATE SKIP LOCKED
                """, logger: logger)
            var due: [(id: String, payload: String, attempts: Int)] = []
            for try await row in rows.decode((String, String, Int).self) { due.append(row) }
            let results = await withTaskGroup(of: (String, Int, String?).self) { group in
                for delivery in due {
                    group.addTask { (delivery.id, delivery.attempts, await send(delivery.payload)) }
                }
                return await group.reduce(into: []) { $0.append($1) }
            }
            for (id, attempts, failure) in results {
                if let failure {
                    let wait = backoff.delay(afterAttempt: attempts)
                    let next = Date().addingTimeInterval(Double(wait / .milliseconds(1)) / 1000)
                    try await connection.query("""
                        UPDATE payments.webhook_deliveries SET attempts = attempts + 1, next_attempt_at = \(next), last_error = \(failure)
                        WHERE event_id = \(id)
                        """, logger: logger)
                } else {
                    try await connection.query(
                        "UPDATE payments.webhook_deliveries SET attempts = attempts + 1, delivered_at = now(), last_error = NULL WHERE event_id = \(id)",
                        logger: logger
                    )
                }
            }
            return due.count
        }
    }

    /// Posts one payload; nil when acknowledged, else why not.
    private func send(_ payload: String) async -> String? {
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.headers.add(name: WebhookSignature.header, value: WebhookSignature.sign(body: Array(payload.utf8), key: key))
        request.body = .bytes(ByteBuffer(string: payload))
        do {
            let response = try await client.execute(request, timeout: .seconds(5))
            _ = try? await response.body.collect(upTo: 1 << 16)
            return (200..<300).contains(response.status.code) ? nil : "HTTP \(response.status.code)"
        } catch {
            return "\(error)"
        }
    }
}

/// Settles intents whose result is due (delayed cards, charges orphaned by a crash).
public struct PaymentSettler: Service {
    let flow: PaymentFlow
    let interval: Duration
    let logger: Logger

    public init(flow: PaymentFlow, interval: Duration = .milliseconds(250), logger: Logger) {
        self.flow = flow
        self.interval = interval
        self.logger = logger
    }

    public func run() async throws {
        await PeriodicWorker.run("settling payments", every: interval, logger: logger) { try await flow.settleDue() }
    }
}
