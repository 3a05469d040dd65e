import Hummingbird
import Logging
import Queue
import Redis
import ServiceKit
import ServiceLifecycle

/// Builds the gateway's HTTP application, with the releaser running beside the server.
/// Every error leaves as `application/problem+json`.
public func buildGatewayApplication(
    configuration: GatewayConfiguration,
    redis: RedisClient,
    logger: Logger
) async throws -> some ApplicationProtocol {
    let room = WaitingRoom(redis: redis)
    let keys = PassKeyRing(redis: redis, issuer: configuration.passIssuer, namespace: configuration.passKeyNamespace)
    do {
        try await keys.bootstrap()
    } catch {
        logger.warning("queue-pass keys not loaded yet; the releaser retries", metadata: ["error": "\(error)"])
    }
    let router = buildGatewayRouter(configuration: configuration, room: room, keys: keys)
    var services: [any Service] = []
    if configuration.releaseInterval > .zero {
        services.append(QueueReleaser(room: room, keys: keys, interval: configuration.releaseInterval, logger: logger))
    }
    return Application(
        router: router,
        configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "booking-rush-gateway"),
        services: services,
        logger: logger
    )
}

/// The gateway's routes: health, the waiting room's API and page, JWKS, and the admin API.
public func buildGatewayRouter(configuration: GatewayConfiguration, room: WaitingRoom, keys: PassKeyRing) -> Router<BasicRequestContext> {
    let router = Router()
    router.add(middleware: ProblemMiddleware())
    router.addHealthRoutes([ReadinessCheck(name: "redis") { try await room.redis.ping() }])
    let queue = QueueHTTP(
        room: room, keys: keys, tickets: VisitorTickets(secret: configuration.visitorTicketSecret),
        secureCookies: configuration.secureCookies
    )
    queue.addRoutes(to: router)
    queue.addPage(to: router)
    router.get(".well-known/jwks.json") { _, _ -> Response in
        var response = try Response.json(keys.jwks)
        response.headers[.cacheControl] = "public, max-age=60"
        return response
    }
    AdminRoutes(room: room, keys: keys, adminToken: configuration.adminToken).addRoutes(to: router)
    return router
}
