import AsyncHTTPClient
import Crypto
import Hummingbird
import Logging
import NIOCore
import PostgresNIO
import Redis
import ServiceKit
import ServiceLifecycle

/// Settings of the booking service.
public struct BookingConfiguration: Sendable {
    /// Key of the gateway's identity signature (`INTERNAL_SECRET`), also used toward payments.
    public var internalSecret: [UInt8]
    /// Key of the payments service's webhook signature (`WEBHOOK_SECRET`).
    public var webhookSecret: [UInt8]
    /// Base URL of the payments service, for refunds.
    public var paymentsURL: String
    /// How long a reservation holds its seats.
    public var hold: Duration
    /// How long a hold is kept from the first payment attempt, however late that came in the
    /// hold: the time a card or a delayed webhook has to settle before the seats go back.
    public var paymentGrace: Duration

    public init(
        internalSecret: [UInt8] = GatewaySignature.developmentSecret,
        webhookSecret: [UInt8] = WebhookSignature.developmentSecret,
        paymentsURL: String = "http://127.0.0.1:8082",
        hold: Duration = .seconds(600),
        paymentGrace: Duration = .seconds(900)
    ) {
        self.internalSecret = internalSecret
        self.webhookSecret = webhookSecret
        self.paymentsURL = paymentsURL
        self.hold = hold
        self.paymentGrace = paymentGrace
    }
}

/// Builds the booking service's HTTP application: catalog, bookings and the payment webhook.
/// Identity comes from the gateway's signed fields. Every error leaves as `application/problem+json`.
public func buildBookingApplication(
    address: ServiceAddress,
    redis: RedisClient,
    postgres: PostgresClient,
    configuration: BookingConfiguration = .init(),
    httpClient: HTTPClient = .shared,
    logger: Logger,
    onServerRunning: @escaping @Sendable (any Channel) async -> Void = { _ in }
) -> some ApplicationProtocol {
    let router = makeServiceRouter(context: ISO8601RequestContext.self, checks: [
        ReadinessCheck(name: "redis") { try await redis.ping() },
        ReadinessCheck(name: "postgres") { try await postgres.query("SELECT 1", logger: logger) },
        ReadinessCheck(name: "dead-letters", advisory: true) {
            let counts = try await BookingPersister.flaggedDeadLetters(redis: redis)
            if !counts.isEmpty { throw DeadLettersPresent(counts: counts) }
        },
    ])
    router.add(middleware: GatewayIdentityMiddleware(secret: configuration.internalSecret, service: ServiceName.booking))
    let inventory = Inventory(redis: redis)
    let catalog = Catalog(postgres: postgres, inventory: inventory, hold: configuration.hold, logger: logger)
    EventRoutes(catalog: catalog, inventory: inventory, postgres: postgres, logger: logger).addRoutes(to: router)
    let bookings = BookingRoutes(inventory: inventory, postgres: postgres, paymentGrace: configuration.paymentGrace, logger: logger)
    bookings.addRoutes(to: router)
    let refunds = RefundRequester(client: httpClient, paymentsURL: configuration.paymentsURL, internalSecret: configuration.internalSecret, logger: logger)
    WebhookRoutes(saga: BookingSaga(inventory: inventory, postgres: postgres, refunds: refunds, logger: logger), key: SymmetricKey(data: configuration.webhookSecret))
        .addRoutes(to: router)
    // Reservations carry a sale's load: answered on the event loop, unless a tracer wants the router's spans.
    let fastRoutes = isTracingInstalled ? [] : [bookings.fastReserve(signer: GatewaySigner(key: SymmetricKey(data: configuration.internalSecret)))]
    return makeServiceApplication(
        router: router, fastRoutes: fastRoutes, address: address, serverName: "booking-rush-booking", logger: logger, onServerRunning: onServerRunning
    )
}

/// The booking service's background work: the hold sweeper, the Redis-to-Postgres persister and
/// the saga worker (outbox relay, refund retries).
public func bookingWorkers(
    redis: RedisClient,
    postgres: PostgresClient,
    configuration: BookingConfiguration = .init(),
    httpClient: HTTPClient = .shared,
    logger: Logger
) -> [any Service] {
    let refunds = RefundRequester(client: httpClient, paymentsURL: configuration.paymentsURL, internalSecret: configuration.internalSecret, logger: logger)
    return [
        HoldSweeper(inventory: Inventory(redis: redis), logger: logger),
        SalesHistoryRecorder(inventory: Inventory(redis: redis), logger: logger),
        BookingPersister(redis: redis, postgres: postgres, logger: logger),
        SagaWorker(postgres: postgres, redis: redis, refunds: refunds, logger: logger),
    ]
}
