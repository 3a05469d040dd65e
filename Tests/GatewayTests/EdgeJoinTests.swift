import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Queue
import ServiceKit
import Testing

@testable import Gateway

@Suite("Joins answered on the event loop by the edge")
struct EdgeJoinTests {
    static let ticketHeader = HTTPField.Name("Visitor-Ticket")!
    static let proofHeader = HTTPField.Name("Queue-Proof")!

    /// The gateway's server in front of a router that answers nothing: whatever succeeds was served by the edge.
    static func edgeOnly(_ fixture: GatewayFixture) -> some ApplicationProtocol {
        Application(router: Router(context: GatewayRequestContext.self), server: gatewayServer(fixture.components))
    }

    @Test("a new visitor gets 201 with a ticket, place token and cookies; their ticket by header or cookie finds the same place")
    func joinAndRejoin() async throws {
        try await GatewayFixture.with(RoomConfiguration(mode: .paused, releaseRate: 10)) { fixture in
            let event = fixture.event
            try await Self.edgeOnly(fixture).test(.live) { client in
                let first = try await client.execute(uri: "/api/v1/queue/\(event)/join", method: .post)
                #expect(first.status == .created)
                #expect(first.headers[.contentType] == "application/json; charset=utf-8")
                #expect(first.headers[.cacheControl] == "no-store")
                #expect(first.headers[HTTPField.Name("X-Request-Id")!] != nil)
                let ticket = try #require(first.json["ticket"] as? String)
                let place = try #require(first.json["place"] as? String)
                #expect(first.cookie("br_visitor") == ticket)
                #expect(first.cookie("br_place_\(event)") == place)
                #expect(first.json["status"] as? String == "waiting")
                #expect(first.json["position"] as? Int == 1)
                let visitor = try #require(fixture.tickets.visitor(from: ticket))
                #expect(fixture.tickets.spot(fromPlaceToken: place, event: event, visitor: visitor) != nil)

                let second = try await client.execute(uri: "/api/v1/queue/\(event)/join", method: .post)
                #expect(second.status == .created)
                #expect(second.json["position"] as? Int == 2, "no ticket: another visitor")

                let byHeader = try await client.execute(uri: "/api/v1/queue/\(event)/join", method: .post, headers: [Self.ticketHeader: ticket])
                #expect(byHeader.status == .ok)
                #expect(byHeader.json["position"] as? Int == 1)
                #expect(byHeader.cookie("br_visitor") == nil, "a known visitor gets no new ticket")
                let byCookie = try await client.execute(uri: "/api/v1/queue/\(event)/join", method: .post, headers: [.cookie: "br_visitor=\(ticket)"])
                #expect(byCookie.status == .ok)
                #expect(byCookie.json["position"] as? Int == 1)

                guard case .waiting(let position, _, _, _) = try await fixture.room.status(event: event, visitor: visitor) else {
                    Issue.record("the visitor is not waiting in Redis")
                    return
                }
                #expect(position == 1)
            }
        }
    }

    @Test("an open room admits at once: the pass is signed and set as a cookie")
    func admittedAtOnce() async throws {
        try await GatewayFixture.with(RoomConfiguration(mode: .open, releaseRate: 10)) { fixture in
            try await Self.edgeOnly(fixture).test(.live) { client in
                let joined = try await client.execute(uri: "/api/v1/queue/\(fixture.event)/join", method: .post)
                #expect(joined.status == .created)
                #expect(joined.json["status"] as? String == "admitted")
                let pass = try #require(joined.json["pass"] as? String)
                #expect(joined.cookie("br_pass_\(fixture.event)") == pass)
                #expect(try await fixture.keys.verify(pass, event: fixture.event).event == fixture.event)
            }
        }
    }

    @Test("refusals are the router's problems: unknown room 404, closed 409, proof of work required or invalid 403")
    func problems() async throws {
        try await GatewayFixture.with(RoomConfiguration(mode: .queue, releaseRate: 0, proofOfWork: 4)) { fixture in
            let event = fixture.event
            try await Self.edgeOnly(fixture).test(.live) { client in
                let unknown = try await client.execute(uri: "/api/v1/queue/no-\(event)/join", method: .post)
                #expect(unknown.status == .notFound)
                #expect(unknown.headers[.contentType] == "application/problem+json")

                let required = try await client.execute(uri: "/api/v1/queue/\(event)/join", method: .post)
                #expect(required.status == .forbidden)
                #expect(required.problem?.type == ProblemDetails.typeBase + "proof-of-work-required")

                let forged = try await client.execute(uri: "/api/v1/queue/\(event)/join", method: .post, headers: [Self.proofHeader: "forged~1"])
                #expect(forged.status == .forbidden)
                #expect(forged.problem?.type == ProblemDetails.typeBase + "proof-of-work-invalid")

                let challenge = JoinChallenges(secret: fixture.configuration.visitorTicketSecret).issue(event: event, difficulty: 4)
                let solution = Solver.solve(challenge.challenge, difficulty: 4)
                let proved = try await client.execute(uri: "/api/v1/queue/\(event)/join", method: .post, headers: [Self.proofHeader: solution])
                #expect(proved.status == .created)
                let reused = try await client.execute(uri: "/api/v1/queue/\(event)/join", method: .post, headers: [Self.proofHeader: solution])
                #expect(reused.status == .forbidden, "one place per challenge")

                var closed = try await fixture.room.describe(event: event).configuration
                closed.mode = .closed
                try await fixture.room.configure(event: event, closed)
                let refused = try await client.execute(uri: "/api/v1/queue/\(event)/join", method: .post)
                #expect(refused.status == .conflict)
            }
        }
    }

    @Test("a join with an access token goes on to the router, which files the user")
    func accessTokenGoesToRouter() async throws {
        try await GatewayFixture.with(RoomConfiguration(mode: .paused, releaseRate: 10)) { fixture in
            let token = try await fixture.accessToken(user: "edge-join-\(UUID().uuidString.prefix(8))")
            try await Self.edgeOnly(fixture).test(.live) { client in
                let joined = try await client.execute(uri: "/api/v1/queue/\(fixture.event)/join", method: .post, headers: [.authorization: "Bearer \(token)"])
                #expect(joined.status == .notFound, "this router answers nothing: the edge left the join to it")
            }
            try await fixture.application.test(.live) { client in
                let joined = try await client.execute(uri: "/api/v1/queue/\(fixture.event)/join", method: .post, headers: [.authorization: "Bearer \(token)"])
                #expect(joined.status == .created)
                #expect(joined.json["ticket"] == nil, "a user needs no ticket")
            }
        }
    }
}
