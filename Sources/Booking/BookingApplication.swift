import Hummingbird
import Logging
import PostgresNIO
import Redis
import ServiceKit

/// Builds the booking service's HTTP application. Every error leaves as `application/problem+json`.
public func buildBookingApplication(
    address: ServiceAddress,
    redis: RedisClient,
    postgres: PostgresClient,
    logger: Logger
) -> some ApplicationProtocol {
    let router = makeServiceRouter(checks: [
        ReadinessCheck(name: "redis") { try await redis.ping() },
        ReadinessCheck(name: "postgres") { try await postgres.query("SELECT 1", logger: logger) },
    ])
    return makeServiceApplication(router: router, address: address, serverName: "booking-rush-booking", logger: logger)
}
