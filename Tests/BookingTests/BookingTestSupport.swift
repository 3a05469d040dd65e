import Booking
import Database
import Foundation
import Logging
import PostgresNIO
import Redis
import ServiceTestSupport

let bookingTestLogger = Logger(label: "booking-tests")

/// A migrated test database and a Redis client in a key space of its own, for one test; the
/// space's keys are deleted afterwards, whether the test passed or not.
func withStores(_ body: @Sendable (PostgresClient, RedisClient) async throws -> Void) async throws {
    let url = ProcessInfo.processInfo.environment["TEST_DATABASE_URL"] ?? "postgres://booking_rush:booking_rush@127.0.0.1:15432/booking_rush_test"
    try await withPostgresClient(configuration: try PostgresClient.Configuration(url: url), logger: bookingTestLogger) { postgres in
        try await MigrationRunner(migrations: try Migration.embedded(), logger: bookingTestLogger).run(on: postgres)
        try await TestRedis.withClient(commandTimeout: .seconds(10)) { redis in try await body(postgres, redis) }
    }
}

/// A new published event `prefix-<random>` with one zone `floor`, in Postgres and Redis.
func publishedEvent(_ catalog: Catalog, prefix: String, seats: Int, maxPerUser: Int = 10) async throws -> String {
    let event = "\(prefix)-\(UUID().uuidString.prefix(8).lowercased())"
    try await catalog.create(CatalogEvent(
        id: event, name: "Flash sale", venue: "Arena", startsAt: Date().addingTimeInterval(86_400), maxPerUser: maxPerUser,
        zones: [CatalogZone(id: "floor", name: "Floor", priceMinor: 5_000, currency: "EUR", capacity: seats)]
    ), organizer: "org-1")
    try await catalog.publish(event: event)
    return event
}

/// One published event (see `publishedEvent`) in the stores of `withStores`, with the inventory
/// and catalog that made it.
struct PublishedSale: Sendable {
    let postgres: PostgresClient
    let redis: RedisClient
    let inventory: Inventory
    let event: String

    var keys: BookingKeys { BookingKeys(event: event, in: redis.keySpace) }
}

/// Runs `body` with a published event of `seats` seats whose holds last `hold`.
func withPublishedSale(prefix: String, seats: Int, hold: Duration = .seconds(600), _ body: @Sendable (PublishedSale) async throws -> Void) async throws {
    try await withStores { postgres, redis in
        let inventory = Inventory(redis: redis)
        let catalog = Catalog(postgres: postgres, inventory: inventory, hold: hold, logger: bookingTestLogger)
        let event = try await publishedEvent(catalog, prefix: prefix, seats: seats)
        try await body(PublishedSale(postgres: postgres, redis: redis, inventory: inventory, event: event))
    }
}
