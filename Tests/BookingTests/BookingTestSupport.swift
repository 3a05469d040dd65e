import Booking
import Database
import Foundation
import Logging
import PostgresNIO
import Redis
import Synchronization

let bookingTestLogger = Logger(label: "booking-tests")

/// A migrated test database and a Redis client, for one test; Redis is shut down afterwards.
func withStores(_ body: @Sendable (PostgresClient, RedisClient) async throws -> Void) async throws {
    let url = ProcessInfo.processInfo.environment["TEST_DATABASE_URL"] ?? "postgres://booking_rush:booking_rush@127.0.0.1:15432/booking_rush_test"
    try await withPostgresClient(configuration: try PostgresClient.Configuration(url: url), logger: bookingTestLogger) { postgres in
        try await MigrationRunner(migrations: try Migration.embedded(), logger: bookingTestLogger).run(on: postgres)
        var configuration = try RedisConfiguration(url: ProcessInfo.processInfo.environment["REDIS_URL"] ?? "redis://127.0.0.1:16379/0")
        configuration.commandTimeout = .seconds(10)
        let redis = RedisClient(configuration: configuration)
        let created = CreatedEvents()
        do {
            try await CreatedEvents.$current.withValue(created) { try await body(postgres, redis) }
        } catch {
            await created.deleteRedisKeys(redis: redis)
            await redis.shutdown()
            throw error
        }
        await created.deleteRedisKeys(redis: redis)
        await redis.shutdown()
    }
}

/// The events a test published with ``publishedEvent(_:prefix:seats:maxPerUser:)``: their Redis
/// keys are deleted when ``withStores(_:)`` ends, whether the test passed or not.
final class CreatedEvents: Sendable {
    @TaskLocal static var current: CreatedEvents?
    private let events = Mutex<[String]>([])

    func add(_ event: String) { events.withLock { $0.append(event) } }

    func deleteRedisKeys(redis: RedisClient) async {
        for event in events.withLock({ $0 }) { try? await BookingTests.deleteRedisKeys(of: event, redis: redis) }
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
    CreatedEvents.current?.add(event)
    return event
}

/// Removes an event's Redis keys.
func deleteRedisKeys(of event: String, redis: RedisClient) async throws {
    try await redis.delete(matching: "bk:{evt:\(event)}:*")
    try await redis.send("SREM", BookingKeys.events, event)
    try await redis.send("SREM", BookingKeys.eventsWithDeadLetters, event)
}
