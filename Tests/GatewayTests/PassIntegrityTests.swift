import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import Queue
import Testing
import Tokens

@testable import Gateway

/// A guarded route through the edge, and the helpers to queue visitors for it.
private struct GuardedRoute {
    static func table(_ upstream: String) -> RouteTable {
        RouteTable(routes: [
            ProxyRoute(name: "buy", prefix: "/api/events", upstreams: [upstream], authentication: .optional, queuePass: QueuePassPolicy(eventFrom: "path:2")),
        ])
    }

    static let ticketField = HTTPField.Name("Visitor-Ticket")!

    /// Joins as an anonymous visitor (or as the token's user), is released, and collects the pass.
    static func admit(_ client: some TestClientProtocol, _ fixture: GatewayFixture, bearer: String? = nil) async throws -> (pass: String, headers: HTTPFields) {
        var headers = HTTPFields()
        if let bearer { headers[.authorization] = "Bearer \(bearer)" }
        let joined = try await client.execute(uri: "/api/v1/queue/\(fixture.event)/join", method: .post, headers: headers)
        if let ticket = joined.json["ticket"] as? String { headers[ticketField] = ticket }
        try await fixture.release(atLeast: 1)
        let status = try await client.execute(uri: "/api/v1/queue/\(fixture.event)/status", method: .get, headers: headers)
        return (try #require(status.json["pass"] as? String, "admitted: \(status.json)"), headers)
    }

    static func buy(_ client: some TestClientProtocol, _ event: String, pass: String?, _ headers: HTTPFields = [:]) async throws -> TestResponse {
        var headers = headers
        if let pass { headers[.queuePass] = pass }
        return try await client.execute(uri: "/api/events/\(event)/buy", method: .post, headers: headers)
    }
}

@Suite("Passes serve only their visitor, and only while their admission stands")
struct PassIntegrityTests {
    static let notYours = "https://booking-rush.dev/problems/queue-pass-not-yours"
    static let revoked = "https://booking-rush.dev/problems/queue-pass-revoked"

    @Test("an anonymous pass binds to the first account that uses it; another account, or no ticket, gets 403")
    func binding() async throws {
        try await UpstreamServer.with { upstream in
            try await GatewayFixture.with(RoomConfiguration(mode: .queue, releaseRate: 1_000), routes: GuardedRoute.table(upstream.url)) { fixture in
                let event = fixture.event
                let alice = try await fixture.accessToken(user: "alice-\(event)")
                let bob = try await fixture.accessToken(user: "bob-\(event)")
                try await fixture.application.test(.live) { client in
                    let (pass, ticket) = try await GuardedRoute.admit(client, fixture)
                    let before = upstream.callCount

                    let bare = try await GuardedRoute.buy(client, event, pass: pass)
                    #expect(bare.status == .forbidden, "a pass alone, without its visitor's ticket or an account")
                    #expect(bare.problem?.type == Self.notYours)
                    #expect(try await GuardedRoute.buy(client, event, pass: pass, ticket).status == .created, "with the ticket it was issued to")

                    #expect(try await GuardedRoute.buy(client, event, pass: pass, [.authorization: "Bearer \(alice)"]).status == .created, "first use by an account binds it")
                    let stolen = try await GuardedRoute.buy(client, event, pass: pass, [.authorization: "Bearer \(bob)"])
                    #expect(stolen.status == .forbidden)
                    #expect(stolen.problem?.type == Self.notYours)
                    #expect(try await GuardedRoute.buy(client, event, pass: pass, [.authorization: "Bearer \(alice)"]).status == .created)
                    #expect(upstream.callCount == before + 3, "no refused request reached the upstream")

                    let (own, _) = try await GuardedRoute.admit(client, fixture, bearer: bob)
                    let borrowed = try await GuardedRoute.buy(client, event, pass: own, [.authorization: "Bearer \(alice)"])
                    #expect(borrowed.status == .forbidden, "a logged-in visitor's pass needs that account")
                    #expect(borrowed.problem?.type == Self.notYours)
                    #expect(try await GuardedRoute.buy(client, event, pass: own).status == .forbidden)
                    #expect(try await GuardedRoute.buy(client, event, pass: own, [.authorization: "Bearer \(bob)"]).status == .created)
                }
            }
        }
    }

