import Hummingbird
import Logging
import PostgresNIO
import ServiceKit

/// Builds the payments service's HTTP application. Every error leaves as `application/problem+json`.
public func buildPaymentsApplication(
    address: ServiceAddress,
    postgres: PostgresClient,
    logger: Logger
) -> some ApplicationProtocol {
    let router = makeServiceRouter(checks: [
        ReadinessCheck(name: "postgres") { try await postgres.query("SELECT 1", logger: logger) },
    ])
    return makeServiceApplication(router: router, address: address, serverName: "booking-rush-payments", logger: logger)
}
