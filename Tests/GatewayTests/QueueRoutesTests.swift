import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Queue
import Redis
import Testing
import Tokens

@Suite("Waiting-room HTTP API")
struct QueueRoutesTests {
    @Test("join: 201 with a ticket cookie, then 200 with the same place by cookie or header")
    func join() async throws {
        try await GatewayFixture.with(RoomConfiguration(mode: .paused)) { fixture in
            try await fixture.application.test(.router) { client in
                let first = try await client.execute(uri: "/api/v1/queue/\(fixture.event)/join", method: .post)
                #expect(first.status == .created)
                let ticket = try #require(first.json["ticket"] as? String)
                #expect(first.cookie("br_visitor") == ticket)
                #expect(first.json["status"] as? String == "waiting")
                #expect(first.json["position"] as? Int == 1)
                #expect(first.json["ahead"] as? Int == 0)

                let second = try await client.execute(uri: "/api/v1/queue/\(fixture.event)/join", method: .post)
                #expect(second.json["position"] as? Int == 2, "a request without a ticket is a new visitor")

                let again = try await client.execute(uri: "/api/v1/queue/\(fixture.event)/join", method: .post, headers: [.cookie: "br_visitor=\(ticket)"])
                #expect(again.status == .ok)
                #expect(again.json["position"] as? Int == 1)
                let byHeader = try await client.execute(uri: "/api/v1/queue/\(fixture.event)/join", method: .post, headers: [HTTPField.Name("Visitor-Ticket")!: ticket])
                #expect(byHeader.status == .ok)
                #expect(byHeader.json["position"] as? Int == 1)
            }
        }
    }

    @Test("status: waiting with ETA and poll interval, then admitted with a verifiable pass")
    func statusToAdmission() async throws {
        try await GatewayFixture.with(RoomConfiguration(mode: .queue, releaseRate: 50, passTTL: 120)) { fixture in
            try await fixture.application.test(.router) { client in
                let joined = try await client.execute(uri: "/api/v1/queue/\(fixture.event)/join", method: .post)
                let ticket = try #require(joined.json["ticket"] as? String)
                let headers: HTTPFields = [HTTPField.Name("Visitor-Ticket")!: ticket]
                let waiting = try await client.execute(uri: "/api/v1/queue/\(fixture.event)/status", method: .get, headers: headers)
                #expect(waiting.status == .ok)
                #expect(waiting.json["status"] as? String == "waiting")
                #expect(waiting.json["eta_seconds"] as? Int == 1)
                #expect((waiting.json["poll_after_ms"] as? Int ?? 0) >= 1_000)
                #expect(waiting.headers[.cacheControl] == "no-store")

                try await fixture.release(atLeast: 1)
                let admitted = try await client.execute(uri: "/api/v1/queue/\(fixture.event)/status", method: .get, headers: headers)
                #expect(admitted.json["status"] as? String == "admitted")
                let pass = try #require(admitted.json["pass"] as? String)
                let expires = try #require(admitted.json["pass_expires_at"] as? Int)
                #expect(abs(expires - Int(Date().timeIntervalSince1970) - 120) <= 2)
                #expect(admitted.cookie("br_pass_\(fixture.event)") == pass)
                let claims = try await fixture.keys.verify(pass, event: fixture.event)
                #expect(claims.sub.value.hasPrefix("t:"))
                await #expect(throws: TokenError.wrongAudience) { try await fixture.keys.verify(pass, event: "another-event") }
            }
        }
    }

    @Test("problems: unknown room 404, closed room 409, forged ticket 404, lost place 410, bad event 400")
    func problems() async throws {
        try await GatewayFixture.with(RoomConfiguration(mode: .paused)) { fixture in
            try await fixture.application.test(.router) { client in
                let missing = try await client.execute(uri: "/api/v1/queue/no-such-room-\(UUID().uuidString.prefix(6))/join", method: .post)
                #expect(missing.status == .notFound)
                #expect(missing.problem?.type == "https://booking-rush.dev/problems/room-not-found")

                let bad = try await client.execute(uri: "/api/v1/queue/bad%20event/join", method: .post)
                #expect(bad.status == .badRequest)
                #expect(bad.problem?.type == "https://booking-rush.dev/problems/invalid-event")

                let forged = try await client.execute(
                    uri: "/api/v1/queue/\(fixture.event)/status", method: .get, headers: [.cookie: "br_visitor=v1.AAAAAAAAAAAAAAAAAAAAAA.forged"]
                )
                #expect(forged.status == .notFound)
                #expect(forged.problem?.type == "https://booking-rush.dev/problems/not-in-queue")

                let joined = try await client.execute(uri: "/api/v1/queue/\(fixture.event)/join", method: .post)
                let ticket = try #require(joined.json["ticket"] as? String)
                let visitor = try #require(VisitorTickets(secret: fixture.configuration.visitorTicketSecret).visitor(from: ticket))
                // The visitor was last seen long ago: the next poll finds the place lost.
                try await fixture.redis.send("ZADD", QueueKeys(event: fixture.event, in: fixture.redis.keySpace).seen, 0, visitor)
                let lost = try await client.execute(uri: "/api/v1/queue/\(fixture.event)/status", method: .get, headers: [.cookie: "br_visitor=\(ticket)"])
                #expect(lost.status == .gone)
                #expect(lost.problem?.type == "https://booking-rush.dev/problems/place-lost")

                try await fixture.room.setMode(event: fixture.event, .closed)
                let closed = try await client.execute(uri: "/api/v1/queue/\(fixture.event)/join", method: .post)
                #expect(closed.status == .conflict)
                #expect(closed.problem?.type == "https://booking-rush.dev/problems/room-closed")
            }
        }
    }

