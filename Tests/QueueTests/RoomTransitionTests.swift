import Foundation
import Queue
import Redis
import Testing

@Suite("Openings and mode switches treat those already waiting fairly")
struct RoomTransitionTests {
    @Test("a room switched to open admits those waiting, in their order, before newcomers")
    func openAdmitsWaiting() async throws {
        try await QueueTestSupport.withRoom(RoomConfiguration(mode: .paused, releaseRate: 1, passTTL: 60)) { room, event in
            let waiting = (0..<8).map { "waiting\($0)" }
            for visitor in waiting { _ = try await room.join(event: event, visitor: visitor) }
            try await room.setMode(event: event, .open)
            let newcomer = try await room.join(event: event, visitor: "newcomer")
            #expect(newcomer.place.position == 9, "a newcomer queues behind those still waiting: \(newcomer.place)")

            let released = try await room.release(event: event)
            #expect(released.admitted == 9, "all at once, whatever the release rate")
            var numbers: [Int] = []
            for visitor in waiting + ["newcomer"] {
                numbers.append(try #require(try await room.status(event: event, visitor: visitor).admission?.number))
            }
            #expect(numbers == Array(1...9), "admitted in join order")
            let later = try await room.join(event: event, visitor: "later")
            #expect(later.place.admission?.number == 10, "with nobody waiting, an open room admits at once")
        }
    }

    @Test("one release call pops a bounded number of entries, abandoned ones included")
    func boundedRelease() async throws {
        try await QueueTestSupport.withRoom(RoomConfiguration(mode: .paused, releaseRate: 1_000, idleTimeout: 5)) { room, event in
            for index in 0..<30 { _ = try await room.join(event: event, visitor: "v\(index)") }
            _ = try await room.release(event: event)
            try await room.setMode(event: event, .queue)
            try await Task.sleep(for: .milliseconds(50))
            let released = try await room.release(event: event, maxBatch: 10)
            #expect(released.admitted + released.abandoned <= 10)
            #expect(released.waiting == 20)
        }
    }

    @Test("at the opening, only pre-queue visitors who showed a sign of life within idle_timeout take part")
    func livenessBeforeLottery() async throws {
        let opensAt = Int64(Date().timeIntervalSince1970 * 1000) + 6_500
        try await QueueTestSupport.withRoom(RoomConfiguration(mode: .queue, releaseRate: 1_000, idleTimeout: 5, opensAt: opensAt)) { room, event in
            for visitor in ["polls", "parked-bot", "polls-too"] {
                guard case .prequeue(_, _, let idleTimeout) = try await room.join(event: event, visitor: visitor).place else {
                    Issue.record("expected a pre-queue place")
                    return
                }
                #expect(idleTimeout == 5, "the page learns how often it must show a sign of life")
            }
            while Int64(Date().timeIntervalSince1970 * 1000) < opensAt + 100 {
                _ = try await room.status(event: event, visitor: "polls")
                _ = try await room.status(event: event, visitor: "polls-too")
                try await Task.sleep(for: .milliseconds(500))
            }
            // A status poll just after the opening may admit its visitor itself: count every admission.
            _ = try await QueueTestSupport.drain(room, event: event)
            let stats = try await room.stats(event: event)
            #expect(stats.releasedTotal == 2, "\(stats)")
            #expect(stats.abandonedTotal == 1, "the silent bot: \(stats)")
            #expect(try await room.status(event: event, visitor: "polls").admission != nil)
            #expect(try await room.status(event: event, visitor: "polls-too").admission != nil)
            await #expect(throws: QueueError.placeLost) { try await room.status(event: event, visitor: "parked-bot") }
            #expect(try await room.describe(event: event).prequeueSize == 2, "the bot was never in the draw")
        }
    }
}
