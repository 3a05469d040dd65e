import Booking
import Database
import Foundation
import Logging
import PostgresNIO
import Queue
import Redis
import ServiceTestSupport
import Testing

@Suite("Redis key spaces: deployments sharing one Redis database share no key")
struct KeySpaceTests {
    static let logger = Logger(label: "key-space-tests")

    @Test("the standard space keeps the keys existing deployments have; a space is 1–48 of A-Z a-z 0-9 - _ .")
    func names() throws {
        #expect(QueueKeys(event: "demo", in: .standard).room == "bk:{evt:demo}:room")
        #expect(QueueKeys.rooms(in: .standard) == "bk:rooms")
        #expect(BookingKeys(event: "demo", in: .standard).zone("floor") == "bk:{evt:demo}:zone:floor")
        #expect(BookingKeys.events(in: .standard) == "bk:booking-events")
        #expect(SagaWorker.notifications(in: .standard) == "bk:notifications")
        let staging = try RedisKeySpace("staging")
        #expect(QueueKeys(event: "demo", in: staging).prefix == "staging:{evt:demo}:")
        #expect(RedisClusterSlot.of(Array(QueueKeys(event: "demo", in: staging).room.utf8)) == RedisClusterSlot.of(Array("evt:demo".utf8)),
                "the hash tag, and so the slot, is the event's in every space")
        for bad in ["", "a:b", "{evt}", "a*", "a b", String(repeating: "x", count: 49)] {
            #expect(throws: RedisConfigurationError.invalidKeySpace(bad)) { try RedisKeySpace(bad) }
        }
        #expect(RedisKeySpace.unique() != RedisKeySpace.unique())
        #expect(RedisConfiguration().keySpace == .standard)
    }

    @Test("rooms and events of one space are invisible to another on the same database, even under the same event id")
    func separation() async throws {
        try await TestRedis.withClient { first in
            try await TestRedis.withClient { second in
                let event = "shared-\(UUID().uuidString.prefix(8).lowercased())"
                let (one, two) = (WaitingRoom(redis: first), WaitingRoom(redis: second))
                try await one.configure(event: event, RoomConfiguration(mode: .queue, releaseRate: 5))
                #expect(try await one.events() == [event])
                #expect(try await two.events() == [], "the other space's releaser would never see this room")
                await #expect(throws: QueueError.roomNotFound(event: event)) { _ = try await two.join(event: event, visitor: "v") }

                try await two.configure(event: event, RoomConfiguration(mode: .queue, releaseRate: 50))
                _ = try await one.join(event: event, visitor: "v1")
                _ = try await one.join(event: event, visitor: "v2")
                #expect(try await one.stats(event: event).waiting == 2)
                #expect(try await two.stats(event: event).waiting == 0)
                #expect(try await one.stats(event: event).configuredRate == 5, "configuring the same id elsewhere changed nothing here")

                let inventory = Inventory(redis: first)
                try await inventory.configureSale(event: event, SaleSettings())
                try await inventory.createZone(event: event, zone: "floor", capacity: 10, price: 100, currency: "EUR")
                _ = try await inventory.reserve(event: event, zone: "floor", user: "u1", quantity: 1)
                #expect(try await first.setMembers(BookingKeys.events(in: first.keySpace)) == [event])
                #expect(try await second.setMembers(BookingKeys.events(in: second.keySpace)) == [])
                let url = ProcessInfo.processInfo.environment["TEST_DATABASE_URL"] ?? "postgres://booking_rush:booking_rush@127.0.0.1:15432/booking_rush_test"
                try await withPostgresClient(configuration: try PostgresClient.Configuration(url: url), logger: Self.logger) { postgres in
                    let progress = try await BookingPersister(redis: second, postgres: postgres, logger: Self.logger).persistAll()
                    #expect(progress.events == 0, "another space's persister claims none of this space's stream entries")
                }
                #expect(try await first.streamLength(inventory.keys(event).stream) == 1, "the entry waits for its own space's persister")
            }
        }
    }

    @Test("deleting a test's key space removes every key it wrote and nothing else")
    func cleanup() async throws {
        let outsider = RedisClient(configuration: try TestRedis.configuration())
        let kept = outsider.keySpace.key("kept")
        try await outsider.set(kept, to: "1")
        let redis = RedisClient(configuration: try TestRedis.configuration())
        let room = WaitingRoom(redis: redis)
        try await room.configure(event: "gone", RoomConfiguration(mode: .queue, releaseRate: 1))
        _ = try await room.join(event: "gone", visitor: "v")
        #expect(try await outsider.send("EXISTS", QueueKeys(event: "gone", in: redis.keySpace).room).int == 1)
        await TestRedis.deleteKeySpace(of: redis)
        #expect(try await outsider.send("KEYS", redis.keySpace.pattern).array?.isEmpty == true)
        #expect(try await outsider.exists(kept))
        await TestRedis.deleteKeySpace(of: outsider)
    }
}
