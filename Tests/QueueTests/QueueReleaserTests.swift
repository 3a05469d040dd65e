import Logging
import Queue
import Redis
import Testing

@Suite("The releaser and rooms that disappear")
struct QueueReleaserTests {
    @Test("a room whose keys are gone leaves the index after one release round; a room configured again stays")
    func vanishedRoom() async throws {
        try await QueueTestSupport.withRoom(RoomConfiguration(mode: .queue, releaseRate: 10)) { room, event in
            let releaser = QueueReleaser(room: room, interval: .zero, logger: Logger(label: "releaser-tests"))
            try await room.redis.send("DEL", QueueKeys(event: event, in: room.redis.keySpace).room)
            #expect(try await room.events().contains(event), "still indexed before the releaser runs")
            await #expect(throws: QueueError.roomNotFound(event: event)) { _ = try await room.release(event: event) }
            await releaser.releaseAll()
            #expect(try await !room.events().contains(event), "dropped from the index: no gateway releases it again")

            try await room.configure(event: event, RoomConfiguration(mode: .queue, releaseRate: 10))
            #expect(try await room.forget(event: event) == false, "a live room is never forgotten")
            await releaser.releaseAll()
            #expect(try await room.events().contains(event))
        }
    }
}