    @Test("leave: 204, then the visitor is not in the queue")
    func leave() async throws {
        try await GatewayFixture.with(RoomConfiguration(mode: .paused)) { fixture in
            try await fixture.application.test(.router) { client in
                let joined = try await client.execute(uri: "/api/v1/queue/\(fixture.event)/join", method: .post)
                let cookie: HTTPFields = [.cookie: "br_visitor=\(try #require(joined.json["ticket"] as? String))"]
                let left = try await client.execute(uri: "/api/v1/queue/\(fixture.event)", method: .delete, headers: cookie)
                #expect(left.status == .noContent)
                let status = try await client.execute(uri: "/api/v1/queue/\(fixture.event)/status", method: .get, headers: cookie)
                #expect(status.status == .notFound)
                let twice = try await client.execute(uri: "/api/v1/queue/\(fixture.event)", method: .delete, headers: cookie)
                #expect(twice.status == .notFound)
            }
        }
    }

    @Test("Server-Sent Events: status while waiting, then admitted with the pass, then the stream ends")
    func serverSentEvents() async throws {
        try await GatewayFixture.with(RoomConfiguration(mode: .queue, releaseRate: 100)) { fixture in
            try await fixture.application.test(.live) { client in
                _ = try await client.execute(uri: "/api/v1/queue/\(fixture.event)/join", method: .post)
                let joined = try await client.execute(uri: "/api/v1/queue/\(fixture.event)/join", method: .post)
                let cookie: HTTPFields = [.cookie: "br_visitor=\(try #require(joined.json["ticket"] as? String))"]
                let releaser = Task {
                    try await Task.sleep(for: .milliseconds(600))
                    try await fixture.release(atLeast: 2)
                }
                let stream = try await client.execute(uri: "/api/v1/queue/\(fixture.event)/events", method: .get, headers: cookie)
                _ = try await releaser.value
                #expect(stream.status == .ok)
                #expect(stream.headers[.contentType] == "text/event-stream")
                let text = String(buffer: stream.body)
                let events = text.components(separatedBy: "\n\n").filter { !$0.isEmpty }
                #expect(events.first?.hasPrefix("event: status\ndata: {") == true)
                #expect(events.first?.contains("\"position\":2") == true)
                let last = try #require(events.last)
                #expect(last.hasPrefix("event: admitted\ndata: "))
                let payload = try JSONSerialization.jsonObject(with: Data(last.dropFirst("event: admitted\ndata: ".count).utf8)) as? [String: Any]
                let pass = try #require(payload?["pass"] as? String)
                #expect(try await fixture.keys.verify(pass, event: fixture.event).event == fixture.event)
            }
        }
    }

    @Test("Server-Sent Events with a place token: fed from the room snapshot, woken by the read that sees the release (not by its 10 s deadline), then admitted")
    func serverSentEventsFromSnapshot() async throws {
        // Released slowly, the second in line polls every 10 s (their ETA over four, at most 10 s).
        let paused = RoomConfiguration(mode: .paused, releaseRate: 0.01, idleTimeout: 3600)
        try await GatewayFixture.with(paused) { fixture in
            try await fixture.applicationRefreshingSnapshots.test(.live) { client in
                _ = try await client.execute(uri: "/api/v1/queue/\(fixture.event)/join", method: .post)
                let joined = try await client.execute(uri: "/api/v1/queue/\(fixture.event)/join", method: .post)
                let ticket = try #require(joined.json["ticket"] as? String)
                let place = try #require(joined.json["place"] as? String)
                let cookie: HTTPFields = [.cookie: "br_visitor=\(ticket); br_place_\(fixture.event)=\(place)"]
                let releaser = Task {
                    try await Task.sleep(for: .milliseconds(1_500))
                    var opened = paused
                    opened.mode = .queue
                    opened.releaseRate = 100
                    try await fixture.room.configure(event: fixture.event, opened)
                    try await fixture.release(atLeast: 2)
                    return ContinuousClock.now
                }
                let stream = try await client.execute(uri: "/api/v1/queue/\(fixture.event)/events", method: .get, headers: cookie)
                let ended = ContinuousClock.now
                let released = try await releaser.value
                #expect(stream.status == .ok)
                let events = String(buffer: stream.body).components(separatedBy: "\n\n").filter { !$0.isEmpty }
                #expect(events.first?.hasPrefix("event: status\ndata: {") == true)
                #expect(events.first?.contains("\"position\":2") == true, "\(events)")
                let last = try #require(events.last)
                #expect(last.hasPrefix("event: admitted\ndata: "), "\(events)")
                let payload = try JSONSerialization.jsonObject(with: Data(last.dropFirst("event: admitted\ndata: ".count).utf8)) as? [String: Any]
                #expect(try await fixture.keys.verify(try #require(payload?["pass"] as? String), event: fixture.event).event == fixture.event)
                #expect(ended - released < .seconds(5), "the stream waits 10 s between looks unless its room's snapshot changes")
            }
        }
    }

