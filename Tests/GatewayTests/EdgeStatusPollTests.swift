import Foundation
@testable import Gateway
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import Queue
import Redis
import Testing

@Suite("Status polls answered at the edge from the room snapshot")
struct EdgeStatusPollTests {
    /// Files `count` new visitors in the fixture's room: each one's ticket and place token, in join order.
    static func join(_ count: Int, fixture: GatewayFixture) async throws -> [(ticket: String, place: String)] {
        var visitors: [(String, String)] = []
        for _ in 0..<count {
            let issued = fixture.tickets.issue()
            let joined = try await fixture.room.join(event: fixture.event, visitor: issued.visitor)
            let spot = try #require(joined.spot)
            visitors.append((issued.ticket, fixture.tickets.placeToken(event: fixture.event, visitor: issued.visitor, spot: spot)))
        }
        return visitors
    }

    static func poll(_ event: String, _ fields: [(String, String)], method: HTTPMethod = .GET, query: String = "") -> HTTPRequestHead {
        HTTPRequestHead(version: .http1_1, method: method, uri: "/api/v1/queue/\(event)/status\(query)", headers: HTTPHeaders(fields))
    }

    static func json(_ response: EdgeResponse) -> [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(buffer: response.body))) as? [String: Any] ?? [:]
    }

    @Test("the event of a queue path: the action must match, the query is ignored, invalid event ids and other paths give none", arguments: [
        ("/api/v1/queue/sale-1/status", "sale-1"),
        ("/api/v1/queue/Sale_2.b/status?x=1&y=/status", "Sale_2.b"),
        ("/api/v1/queue/\(String(repeating: "e", count: 64))/status", String(repeating: "e", count: 64)),
        ("/api/v1/queue/\(String(repeating: "e", count: 65))/status", nil),
        ("/api/v1/queue//status", nil),
        ("/api/v1/queue/status", nil),
        ("/api/v1/queue/a/b/status", nil),
        ("/api/v1/queue/sale%20x/status", nil),
        ("/api/v1/queue/séance/status", nil),
        ("/api/v1/queue/sale-1/join", nil),
        ("/api/v1/queue/sale-1/statusx", nil),
        ("/api/v1/queue/sale-1xstatus", nil),
        ("/api/v2/queue/sale-1/status", nil),
        ("/api/v1/queue/sale-1/status/", nil),
        ("?/api/v1/queue/sale-1/status", nil),
        ("", nil),
    ] as [(String, String?)])
    func queueEventOfPath(target: String, event: String?) {
        #expect(target.queueEvent(action: "status") == event)
    }

    @Test("a genuine ticket and place token get the snapshot's answer while it is fresh; anything else goes to the router")
    func answersOnlyWhatTheSnapshotKnows() async throws {
        try await GatewayFixture.with(RoomConfiguration(mode: .paused, releaseRate: 10)) { fixture in
            let visitors = try await Self.join(3, fixture: fixture)
            let snapshots = RoomSnapshots(room: fixture.room, tick: .milliseconds(300), logger: Logger(label: "edge-polls-test"))
            let polls = EdgeStatusPolls(tickets: fixture.tickets, snapshots: snapshots)
            let event = fixture.event
            let second = [("Visitor-Ticket", visitors[1].ticket), ("Queue-Place", visitors[1].place)]
            #expect(polls.answer(Self.poll(event, second)) == nil, "no snapshot read yet: the router reads it")

            _ = try await snapshots.snapshot(event: event)
            let readAt = ContinuousClock.now
            let answer = try #require(polls.answer(Self.poll(event, second, query: "?t=1")))
            #expect(answer.status == .ok)
            #expect(answer.headers.first(name: "content-type") == "application/json; charset=utf-8")
            #expect(answer.headers.first(name: "cache-control") == "no-store")
            #expect(answer.headers.first(name: "content-length") == String(answer.body.readableBytes))
            let body = Self.json(answer)
            #expect(body["status"] as? String == "waiting")
            #expect(body["position"] as? Int == 2)
            #expect(body["ahead"] as? Int == 1)
            #expect(body["poll_after_ms"] is Int)
            #expect(body["pass"] == nil && body["ticket"] == nil)

            let byCookie = [("Cookie", "theme=dark; br_visitor=\(visitors[2].ticket); br_place_\(event)=\(visitors[2].place)")]
            #expect(polls.answer(Self.poll(event, byCookie)).map(Self.json)?["position"] as? Int == 3)

            let borrowed = [("Visitor-Ticket", visitors[2].ticket), ("Queue-Place", visitors[0].place)]
            #expect(polls.answer(Self.poll(event, borrowed)) == nil, "another visitor's place token")
            let forged = [("Visitor-Ticket", visitors[1].ticket + "x"), ("Queue-Place", visitors[1].place)]
            #expect(polls.answer(Self.poll(event, forged)) == nil, "a forged ticket")
            #expect(polls.answer(Self.poll(event, [("Visitor-Ticket", visitors[1].ticket)])) == nil, "no place token")
            #expect(polls.answer(Self.poll(event, second + [("Authorization", "Bearer x")])) == nil, "an access token speaks for a user")
            #expect(polls.answer(Self.poll(event, second, method: .POST)) == nil)
            #expect(polls.answer(Self.poll("another-room", second)) == nil, "a token for another room")
            #expect(polls.answer(Self.poll("a%2Fb", second)) == nil, "not a valid event id")
            var longer = Self.poll(event, second)
            longer.uri += "x"
            #expect(polls.answer(longer) == nil)

            let (answered, reads) = (snapshots.answers, snapshots.reads)
            try await Task.sleep(for: .milliseconds(400))
            // On a machine stalled past two ticks since the read, the snapshot is rightly too old.
            guard ContinuousClock.now - readAt < .milliseconds(550) else { return }
            #expect(polls.answer(Self.poll(event, second)) != nil, "between one tick and two, the snapshot in hand answers")
            var read = snapshots.reads
            for _ in 0..<100 where read == reads {
                try await Task.sleep(for: .milliseconds(5))
                read = snapshots.reads
            }
            #expect(read == reads + 1, "... and the poll started the next read")
            try await Task.sleep(for: .milliseconds(700))
            #expect(polls.answer(Self.poll(event, second)) == nil, "a snapshot older than two ticks is not used")
            #expect(snapshots.answers == answered + 1)
        }
    }

    @Test("through a live gateway: polls by header or cookie on one connection, answered by the edge, counted as signs of life")
    func livePolls() async throws {
        try await GatewayFixture.with(RoomConfiguration(mode: .paused, releaseRate: 10, idleTimeout: 5)) { fixture in
            let visitors = try await Self.join(3, fixture: fixture)
            let event = fixture.event
            let snapshots = fixture.components.snapshots
            try await fixture.application.test(.live) { client in
                let atOnceBefore = snapshots.answersAtOnce
                var polls = 0
                let until = ContinuousClock.now + .milliseconds(5_800)
                while ContinuousClock.now < until {
                    let byHeader = try await client.execute(
                        uri: "/api/v1/queue/\(event)/status", method: .get,
                        headers: [HTTPField.Name("Visitor-Ticket")!: visitors[0].ticket, HTTPField.Name("Queue-Place")!: visitors[0].place]
                    )
                    let byCookie = try await client.execute(
                        uri: "/api/v1/queue/\(event)/status", method: .get,
                        headers: [.cookie: "br_visitor=\(visitors[2].ticket); br_place_\(event)=\(visitors[2].place)"]
                    )
                    polls += 2
                    #expect(byHeader.status == .ok && byHeader.json["position"] as? Int == 1)
                    // Visitor 1 never polls: once past idle_timeout (5 s) it may be dropped, and visitor 3 moves up.
                    let positions = ContinuousClock.now < until - .milliseconds(800) ? [3] : [2, 3]
                    #expect(byCookie.status == .ok && positions.contains(byCookie.json["position"] as? Int ?? 0), "\(String(buffer: byCookie.body))")
                    #expect(byHeader.headers[.contentType] == "application/json; charset=utf-8")
                    #expect(byCookie.headers[HTTPField.Name("X-Request-Id")!] != nil)
                    try await Task.sleep(for: .milliseconds(100))
                }
                let atOnce = snapshots.answersAtOnce - atOnceBefore
                #expect(atOnce > polls / 2, "\(atOnce) of \(polls) polls were answered by the edge without waiting")
            }
            _ = try await fixture.room.release(event: event)
            let ids = try visitors.map { try #require(fixture.tickets.visitor(from: $0.ticket)) }
            #expect(try await fixture.room.status(event: event, visitor: ids[0]).isWaiting)
            #expect(try await fixture.room.status(event: event, visitor: ids[2]).isWaiting)
            await #expect(throws: QueueError.placeLost) { try await fixture.room.status(event: event, visitor: ids[1]) }
        }
    }

    @Test("behind a local route's policies: the rate limit still applies first, then the edge answers from the snapshot")
    func localRouteLimitsFirst() async throws {
        let routes = RouteTable(routes: [
            ProxyRoute(
                name: "polls-\(UUID().uuidString.prefix(8).lowercased())", prefix: "/api/v1/queue/*/status", methods: ["GET"], upstreams: [],
                authentication: .none, rateLimits: [RateLimitRule(name: "polls", key: "ip", limit: 6, period: 60)], local: true
            ),
        ])
        try await GatewayFixture.with(RoomConfiguration(mode: .paused, releaseRate: 10), routes: routes) { fixture in
            let visitor = try #require(try await Self.join(1, fixture: fixture).first)
            _ = try await fixture.components.snapshots.snapshot(event: fixture.event)
            try await fixture.application.test(.live) { client in
                let atOnceBefore = fixture.components.snapshots.answersAtOnce
                var statuses: [Int] = []
                for _ in 0..<8 {
                    let poll = try await client.execute(
                        uri: "/api/v1/queue/\(fixture.event)/status", method: .get,
                        headers: [HTTPField.Name("Visitor-Ticket")!: visitor.ticket, HTTPField.Name("Queue-Place")!: visitor.place]
                    )
                    statuses.append(poll.status.code)
                    if poll.status == .ok {
                        #expect(poll.json["position"] as? Int == 1)
                        #expect(poll.headers[HTTPField.Name("RateLimit")!] != nil, "the policy's fields join the edge's answer")
                    }
                }
                #expect(statuses == Array(repeating: 200, count: 6) + [429, 429])
                #expect(fixture.components.snapshots.answersAtOnce - atOnceBefore >= 1, "answered by the edge behind the policies")
            }
        }
    }

    @Test("polls answered on several threads all reach Redis as signs of life with the room's next read")
    func pollsFromEveryThreadReachRedis() async throws {
        try await GatewayFixture.with(RoomConfiguration(mode: .paused, releaseRate: 10)) { fixture in
            let visitors = try await Self.join(9, fixture: fixture)
            let event = fixture.event
            let snapshots = RoomSnapshots(room: fixture.room, tick: .milliseconds(300), logger: Logger(label: "edge-polls-test"))
            let seen = QueueKeys(event: event, in: fixture.redis.keySpace).seen
            let earlier = Int(Date().timeIntervalSince1970 * 1000) - 60_000
            var polled: [(visitor: String, spot: QueueSpot)] = []
            for visitor in visitors {
                let id = try #require(fixture.tickets.visitor(from: visitor.ticket))
                let spot = try #require(fixture.tickets.spot(fromPlaceToken: visitor.place, event: event, visitor: id))
                try await fixture.redis.send("ZADD", seen, earlier, id)
                polled.append((id, spot))
            }
            let silent = polled.removeLast().visitor
            _ = try await snapshots.snapshot(event: event)

            let group = MultiThreadedEventLoopGroup(numberOfThreads: 4)
            for (visitor, spot) in polled {
                let loop = group.next()
                let place = try await loop.submit { snapshots.placeIfFresh(event: event, visitor: visitor, spot: spot) }.get()
                #expect(place != nil, "answered from the fresh snapshot")
            }
            try await group.shutdownGracefully()
            #expect(snapshots.answersAtOnce == polled.count)

            try await Task.sleep(for: .milliseconds(350))
            _ = try await snapshots.snapshot(event: event)
            for (visitor, _) in polled {
                #expect(try await fixture.redis.send("ZSCORE", seen, visitor).double ?? 0 > Double(earlier), "\(visitor)'s poll reached Redis")
            }
            #expect(try await fixture.redis.send("ZSCORE", seen, silent).double == Double(earlier), "a visitor who did not poll is not seen")
        }
    }
}