    @Test("leaving, removal by an operator and deleting the room revoke the pass; max_active counts passes in circulation")
    func revocation() async throws {
        try await UpstreamServer.with { upstream in
            try await GatewayFixture.with(RoomConfiguration(mode: .queue, releaseRate: 1_000, maxActive: 1), routes: GuardedRoute.table(upstream.url)) { fixture in
                let event = fixture.event
                let admin: HTTPFields = [.authorization: "Bearer \(GatewayFixture.adminToken)"]
                try await fixture.application.test(.live) { client in
                    let (first, firstVisitor) = try await GuardedRoute.admit(client, fixture)
                    #expect(try await GuardedRoute.buy(client, event, pass: first, firstVisitor).status == .created)

                    let joined = try await client.execute(uri: "/api/v1/queue/\(event)/join", method: .post)
                    let second: HTTPFields = [GuardedRoute.ticketField: try #require(joined.json["ticket"] as? String)]
                    try await fixture.release(atLeast: 1)
                    let waiting = try await client.execute(uri: "/api/v1/queue/\(event)/status", method: .get, headers: second)
                    #expect(waiting.json["status"] as? String == "waiting", "max_active 1: the slot is taken")

                    #expect(try await client.execute(uri: "/api/v1/queue/\(event)", method: .delete, headers: firstVisitor).status == .noContent)
                    let left = try await GuardedRoute.buy(client, event, pass: first, firstVisitor)
                    #expect(left.status == .forbidden, "the pass of a visitor who left")
                    #expect(left.problem?.type == Self.revoked)
                    #expect(left.headers[values: .setCookie].contains { $0.hasPrefix("br_pass_\(event)=;") }, "the browser's pass cookie is cleared")

                    try await fixture.release(atLeast: 1)
                    let admitted = try await client.execute(uri: "/api/v1/queue/\(event)/status", method: .get, headers: second)
                    let secondPass = try #require(admitted.json["pass"] as? String, "the freed slot went to the next visitor")
                    #expect(try await GuardedRoute.buy(client, event, pass: secondPass, second).status == .created)
                    #expect(try await fixture.room.stats(event: event).activePasses == 1, "one pass in circulation")

                    let visitor = try #require(VisitorTickets(secret: fixture.configuration.visitorTicketSecret).visitor(from: second[GuardedRoute.ticketField]!))
                    #expect(try await client.execute(uri: "/admin/v1/rooms/\(event)/visitors/\(visitor)", method: .delete, headers: admin).status == .noContent)
                    #expect(try await client.execute(uri: "/admin/v1/rooms/\(event)/visitors/\(visitor)", method: .delete, headers: admin).status == .notFound)
                    let removed = try await GuardedRoute.buy(client, event, pass: secondPass, second)
                    #expect(removed.problem?.type == Self.revoked, "the pass of a visitor an operator removed")

                    let (third, thirdVisitor) = try await GuardedRoute.admit(client, fixture)
                    #expect(try await GuardedRoute.buy(client, event, pass: third, thirdVisitor).status == .created)
                    #expect(try await client.execute(uri: "/admin/v1/rooms/\(event)", method: .delete, headers: admin).status == .noContent)
                    try await Task.sleep(for: .milliseconds(1_100))
                    let deleted = try await GuardedRoute.buy(client, event, pass: third, thirdVisitor)
                    #expect(deleted.status == .forbidden, "the pass of a deleted room")
                    #expect(deleted.problem?.type == Self.revoked)
                    #expect(try await GuardedRoute.buy(client, event, pass: nil).status == .created, "without a room the route needs no pass")
                }
            }
        }
    }

    @Test("a pass revoked through another gateway stops working here within a second")
    func revocationElsewhere() async throws {
        try await UpstreamServer.with { upstream in
            try await GatewayFixture.with(RoomConfiguration(mode: .queue, releaseRate: 1_000), routes: GuardedRoute.table(upstream.url)) { fixture in
                let event = fixture.event
                try await fixture.application.test(.live) { client in
                    let (pass, ticket) = try await GuardedRoute.admit(client, fixture)
                    #expect(try await GuardedRoute.buy(client, event, pass: pass, ticket).status == .created)
                    let visitor = try #require(VisitorTickets(secret: fixture.configuration.visitorTicketSecret).visitor(from: ticket[GuardedRoute.ticketField]!))
                    let otherGateway = WaitingRoom(redis: fixture.room.redis)
                    #expect(try await otherGateway.leave(event: event, visitor: visitor))
                    try await Task.sleep(for: AdmissionVerdicts.lifetime + .milliseconds(100))
                    let refused = try await GuardedRoute.buy(client, event, pass: pass, ticket)
                    #expect(refused.status == .forbidden)
                    #expect(refused.problem?.type == Self.revoked)
                }
            }
        }
    }

    @Test("a single-use pass is claimed in the same script call as its binding, and spent once")
    func singleUse() async throws {
        try await UpstreamServer.with { upstream in
            let routes = RouteTable(routes: [
                ProxyRoute(name: "buy", prefix: "/api/events", upstreams: [upstream.url], queuePass: QueuePassPolicy(eventFrom: "path:2", singleUse: true)),
            ])
            try await GatewayFixture.with(RoomConfiguration(mode: .queue, releaseRate: 1_000), routes: routes) { fixture in
                let alice = try await fixture.accessToken(user: "alice-\(fixture.event)")
                try await fixture.application.test(.live) { client in
                    let (pass, _) = try await GuardedRoute.admit(client, fixture)
                    let bearer: HTTPFields = [.authorization: "Bearer \(alice)"]
                    #expect(try await GuardedRoute.buy(client, fixture.event, pass: pass, bearer).status == .created)
                    let again = try await GuardedRoute.buy(client, fixture.event, pass: pass, bearer)
                    #expect(again.status == .forbidden)
                    #expect(again.problem?.detail?.contains("already been used") == true)
                    let holder = try await fixture.redis.send("GET", QueueKeys(event: fixture.event, in: fixture.redis.keySpace).prefix + "holder:1")
                    #expect(holder.string == "u:alice-\(fixture.event)")
                }
            }
        }
    }

    /// The `jti` of a pass: `event.admission`.
    static func passID(_ pass: String) throws -> String {
        let payload = try #require(Base64URL.decode(pass.split(separator: ".")[1]))
        let claims = try JSONSerialization.jsonObject(with: Data(payload)) as? [String: Any]
        return try #require(claims?["jti"] as? String)
    }

    @Test("a room deleted and made again under the same id numbers its admissions from 1 again: its passes meet none of the old room's bindings or claims")
    func remadeRoomStartsClean() async throws {
        try await UpstreamServer.with { upstream in
            let routes = RouteTable(routes: [
                ProxyRoute(name: "buy", prefix: "/api/events", upstreams: [upstream.url], authentication: .optional, queuePass: QueuePassPolicy(eventFrom: "path:2")),
                ProxyRoute(name: "once", prefix: "/api/echo", upstreams: [upstream.url], authentication: .optional, queuePass: QueuePassPolicy(eventFrom: "path:2", singleUse: true)),
            ])
            let configuration = RoomConfiguration(mode: .queue, releaseRate: 1_000)
            try await GatewayFixture.with(configuration, routes: routes) { fixture in
                let event = fixture.event
                let keys = QueueKeys(event: event, in: fixture.redis.keySpace)
                let admin: HTTPFields = [.authorization: "Bearer \(GatewayFixture.adminToken)"]
                let alice: HTTPFields = [.authorization: "Bearer \(try await fixture.accessToken(user: "alice-\(event)"))"]
                let bob: HTTPFields = [.authorization: "Bearer \(try await fixture.accessToken(user: "bob-\(event)"))"]
                try await fixture.application.test(.live) { client in
                    let (old, _) = try await GuardedRoute.admit(client, fixture)
                    let oldID = try Self.passID(old)
                    let admission = String(try #require(oldID.split(separator: ".").last))
                    #expect(try await GuardedRoute.buy(client, event, pass: old, alice).status == .created)
                    var once = alice
                    once[.queuePass] = old
                    #expect(try await client.execute(uri: "/api/echo/\(event)/x", method: .post, headers: once).status == .ok)
                    #expect(try await fixture.redis.exists(keys.holder(admission: admission)), "the pass is bound to alice")
                    #expect(try await fixture.redis.exists(keys.spent(passID: oldID)), "and spent on the single-use route")

                    #expect(try await client.execute(uri: "/admin/v1/rooms/\(event)", method: .delete, headers: admin).status == .noContent)
                    #expect(try await fixture.redis.exists(keys.holder(admission: admission)) == false)
                    #expect(try await fixture.redis.exists(keys.spent(passID: oldID)) == false)

                    try await fixture.room.configure(event: event, configuration)
                    let (new, _) = try await GuardedRoute.admit(client, fixture)
                    #expect(try Self.passID(new) == oldID, "the new room's first admission has the old one's number")
                    let bought = try await GuardedRoute.buy(client, event, pass: new, bob)
                    #expect(bought.status == .created, "not bound to alice by the old room: \(bought.problem?.type ?? "")")
                    once = bob
                    once[.queuePass] = new
                    let spent = try await client.execute(uri: "/api/echo/\(event)/x", method: .post, headers: once)
                    #expect(spent.status == .ok, "not spent by the old room: \(spent.problem?.type ?? "")")
                }
            }
        }
    }
}
