import Hummingbird
import Logging
import PostgresNIO
import ServiceKit

/// Settings of the payments service process.
public struct PaymentsConfiguration: Sendable {
    public var host: String
    public var port: Int

    public init(host: String = "127.0.0.1", port: Int = 8082) {
        self.host = host
        self.port = port
    }
}

/// Builds the payments service's HTTP application. Every error leaves as `application/problem+json`.
public func buildPaymentsApplication(
    configuration: PaymentsConfiguration,
    postgres: PostgresClient,
    logger: Logger
) -> some ApplicationProtocol {
    let router = Router()
    router.add(middleware: MetricsMiddleware())
    router.add(middleware: ProblemMiddleware())
    router.addHealthRoutes([
        ReadinessCheck(name: "postgres") { try await postgres.query("SELECT 1", logger: logger) },
    ])
    router.addMetricsRoute()
    return Application(
        router: router,
        configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "booking-rush-payments"),
        logger: logger
    )
}
