import Crypto
import Hummingbird
import Logging
import PostgresNIO
import Redis
import ServiceKit

/// Builds the booking service's HTTP application: catalog and bookings. Identity comes from the
/// gateway's signed fields (`internalSecret` is the gateway's `INTERNAL_SECRET`). Every error
/// leaves as `application/problem+json`. Reservations hold their seats for `hold`.
public func buildBookingApplication(
    address: ServiceAddress,
    redis: RedisClient,
    postgres: PostgresClient,
    internalSecret: [UInt8] = GatewaySignature.developmentSecret,
    hold: Duration = .seconds(600),
    logger: Logger
) -> some ApplicationProtocol {
    let router = makeServiceRouter(context: ISO8601RequestContext.self, checks: [
        ReadinessCheck(name: "redis") { try await redis.ping() },
        ReadinessCheck(name: "postgres") { try await postgres.query("SELECT 1", logger: logger) },
    ])
    let key = SymmetricKey(data: internalSecret)
    let inventory = Inventory(redis: redis)
    EventRoutes(catalog: Catalog(postgres: postgres, inventory: inventory, hold: hold, logger: logger), inventory: inventory, postgres: postgres, key: key, logger: logger)
        .addRoutes(to: router)
    BookingRoutes(inventory: inventory, postgres: postgres, key: key, logger: logger).addRoutes(to: router)
    return makeServiceApplication(router: router, address: address, serverName: "booking-rush-booking", logger: logger)
}
