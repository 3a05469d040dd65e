import AsyncHTTPClient
import Crypto
import Hummingbird
import Logging
import NIOCore
import PostgresNIO
import ServiceKit
import ServiceLifecycle

/// Where the payments service finds the booking service, and its secrets.
public struct PaymentsConfiguration: Sendable {
    /// Base URL of the booking service (bookings are read from it, never from the client).
    public var bookingURL: String
    /// Where payment webhooks go: the booking service's `/webhooks/payments`.
    public var webhookURL: String
    /// Key of the webhook signature, shared with the booking service (`WEBHOOK_SECRET`).
    public var webhookSecret: [UInt8]
    /// Key of the identity signature, shared with the gateway (`INTERNAL_SECRET`).
    public var internalSecret: [UInt8]
    public var processor: any PaymentProcessor
    public var backoff: RetryBackoff

    /// The webhook secret used when `WEBHOOK_SECRET` is not set: for local development only.
    public static let developmentWebhookSecret = WebhookSignature.developmentSecret

    public init(
        bookingURL: String = "http://127.0.0.1:8081",
        webhookURL: String? = nil,
        webhookSecret: [UInt8] = PaymentsConfiguration.developmentWebhookSecret,
        internalSecret: [UInt8] = GatewaySignature.developmentSecret,
        processor: any PaymentProcessor = TestCardProcessor(),
        backoff: RetryBackoff = WebhookDispatcher.defaultBackoff
    ) {
        self.bookingURL = bookingURL.hasSuffix("/") ? String(bookingURL.dropLast()) : bookingURL
        self.webhookURL = webhookURL ?? self.bookingURL + "/webhooks/payments"
        self.webhookSecret = webhookSecret
        self.internalSecret = internalSecret
        self.processor = processor
        self.backoff = backoff
    }
}

/// Builds the payments service's HTTP application. Every error leaves as `application/problem+json`.
public func buildPaymentsApplication(
    address: ServiceAddress,
    postgres: PostgresClient,
    configuration: PaymentsConfiguration = .init(),
    httpClient: HTTPClient = .shared,
    logger: Logger,
    onServerRunning: @escaping @Sendable (any Channel) async -> Void = { _ in }
) -> some ApplicationProtocol {
    let router = makeServiceRouter(context: ISO8601RequestContext.self, checks: [
        ReadinessCheck(name: "postgres") { try await postgres.query("SELECT 1", logger: logger) },
    ])
    let store = PaymentStore(postgres: postgres, logger: logger)
    router.add(middleware: GatewayIdentityMiddleware(secret: configuration.internalSecret, service: ServiceName.payments))
    PaymentRoutes(
        store: store, flow: PaymentFlow(store: store, processor: configuration.processor, logger: logger),
        lookup: BookingLookup(client: httpClient, baseURL: configuration.bookingURL, key: SymmetricKey(data: configuration.internalSecret)), logger: logger
    ).addRoutes(to: router)
    return makeServiceApplication(router: router, address: address, serverName: "booking-rush-payments", logger: logger, onServerRunning: onServerRunning)
}

/// The payments service's background work: webhook delivery and settlement of delayed charges.
public func paymentsWorkers(postgres: PostgresClient, configuration: PaymentsConfiguration = .init(), httpClient: HTTPClient = .shared, logger: Logger) -> [any Service] {
    let flow = PaymentFlow(store: PaymentStore(postgres: postgres, logger: logger), processor: configuration.processor, logger: logger)
    return [
        WebhookDispatcher(postgres: postgres, client: httpClient, url: configuration.webhookURL, secret: configuration.webhookSecret, backoff: configuration.backoff, logger: logger),
        PaymentSettler(flow: flow, logger: logger),
    ]
}
