import Crypto
import Database
import Foundation
import HTTPTypes
import Logging
import Payments
import PostgresNIO
import HummingbirdTesting
import ServiceKit
import ServiceTestSupport
import Synchronization

/// The test database with the payments schema, and a namespace of booking ids for one test:
/// every intent and webhook delivery made under it is deleted afterwards, passed or failed.
struct PaymentsTestStore: Sendable {
    static let logger = Logger(label: "payments-tests")
    static let internalSecret = Array("payments-tests-internal-secret-0123456789".utf8)

    let postgres: PostgresClient
    let store: PaymentStore
    /// Prefix of every booking id of this test.
    let namespace: String

    static func with(_ body: @Sendable (PaymentsTestStore) async throws -> Void) async throws {
        let url = ProcessInfo.processInfo.environment["TEST_DATABASE_URL"] ?? "postgres://booking_rush:booking_rush@127.0.0.1:15432/booking_rush_test"
        try await withPostgresClient(configuration: try PostgresClient.Configuration(url: url), logger: logger) { postgres in
            try await MigrationRunner(migrations: try Migration.embedded(), logger: logger).run(on: postgres)
            let fixture = PaymentsTestStore(
                postgres: postgres, store: PaymentStore(postgres: postgres, logger: logger), namespace: "pt-\(UUID().uuidString.prefix(8).lowercased())-"
            )
            do {
                try await body(fixture)
            } catch {
                try? await fixture.cleanUp()
                throw error
            }
            try await fixture.cleanUp()
        }
    }

    /// A live reservation of this test that the payments service would get from the booking service.
    func booking(_ name: String, total: Int = 5_000) throws -> PayableBooking {
        let json = """
            {"booking_id":"\(namespace)\(name)","event_id":"\(namespace)event","status":"reserved","total":\(total),"currency":"EUR",\
            "expires_at":"\(ISO8601DateFormatter().string(from: Date().addingTimeInterval(600)))"}
            """
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        return try decoder.decode(PayableBooking.self, from: Data(json.utf8))
    }

    /// An intent for a new booking of this test, owned by `user`.
    func intent(_ name: String, user: String = "buyer") async throws -> PaymentIntent {
        try await store.intent(for: try booking(name), user: user).intent
    }

    /// The webhook types recorded for a payment, oldest first.
    func webhooks(of payment: String) async throws -> [String] {
        var types: [String] = []
        let rows = try await postgres.query(
            "SELECT type FROM payments.webhook_deliveries WHERE payment_id = \(payment) ORDER BY created_at, event_id", logger: Self.logger
        )
        for try await type in rows.decode(String.self) { types.append(type) }
        return types
    }

    /// A delivery's attempts, whether it was delivered, and its last error.
    func delivery(of payment: String, type: String) async throws -> (attempts: Int, delivered: Bool, lastError: String?)? {
        let rows = try await postgres.query("""
            SELECT attempts, delivered_at IS NOT NULL, last_error FROM payments.webhook_deliveries
            WHERE payment_id = \(payment) AND type = \(type)
            """, logger: Self.logger)
        for try await row in rows.decode((Int, Bool, String?).self) { return row }
        return nil
    }

    /// Identity fields as the gateway sends them, signed by ``signing(_:)``'s client.
    static func identity(_ user: String, roles: Set<String>) -> HTTPFields {
        TestIdentity.fields(user, roles: roles)
    }

    /// `client` signing identities as the gateway does for the payments service.
    func signing(_ client: any TestClientProtocol) -> GatewaySigningClient {
        GatewaySigningClient(client, secret: Self.internalSecret, service: ServiceName.payments)
    }

    private func cleanUp() async throws {
        let pattern = namespace + "%"
        try await postgres.query("""
            DELETE FROM payments.webhook_deliveries WHERE payment_id IN (SELECT id FROM payments.intents WHERE booking_id LIKE \(pattern))
            """, logger: Self.logger)
        try await postgres.query("DELETE FROM payments.intents WHERE booking_id LIKE \(pattern)", logger: Self.logger)
    }
}

/// The offline test cards, counting what reaches the card network; each charge takes `latency`,
/// so concurrent confirmations overlap.
final class CountingProcessor: PaymentProcessor {
    private let cards: TestCardProcessor
    private let latency: Duration
    private let counts = Mutex<(charges: Int, refunds: Int)>((0, 0))

    init(delay: Duration = .milliseconds(100), latency: Duration = .milliseconds(50)) {
        self.cards = TestCardProcessor(delay: delay)
        self.latency = latency
    }

    var charges: Int { counts.withLock { $0.charges } }
    var refunds: Int { counts.withLock { $0.refunds } }

    func charge(amount: Int, currency: String, paymentMethod: String, idempotencyKey: String) async throws -> ChargeOutcome {
        counts.withLock { $0.charges += 1 }
        try await Task.sleep(for: latency)
        return try await cards.charge(amount: amount, currency: currency, paymentMethod: paymentMethod, idempotencyKey: idempotencyKey)
    }

    func retrieve(amount: Int, currency: String, paymentMethod: String, idempotencyKey: String) async throws -> ChargeOutcome {
        try await cards.retrieve(amount: amount, currency: currency, paymentMethod: paymentMethod, idempotencyKey: idempotencyKey)
    }

    func refund(paymentID: String, amount: Int, currency: String) async throws {
        counts.withLock { $0.refunds += 1 }
    }
}
