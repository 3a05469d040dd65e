import Hummingbird
import Logging
import Redis
import ServiceKit

/// Settings of the gateway process.
public struct GatewayConfiguration: Sendable {
    public var host: String
    public var port: Int

    public init(host: String = "127.0.0.1", port: Int = 8080) {
        self.host = host
        self.port = port
    }
}

/// Builds the gateway's HTTP application. Every error leaves as `application/problem+json`.
public func buildGatewayApplication(
    configuration: GatewayConfiguration,
    redis: RedisClient,
    logger: Logger
) -> some ApplicationProtocol {
    let router = Router()
    router.add(middleware: ProblemMiddleware())
    router.addHealthRoutes([ReadinessCheck(name: "redis") { try await redis.ping() }])
    return Application(
        router: router,
        configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "booking-rush-gateway"),
        logger: logger
    )
}
