import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Queue
import Redis
import Testing

@Suite("Polls answered from the gateway's room snapshot")
struct RoomSnapshotTests {
    static let ticketHeader = HTTPField.Name("Visitor-Ticket")!
    static let placeHeader = HTTPField.Name("Queue-Place")!

    /// Joins `count` new visitors through the API: each one's ticket and place token, in join order.
    static func join(_ count: Int, client: some TestClientProtocol, event: String) async throws -> [(ticket: String, place: String)] {
        var visitors: [(String, String)] = []
        for _ in 0..<count {
            let joined = try await client.execute(uri: "/api/v1/queue/\(event)/join", method: .post)
            let ticket = try #require(joined.json["ticket"] as? String)
            let place = try #require(joined.json["place"] as? String)
            #expect(joined.cookie("br_place_\(event)") == place)
            visitors.append((ticket, place))
        }
        return visitors
    }

    @Test("positions from the snapshot equal the Redis ranks, and a hundred polls cost a handful of snapshot reads")
    func positionsMatchRedis() async throws {
        try await GatewayFixture.with(RoomConfiguration(mode: .paused, releaseRate: 10)) { fixture in
            try await fixture.application.test(.router) { client in
                let visitors = try await Self.join(25, client: client, event: fixture.event)
                let readsBefore = fixture.components.snapshots.reads
                let answersBefore = fixture.components.snapshots.answers
                let started = ContinuousClock.now
                var polls = 0
                for _ in 0..<4 {
                    for (index, visitor) in visitors.enumerated() {
                        let status = try await client.execute(
                            uri: "/api/v1/queue/\(fixture.event)/status", method: .get,
                            headers: [Self.ticketHeader: visitor.ticket, Self.placeHeader: visitor.place]
                        )
                        polls += 1
                        #expect(status.json["position"] as? Int == index + 1)
                    }
                }
                let ticks = Int((ContinuousClock.now - started) / fixture.components.snapshots.tick) + 1
                let reads = fixture.components.snapshots.reads - readsBefore
                #expect(fixture.components.snapshots.answers - answersBefore == polls, "every poll was answered from a snapshot")
                #expect(reads >= 1 && reads <= ticks + 1, "\(polls) polls made \(reads) snapshot reads over \(ticks) ticks")
                for (index, visitor) in visitors.enumerated() {
                    let id = try #require(fixture.tickets.visitor(from: visitor.ticket))
                    guard case .waiting(let position, _, _, _) = try await fixture.room.status(event: fixture.event, visitor: id) else {
                        Issue.record("visitor \(index) is not waiting in Redis")
                        continue
                    }
                    #expect(position == index + 1, "Redis rank and snapshot position agree")
                }
            }
        }
    }

    @Test("polls answered from snapshots still count as signs of life; the silent visitor loses their place")
    func batchedLiveness() async throws {
        try await GatewayFixture.with(RoomConfiguration(mode: .paused, releaseRate: 10, idleTimeout: 5)) { fixture in
            try await fixture.application.test(.router) { client in
                let visitors = try await Self.join(3, client: client, event: fixture.event)
                let answersBefore = fixture.components.snapshots.answers
                let until = ContinuousClock.now + .milliseconds(5_800)
                while ContinuousClock.now < until {
                    for visitor in [visitors[0], visitors[2]] {
                        let status = try await client.execute(
                            uri: "/api/v1/queue/\(fixture.event)/status", method: .get,
                            headers: [Self.ticketHeader: visitor.ticket, Self.placeHeader: visitor.place]
                        )
                        #expect(status.json["status"] as? String == "waiting")
                    }
                    try await Task.sleep(for: .milliseconds(400))
                }
                #expect(fixture.components.snapshots.answers > answersBefore, "the polls were answered from snapshots")
                _ = try await fixture.room.release(event: fixture.event)
                let ids = try visitors.map { try #require(fixture.tickets.visitor(from: $0.ticket)) }
                #expect(try await fixture.room.status(event: fixture.event, visitor: ids[0]).isWaiting)
                #expect(try await fixture.room.status(event: fixture.event, visitor: ids[2]).isWaiting)
                await #expect(throws: QueueError.placeLost) { try await fixture.room.status(event: fixture.event, visitor: ids[1]) }
            }
        }
    }

    @Test("the waiting-room page hands over the place token by cookie, and polls with it are answered from the snapshot")
    func pageSetsPlaceCookie() async throws {
        try await GatewayFixture.with(RoomConfiguration(mode: .paused, releaseRate: 10)) { fixture in
            try await fixture.application.test(.router) { client in
                let page = try await client.execute(uri: "/waiting-room/\(fixture.event)", method: .get)
                #expect(page.status == .ok)
                let ticket = try #require(page.cookie("br_visitor"))
                let place = try #require(page.cookie("br_place_\(fixture.event)"))
                let answersBefore = fixture.components.snapshots.answers
                let status = try await client.execute(
                    uri: "/api/v1/queue/\(fixture.event)/status", method: .get,
                    headers: [.cookie: "br_visitor=\(ticket); br_place_\(fixture.event)=\(place)"]
                )
                #expect(status.json["position"] as? Int == 1)
                #expect(fixture.components.snapshots.answers == answersBefore + 1)
            }
        }
    }

    @Test("a place token is worth nothing to another visitor, another room, or once altered; reaching the head asks Redis")
    func tokensAndHead() async throws {
        try await GatewayFixture.with(RoomConfiguration(mode: .paused, releaseRate: 1_000)) { fixture in
            try await fixture.application.test(.router) { client in
                let visitors = try await Self.join(3, client: client, event: fixture.event)
                let third = try #require(fixture.tickets.visitor(from: visitors[2].ticket))
                #expect(fixture.tickets.spot(fromPlaceToken: visitors[0].place, event: fixture.event, visitor: third) == nil)
                #expect(fixture.tickets.spot(fromPlaceToken: visitors[2].place, event: "another-room", visitor: third) == nil)
                let altered = visitors[2].place.replacingOccurrences(of: "q1.w", with: "q1.w1")
                #expect(fixture.tickets.spot(fromPlaceToken: altered, event: fixture.event, visitor: third) == nil)

                let borrowed = try await client.execute(
                    uri: "/api/v1/queue/\(fixture.event)/status", method: .get,
                    headers: [Self.ticketHeader: visitors[2].ticket, Self.placeHeader: visitors[0].place]
                )
                #expect(borrowed.json["position"] as? Int == 3, "another visitor's token is ignored")

                let answersBefore = fixture.components.snapshots.answers
                try await fixture.room.setMode(event: fixture.event, .queue)
                try await fixture.release(atLeast: 3)
                let admitted = try await client.execute(
                    uri: "/api/v1/queue/\(fixture.event)/status", method: .get,
                    headers: [Self.ticketHeader: visitors[0].ticket, Self.placeHeader: visitors[0].place]
                )
                #expect(admitted.json["status"] as? String == "admitted", "past the head, Redis answers and the pass is minted")
                #expect(admitted.json["pass"] is String)
                #expect(fixture.components.snapshots.answers == answersBefore)
            }
        }
    }
}

extension VisitorPlace {
    var isWaiting: Bool {
        if case .waiting = self { return true }
        return false
    }
}
