import NIOCore
import NIOPosix
import Queue
import Testing

@testable import Gateway

@Suite("Room guards: one lookup at a time, the next one started ahead of time")
struct RoomGuardsTests {
    @Test("many requests at once share one lookup; a due answer starts the next lookup and still answers; a change shows within a second")
    func lookups() async throws {
        try await GatewayFixture.with(RoomConfiguration(mode: .queue, releaseRate: 10)) { fixture in
            let guards = RoomGuards(room: fixture.room)
            let loop = MultiThreadedEventLoopGroup.singleton.any()
            let event = fixture.event

            let answers = try await EventLoopFuture.whenAllSucceed((0..<20).map { _ in guards.lookup(event: event, on: loop) }, on: loop).get()
            #expect(answers.allSatisfy { $0 == .guarded })
            #expect(guards.lookups == 1, "20 requests without an answer in hand share one lookup")
            #expect(guards.current(event: event, on: loop) == .guarded)
            #expect(guards.lookups == 1)

            try await Task.sleep(for: RoomGuards.refreshAfter + .milliseconds(50))
            try await fixture.room.setMode(event: event, .open)
            #expect(guards.current(event: event, on: loop) == .guarded, "the answer in hand serves while the next lookup runs")
            let second = guards.current(event: event, on: loop)
            #expect(second != nil, "the old answer while the lookup runs, or the new one once it has answered")
            #expect(guards.lookups == 2, "one request started the next lookup; the next one did not start another")
            var refreshed = guards.current(event: event, on: loop)
            for _ in 0..<100 where refreshed != .open {
                try await Task.sleep(for: .milliseconds(10))
                refreshed = guards.current(event: event, on: loop)
            }
            #expect(refreshed == .open, "the lookup started ahead brought the change")

            try await fixture.room.setMode(event: event, .paused)
            try await Task.sleep(for: RoomGuards.maximumAge + .milliseconds(100))
            #expect(guards.current(event: event, on: loop) == nil, "an answer older than a second is not used")
            #expect(try await guards.lookup(event: event, on: loop).get() == .guarded)
            #expect(try await guards.lookup(event: "no-room-\(event)", on: loop).get() == .absent)
        }
    }
}
