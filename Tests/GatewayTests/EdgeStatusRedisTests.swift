import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Queue
import ServiceKit
import Testing

@testable import Gateway

@Suite("Status polls without a place token answered on the event loop from Redis")
struct EdgeStatusRedisTests {
    static let ticketHeader = HTTPField.Name("Visitor-Ticket")!
    static let placeHeader = HTTPField.Name("Queue-Place")!

    /// Files `count` new visitors in the fixture's room; their tickets, in join order.
    static func join(_ count: Int, fixture: GatewayFixture) async throws -> [String] {
        try await EdgeStatusPollTests.join(count, fixture: fixture).map(\.ticket)
    }

    @Test("a ticket by header or cookie gets the visitor's place from Redis, counted as a sign of life")
    func waitingVisitors() async throws {
        try await GatewayFixture.with(RoomConfiguration(mode: .paused, releaseRate: 10)) { fixture in
            let tickets = try await Self.join(3, fixture: fixture)
            let event = fixture.event
            try await EdgeJoinTests.edgeOnly(fixture).test(.live) { client in
                let seen = QueueKeys(event: event, in: fixture.redis.keySpace).seen
                let second = try #require(fixture.tickets.visitor(from: tickets[1]))
                let earlier = Int(Date().timeIntervalSince1970 * 1000) - 2_000
                try await fixture.redis.send("ZADD", seen, earlier, second)
                let byHeader = try await client.execute(uri: "/api/v1/queue/\(event)/status?t=1", method: .get, headers: [Self.ticketHeader: tickets[1]])
                #expect(byHeader.status == .ok)
                #expect(byHeader.headers[.contentType] == "application/json; charset=utf-8")
                #expect(byHeader.headers[.cacheControl] == "no-store")
                #expect(byHeader.headers[HTTPField.Name("X-Request-Id")!] != nil)
                #expect(byHeader.headers[.date]?.hasSuffix(" GMT") == true)
                #expect(byHeader.json["status"] as? String == "waiting")
                #expect(byHeader.json["position"] as? Int == 2)
                #expect(byHeader.json["ahead"] as? Int == 1)
                #expect(byHeader.json["pass"] == nil && byHeader.cookie("br_pass_\(event)") == nil)
                #expect(try await fixture.redis.send("ZSCORE", seen, second).double ?? 0 > Double(earlier), "the poll is a sign of life in Redis")

                let byCookie = try await client.execute(uri: "/api/v1/queue/\(event)/status", method: .get, headers: [.cookie: "theme=dark; br_visitor=\(tickets[2])"])
                #expect(byCookie.status == .ok)
                #expect(byCookie.json["position"] as? Int == 3)
            }
        }
    }

    @Test("an admitted visitor's poll gets a freshly signed pass, also set as a cookie")
    func admittedVisitor() async throws {
        try await GatewayFixture.with(RoomConfiguration(mode: .queue, releaseRate: 100)) { fixture in
            let ticket = try #require(try await Self.join(1, fixture: fixture).first)
            try await fixture.release(atLeast: 1)
            try await EdgeJoinTests.edgeOnly(fixture).test(.live) { client in
                let poll = try await client.execute(uri: "/api/v1/queue/\(fixture.event)/status", method: .get, headers: [Self.ticketHeader: ticket])
                #expect(poll.status == .ok)
                #expect(poll.json["status"] as? String == "admitted")
                let pass = try #require(poll.json["pass"] as? String)
                #expect(poll.cookie("br_pass_\(fixture.event)") == pass)
                let claims = try await fixture.keys.verify(pass, event: fixture.event)
                #expect(claims.sub.value == fixture.tickets.visitor(from: ticket))
            }
        }
    }