    @Test("Server-Sent Events: a visitor removed while streaming gets `lost` with the problem, and the stream ends")
    func serverSentEventsLost() async throws {
        try await GatewayFixture.with(RoomConfiguration(mode: .paused, releaseRate: 10)) { fixture in
            try await fixture.application.test(.live) { client in
                let joined = try await client.execute(uri: "/api/v1/queue/\(fixture.event)/join", method: .post)
                let ticket = try #require(joined.json["ticket"] as? String)
                let visitor = try #require(VisitorTickets(secret: fixture.configuration.visitorTicketSecret).visitor(from: ticket))
                let remover = Task {
                    try await Task.sleep(for: .milliseconds(600))
                    return try await fixture.room.leave(event: fixture.event, visitor: visitor)
                }
                let stream = try await client.execute(uri: "/api/v1/queue/\(fixture.event)/events", method: .get, headers: [.cookie: "br_visitor=\(ticket)"])
                #expect(try await remover.value, "the visitor was in the room when removed")
                #expect(stream.status == .ok)
                let events = String(buffer: stream.body).components(separatedBy: "\n\n").filter { !$0.isEmpty }
                #expect(events.first?.hasPrefix("event: status\ndata: {") == true)
                let last = try #require(events.last)
                #expect(last.hasPrefix("event: lost\ndata: "), "\(events)")
                let problem = try JSONSerialization.jsonObject(with: Data(last.dropFirst("event: lost\ndata: ".count).utf8)) as? [String: Any]
                #expect(problem?["type"] as? String == "https://booking-rush.dev/problems/not-in-queue")
                #expect(!events.dropLast().contains { $0.hasPrefix("event: admitted") })
            }
        }
    }

    @Test("draw: the seed's commitment before opens_at, the matching seed and pre-queue size after; unknown room 404")
    func draw() async throws {
        let opensAt = Int64(Date().timeIntervalSince1970 * 1000) + 60_000
        try await GatewayFixture.with(RoomConfiguration(mode: .queue, releaseRate: 10, opensAt: opensAt)) { fixture in
            try await fixture.application.test(.router) { client in
                let joined = try await client.execute(uri: "/api/v1/queue/\(fixture.event)/join", method: .post)
                #expect(joined.json["status"] as? String == "prequeue")
                let before = try await client.execute(uri: "/api/v1/queue/\(fixture.event)/draw", method: .get)
                #expect(before.status == .ok)
                #expect(before.headers[.cacheControl] == "no-store")
                let commitment = try #require(before.json["seed_commitment"] as? String)
                #expect(commitment.count == 64)
                #expect(before.json["seed"] == nil, "the seed stays secret until opens_at")
                #expect(before.json["opened"] as? Bool == false)

                // The operator brings the opening forward to now, as a PATCH of opens_at would.
                let now = Int64(Date().timeIntervalSince1970 * 1000)
                try await fixture.room.configure(event: fixture.event, RoomConfiguration(mode: .queue, releaseRate: 10, opensAt: now))
                _ = try await fixture.room.release(event: fixture.event)
                let after = try await client.execute(uri: "/api/v1/queue/\(fixture.event)/draw", method: .get)
                let seed = try #require(after.json["seed"] as? String)
                #expect(WaitingRoom.commitment(toSeed: seed) == commitment)
                #expect(after.json["seed_commitment"] as? String == commitment)
                #expect(after.json["prequeue_size"] as? Int == 1)
                #expect((after.json["rule"] as? String)?.contains("SHA-1") == true)

                let unknown = try await client.execute(uri: "/api/v1/queue/no-such-room-\(UUID().uuidString.prefix(8).lowercased())/draw", method: .get)
                #expect(unknown.status == .notFound)
                #expect(unknown.headers[.contentType] == "application/problem+json")
            }
        }
    }

    @Test("JWKS publishes the ES256 public keys by kid")
    func jwks() async throws {
        try await GatewayFixture.with { fixture in
            try await fixture.application.test(.router) { client in
                let response = try await client.execute(uri: "/.well-known/jwks.json", method: .get)
                #expect(response.status == .ok)
                let keys = try #require(response.json["keys"] as? [[String: Any]])
                #expect(keys.count == 1)
                #expect(keys.first?["kid"] as? String == fixture.keys.activeKid)
                #expect(keys.first?["alg"] as? String == "ES256")
                #expect(keys.first?["d"] == nil, "private key material never leaves")
            }
        }
    }
}
