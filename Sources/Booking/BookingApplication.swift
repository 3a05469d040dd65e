import Hummingbird
import Logging
import PostgresNIO
import Redis
import ServiceKit

/// Settings of the booking service process.
public struct BookingConfiguration: Sendable {
    public var host: String
    public var port: Int

    public init(host: String = "127.0.0.1", port: Int = 8081) {
        self.host = host
        self.port = port
    }
}

/// Builds the booking service's HTTP application. Every error leaves as `application/problem+json`.
public func buildBookingApplication(
    configuration: BookingConfiguration,
    redis: RedisClient,
    postgres: PostgresClient,
    logger: Logger
) -> some ApplicationProtocol {
    let router = Router()
    router.add(middleware: MetricsMiddleware())
    router.add(middleware: ProblemMiddleware())
    router.addHealthRoutes([
        ReadinessCheck(name: "redis") { try await redis.ping() },
        ReadinessCheck(name: "postgres") { try await postgres.query("SELECT 1", logger: logger) },
    ])
    router.addMetricsRoute()
    return Application(
        router: router,
        configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "booking-rush-booking"),
        logger: logger
    )
}