    @Test("a poll with a place token the fresh snapshot cannot place (the visitor reached the head) is answered from Redis; while it is stale, by the router")
    func headOfTheLineWithPlaceToken() async throws {
        try await GatewayFixture.with(RoomConfiguration(mode: .queue, releaseRate: 100)) { fixture in
            let event = fixture.event
            let issued = fixture.tickets.issue()
            let spot = try #require(try await fixture.room.join(event: event, visitor: issued.visitor).spot)
            let headers: HTTPFields = [Self.ticketHeader: issued.ticket, Self.placeHeader: fixture.tickets.placeToken(event: event, visitor: issued.visitor, spot: spot)]
            try await fixture.release(atLeast: 1)
            try await EdgeJoinTests.edgeOnly(fixture).test(.live) { client in
                let stale = try await client.execute(uri: "/api/v1/queue/\(event)/status", method: .get, headers: headers)
                #expect(stale.status == .notFound && stale.problem == nil, "no snapshot yet: this router, which answers nothing, got it")

                var answered: TestResponse?
                for _ in 0..<5 where answered == nil {
                    _ = try await fixture.components.snapshots.snapshot(event: event)
                    let poll = try await client.execute(uri: "/api/v1/queue/\(event)/status", method: .get, headers: headers)
                    if poll.status == .ok { answered = poll } else { #expect(poll.status == .notFound && poll.problem == nil) }
                }
                let poll = try #require(answered, "a poll within a tick of the snapshot read is the edge's")
                #expect(poll.json["status"] as? String == "admitted")
                let pass = try #require(poll.json["pass"] as? String)
                #expect(poll.cookie("br_pass_\(event)") == pass)
                #expect(try await fixture.keys.verify(pass, event: event).sub.value == issued.visitor)
            }
        }
    }

    @Test("refusals are the router's problems: not in the queue 404, no room 404, place lost 410")
    func problems() async throws {
        try await GatewayFixture.with(RoomConfiguration(mode: .paused, releaseRate: 10)) { fixture in
            let event = fixture.event
            let silent = try #require(try await Self.join(1, fixture: fixture).first)
            let silentVisitor = try #require(fixture.tickets.visitor(from: silent))
            try await fixture.redis.send("ZADD", QueueKeys(event: event, in: fixture.redis.keySpace).seen, 0, silentVisitor)
            try await EdgeJoinTests.edgeOnly(fixture).test(.live) { client in
                let stranger = fixture.tickets.issue().ticket
                let notJoined = try await client.execute(uri: "/api/v1/queue/\(event)/status", method: .get, headers: [Self.ticketHeader: stranger])
                #expect(notJoined.status == .notFound)
                #expect(notJoined.problem?.type == ProblemDetails.typeBase + "not-in-queue")

                let noRoom = try await client.execute(uri: "/api/v1/queue/no-\(event)/status", method: .get, headers: [Self.ticketHeader: stranger])
                #expect(noRoom.status == .notFound)
                #expect(noRoom.problem?.type == ProblemDetails.typeBase + "room-not-found")

                let lost = try await client.execute(uri: "/api/v1/queue/\(event)/status", method: .get, headers: [Self.ticketHeader: silent])
                #expect(lost.status == .gone)
                #expect(lost.problem?.type == ProblemDetails.typeBase + "place-lost")
            }
        }
    }

    @Test("polls with a place token, an access token or no genuine ticket go on to the router")
    func routerServesTheRest() async throws {
        try await GatewayFixture.with(RoomConfiguration(mode: .paused, releaseRate: 10)) { fixture in
            let ticket = try #require(try await Self.join(1, fixture: fixture).first)
            let event = fixture.event
            let token = try await fixture.accessToken(user: "edge-status-\(UUID().uuidString.prefix(8))")
            let refused: [HTTPFields] = [
                [Self.ticketHeader: ticket, Self.placeHeader: "not-a-place-token"],
                [.cookie: "br_visitor=\(ticket); br_place_\(event)=not-a-place-token"],
                [Self.ticketHeader: ticket, .authorization: "Bearer \(token)"],
                [Self.ticketHeader: "forged-ticket"],
                [:],
            ]
            try await EdgeJoinTests.edgeOnly(fixture).test(.live) { client in
                for headers in refused {
                    let poll = try await client.execute(uri: "/api/v1/queue/\(event)/status", method: .get, headers: headers)
                    #expect(poll.status == .notFound && poll.problem == nil, "this router answers nothing: the edge left \(headers) to it")
                }
            }
            try await fixture.application.test(.live) { client in
                let withPlace = try await client.execute(uri: "/api/v1/queue/\(event)/status", method: .get, headers: refused[0])
                #expect(withPlace.status == .ok && withPlace.json["position"] as? Int == 1, "the router reads Redis past a bad place token")
                let forged = try await client.execute(uri: "/api/v1/queue/\(event)/status", method: .get, headers: refused[3])
                #expect(forged.problem?.type == ProblemDetails.typeBase + "not-in-queue")
            }
        }
    }
}
