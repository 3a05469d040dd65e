import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import Queue
import Redis
import ServiceTestSupport
import Testing

@testable import Gateway

@Suite("Rate limits, idempotency keys and queue passes on proxied routes")
struct EdgePolicyTests {
    static func limited(_ upstream: String, suffix: String, fail: RateLimitRule.FailMode = .open) -> ProxyRoute {
        ProxyRoute(name: "limited-\(suffix)", prefix: "/api/echo", upstreams: [upstream], rateLimits: [
            RateLimitRule(name: "wide", key: "ip", limit: 100, period: 3_600, fail: fail),
            RateLimitRule(name: "narrow", key: "ip", limit: 3, period: 60, fail: fail),
        ])
    }

    @Test("exactly at the limit: 3 pass with falling RateLimit, the 4th is 429 and charges nothing")
    func rateLimitBoundary() async throws {
        try await UpstreamServer.with { upstream in
            try await GatewayFixture.with(routes: RouteTable(routes: [Self.limited(upstream.url, suffix: UUID().uuidString.prefix(8).lowercased())])) { fixture in
                try await fixture.application.test(.live) { client in
                    for remaining in [2, 1, 0] {
                        let response = try await client.execute(uri: "/api/echo/x", method: .get)
                        #expect(response.status == .ok)
                        #expect(response.headers[.rateLimitPolicy] == #""wide";q=100;w=3600, "narrow";q=3;w=60"#)
                        #expect(response.headers[.rateLimit]?.contains(#""narrow";r=\#(remaining);"#) == true)
                    }
                    let denied = try await client.execute(uri: "/api/echo/x", method: .get)
                    #expect(denied.status == .tooManyRequests)
                    #expect(denied.problem?.type == "https://booking-rush.dev/problems/rate-limited")
                    let retryAfter = try #require(denied.headers[.retryAfter].flatMap { Int($0) })
                    #expect((15...20).contains(retryAfter), "one request's worth of 60 s / 3")
                    // The denied request did not charge the wide rule (one token per 36 s): it still has 97 left.
                    #expect(denied.headers[.rateLimit]?.contains(#""wide";r=97;"#) == true)
                    #expect(upstream.callCount == 3)
                }
            }
        }
    }

    @Test("limits keyed by user and by a header count each subject apart; without a user the address is the subject")
    func rateLimitSubjects() async throws {
        try await UpstreamServer.with { upstream in
            let suffix = UUID().uuidString.prefix(8).lowercased()
            let routes = RouteTable(routes: [
                ProxyRoute(name: "per-user-\(suffix)", prefix: "/api/echo/user", upstreams: [upstream.url], authentication: .optional, rateLimits: [
                    RateLimitRule(name: "user", key: "user", limit: 2, period: 60),
                ]),
                ProxyRoute(name: "per-tenant-\(suffix)", prefix: "/api/echo/tenant", upstreams: [upstream.url], rateLimits: [
                    RateLimitRule(name: "tenant", key: "header:X-Tenant", limit: 2, period: 60),
                ]),
            ])
            try await GatewayFixture.with(routes: routes) { fixture in
                let alice: HTTPFields = [.authorization: "Bearer \(try await fixture.accessToken(user: "alice-\(suffix)"))"]
                let bob: HTTPFields = [.authorization: "Bearer \(try await fixture.accessToken(user: "bob-\(suffix)"))"]
                try await fixture.application.test(.live) { client in
                    let statuses = { (uri: String, headers: HTTPFields, times: Int) async throws -> [Int] in
                        var statuses: [Int] = []
                        for _ in 0..<times { statuses.append(try await client.execute(uri: uri, method: .get, headers: headers).status.code) }
                        return statuses
                    }
                    let answers1 = try await statuses("/api/echo/user/x", alice, 3)
                    #expect(answers1 == [200, 200, 429])
                    let answers2 = try await statuses("/api/echo/user/x", bob, 3)
                    #expect(answers2 == [200, 200, 429], "bob has his own budget, from the same address")
                    let answers3 = try await statuses("/api/echo/user/x", [:], 3)
                    #expect(answers3 == [200, 200, 429], "anonymous callers share their address's budget")

                    let acme: HTTPFields = [HTTPField.Name("X-Tenant")!: "acme"]
                    let answers4 = try await statuses("/api/echo/tenant/x", acme, 3)
                    #expect(answers4 == [200, 200, 429])
                    let answers5 = try await statuses("/api/echo/tenant/x", [HTTPField.Name("X-Tenant")!: "globex"], 3)
                    #expect(answers5 == [200, 200, 429])
                    let answers6 = try await statuses("/api/echo/tenant/x", [:], 2)
                    #expect(answers6 == [200, 200], "no header is one more subject")
                    let answers7 = try await statuses("/api/echo/tenant/x", acme, 1)
                    #expect(answers7 == [429], "acme is still over")
                }
            }
        }
    }

    @Test("two gateway instances share one limit")
    func sharedLimit() async throws {
        try await UpstreamServer.with { upstream in
            let route = Self.limited(upstream.url, suffix: UUID().uuidString.prefix(8).lowercased())
            try await GatewayFixture.with(routes: RouteTable(routes: [route])) { first in
                try await GatewayFixture.with(routes: RouteTable(routes: [route]), keySpace: first.redis.keySpace) { second in
                    let statuses = try await first.application.test(.live) { one in
                        try await second.application.test(.live) { two in
                            var statuses: [HTTPResponse.Status] = []
                            for index in 0..<6 {
                                statuses.append(try await (index % 2 == 0 ? one : two).execute(uri: "/api/echo/x", method: .get).status)
                            }
                            return statuses
                        }
                    }
                    #expect(statuses.filter { $0 == .ok }.count == 3)
                    #expect(statuses.filter { $0 == .tooManyRequests }.count == 3)
                }
            }
        }
    }

    @Test("Redis down: fail-open rules let requests through, fail-closed rules answer 503")
    func failModes() async throws {
        try await UpstreamServer.with { upstream in
            let deadRedis = RedisClient(configuration: RedisConfiguration(port: 1, connectTimeout: .milliseconds(100)))
            for (mode, expected) in [(RateLimitRule.FailMode.open, HTTPResponse.Status.ok), (.closed, .serviceUnavailable)] {
                try await GatewayFixture.with(routes: RouteTable(routes: [Self.limited(upstream.url, suffix: "dead", fail: mode)])) { fixture in
                    let components = GatewayComponents(
                        configuration: fixture.configuration, redis: deadRedis, room: fixture.room, passKeys: fixture.keys,
                        accessTokens: fixture.components.accessTokens, httpClient: fixture.components.httpClient, accounts: nil
                    )
                    try await Application(router: buildGatewayRouter(components), server: gatewayServer(components)).test(.live) { client in
                        let response = try await client.execute(uri: "/api/echo/x", method: .get)
                        #expect(response.status == expected, "fail \(mode)")
                        if mode == .closed {
                            #expect(response.problem?.type == "https://booking-rush.dev/problems/rate-limiter-unavailable")
                            #expect(response.headers[.retryAfter] == "1")
                        }
                    }
                }
            }
            await deadRedis.shutdown()
        }
    }

    static func idempotent(_ upstream: String, mode: ProxyRoute.IdempotencyMode = .required, authentication: ProxyRoute.Authentication = .optional) -> RouteTable {
        RouteTable(routes: [
            ProxyRoute(name: "buy", prefix: "/api/events", upstreams: [upstream], authentication: authentication, idempotency: mode),
            ProxyRoute(name: "down", prefix: "/api/down", upstreams: ["http://127.0.0.1:1"], idempotency: .required),
        ])
    }

    @Test("20 parallel duplicates with one key: exactly one upstream call; then byte-for-byte replays")
    func parallelDuplicates() async throws {
        try await UpstreamServer.with(delay: .milliseconds(400)) { upstream in
            try await GatewayFixture.with(routes: Self.idempotent(upstream.url)) { fixture in
                try await fixture.application.test(.live) { client in
                    let key = UUID().uuidString
                    let body = #"{"seats":2}"#
                    let responses = try await withThrowingTaskGroup(of: (HTTPResponse.Status, String, String?).self) { group in
                        for _ in 0..<20 {
                            group.addTask {
                                let response = try await client.execute(
                                    uri: "/api/events/e1/buy", method: .post,
                                    headers: [.idempotencyKey: key, .contentType: "application/json"], body: ByteBuffer(string: body)
                                )
                                return (response.status, String(buffer: response.body), response.headers[.retryAfter])
                            }
                        }
                        return try await group.reduce(into: []) { $0.append($1) }
                    }
                    #expect(upstream.callCount == 1)
                    let created = responses.filter { $0.0 == .created }
                    let conflicts = responses.filter { $0.0 == .conflict }
                    #expect(created.count + conflicts.count == 20)
                    #expect(created.count >= 1)
                    #expect(conflicts.allSatisfy { $0.2 != nil }, "409s carry Retry-After")

                    let original = try #require(created.first?.1)
                    let replay = try await client.execute(
                        uri: "/api/events/e1/buy", method: .post, headers: [.idempotencyKey: "\"\(key)\"", .contentType: "application/json"],
                        body: ByteBuffer(string: body)
                    )
                    #expect(replay.status == .created)
                    #expect(replay.headers[.idempotentReplayed] == "true")
                    #expect(String(buffer: replay.body) == original)
                    #expect(replay.headers[.location] == "/orders/1")
                    #expect(upstream.callCount == 1)

                    let changed = try await client.execute(
                        uri: "/api/events/e1/buy", method: .post, headers: [.idempotencyKey: key], body: ByteBuffer(string: #"{"seats":3}"#)
                    )
                    #expect(changed.status == .unprocessableContent)
                    #expect(changed.problem?.type == "https://booking-rush.dev/problems/idempotency-key-reused")
                }
            }
        }
    }

    @Test("a missing or malformed key is 400; rejections claim nothing; an unreachable upstream releases the key")
    func keyRules() async throws {
        try await UpstreamServer.with { upstream in
            try await GatewayFixture.with(routes: Self.idempotent(upstream.url, authentication: .required)) { fixture in
                try await fixture.application.test(.live) { client in
                    let token = try await fixture.accessToken(user: "bob")
                    let auth: HTTPFields = [.authorization: "Bearer \(token)"]
                    let missing = try await client.execute(uri: "/api/events/e1/buy", method: .post, headers: auth)
                    #expect(missing.status == .badRequest)
                    #expect(missing.problem?.type == "https://booking-rush.dev/problems/idempotency-key-missing")
                    var malformed = auth
                    malformed[.idempotencyKey] = String(repeating: "k", count: 300)
                    #expect(try await client.execute(uri: "/api/events/e1/buy", method: .post, headers: malformed).status == .badRequest)

                    let key = UUID().uuidString
                    let unauthorized = try await client.execute(uri: "/api/events/e1/buy", method: .post, headers: [.idempotencyKey: key])
                    #expect(unauthorized.status == .unauthorized)
                    var keyed = auth
                    keyed[.idempotencyKey] = key
                    let first = try await client.execute(uri: "/api/events/e1/buy", method: .post, headers: keyed)
                    #expect(first.status == .created, "the 401 did not claim the key")
                    #expect(first.headers[.idempotentReplayed] == nil)

                    let downKey = UUID().uuidString
                    let down = try await client.execute(uri: "/api/down/x", method: .post, headers: [.idempotencyKey: downKey])
                    #expect(down.status == .badGateway)
                    let retried = try await client.execute(uri: "/api/down/x", method: .post, headers: [.idempotencyKey: downKey])
                    #expect(retried.status == .badGateway, "released after a connect failure, not 409 in flight")
                }
            }
        }
    }

    @Test("the key is forwarded upstream and scoped per principal")
    func forwardedAndScoped() async throws {
        try await UpstreamServer.with { upstream in
            try await GatewayFixture.with(routes: RouteTable(routes: [
                ProxyRoute(name: "echo", prefix: "/api/echo", upstreams: [upstream.url], idempotency: .optional),
            ])) { fixture in
                try await fixture.application.test(.live) { client in
                    let key = UUID().uuidString
                    let alice = try await fixture.accessToken(user: "alice")
                    let bob = try await fixture.accessToken(user: "bob")
                    let first = try await client.execute(uri: "/api/echo/x", method: .post, headers: [.idempotencyKey: key, .authorization: "Bearer \(alice)"])
                    let echo = try JSONDecoder().decode(UpstreamServer.Echo.self, from: first.body)
                    #expect(echo.headers["idempotency-key"] == key)
                    let other = try await client.execute(uri: "/api/echo/x", method: .post, headers: [.idempotencyKey: key, .authorization: "Bearer \(bob)"])
                    #expect(other.headers[.idempotentReplayed] == nil, "another principal's key is another key")
                    #expect(upstream.callCount == 2)
                }
            }
        }
    }

    @Test("a retry with a completed Idempotency-Key is replayed before the pass is checked: a spent single-use pass does not refuse it")
    func replayBeforePass() async throws {
        try await UpstreamServer.with { upstream in
            try await GatewayFixture.with(
                RoomConfiguration(mode: .queue, releaseRate: 1_000),
                routes: RouteTable(routes: [
                    ProxyRoute(name: "buy", prefix: "/api/events", upstreams: [upstream.url], idempotency: .optional, queuePass: QueuePassPolicy(eventFrom: "path:2", singleUse: true)),
                ])
            ) { fixture in
                let event = fixture.event
                try await fixture.application.test(.live) { client in
                    let joined = try await client.execute(uri: "/api/v1/queue/\(event)/join", method: .post)
                    var headers: HTTPFields = [HTTPField.Name("Visitor-Ticket")!: try #require(joined.json["ticket"] as? String)]
                    try await fixture.release(atLeast: 1)
                    headers[.queuePass] = try #require(try await client.execute(uri: "/api/v1/queue/\(event)/status", method: .get, headers: headers).json["pass"] as? String)
                    headers[.idempotencyKey] = UUID().uuidString

                    let first = try await client.execute(uri: "/api/events/\(event)/buy", method: .post, headers: headers)
                    #expect(first.status == .created)
                    let retried = try await client.execute(uri: "/api/events/\(event)/buy", method: .post, headers: headers)
                    #expect(retried.status == .created, "the lost answer is replayed: \(String(buffer: retried.body))")
                    #expect(retried.headers[.idempotentReplayed] == "true")
                    #expect(retried.headers[.location] == first.headers[.location])
                    #expect(upstream.callCount == 1, "the upstream acted once")

                    headers[.idempotencyKey] = UUID().uuidString
                    let fresh = try await client.execute(uri: "/api/events/\(event)/buy", method: .post, headers: headers)
                    #expect(fresh.status == .forbidden, "a new request with the spent pass is refused")
                    headers[.queuePass] = nil
                    let noPass = try await client.execute(uri: "/api/events/\(event)/buy", method: .post, headers: headers)
                    #expect(noPass.status == .forbidden, "its key was given back, and without a pass it is still refused")
                    #expect(noPass.problem?.type == "https://booking-rush.dev/problems/queue-pass-required")
                    #expect(upstream.callCount == 1)
                }
            }
        }
    }

    @Test("guarded routes need a pass for the event while its room queues; single-use passes work once")
    func passEnforcement() async throws {
        try await UpstreamServer.with { upstream in
            try await GatewayFixture.with(
                RoomConfiguration(mode: .queue, releaseRate: 1_000),
                routes: RouteTable(routes: [
                    ProxyRoute(name: "buy", prefix: "/api/events", upstreams: [upstream.url], queuePass: QueuePassPolicy(eventFrom: "path:2", singleUse: true)),
                    ProxyRoute(name: "fail", prefix: "/api/fail", upstreams: [upstream.url], queuePass: QueuePassPolicy(eventFrom: "header:X-Event-Id", singleUse: true)),
                    ProxyRoute(name: "echo", prefix: "/api/echo", upstreams: [upstream.url], queuePass: QueuePassPolicy(eventFrom: "body:event_id")),
                ])
            ) { fixture in
                let event = fixture.event
                try await fixture.application.test(.live) { client in
                    let none = try await client.execute(uri: "/api/events/\(event)/buy", method: .post)
                    #expect(none.status == .forbidden)
                    let bodyGuarded = try await client.execute(uri: "/api/echo/x", method: .post, body: ByteBuffer(string: #"{"event_id":"\#(event)"}"#))
                    #expect(bodyGuarded.status == .forbidden, "a POST naming the event in its body needs a pass")
                    #expect(try await client.execute(uri: "/api/echo/x", method: .get).status == .ok, "a GET has no body to name an event: not guarded")
                    #expect(none.problem?.type == "https://booking-rush.dev/problems/queue-pass-required")

                    let joined = try await client.execute(uri: "/api/v1/queue/\(event)/join", method: .post)
                    let ticket: HTTPFields = [HTTPField.Name("Visitor-Ticket")!: try #require(joined.json["ticket"] as? String)]
                    try await fixture.release(atLeast: 1)
                    let status = try await client.execute(uri: "/api/v1/queue/\(event)/status", method: .get, headers: ticket)
                    let pass = try #require(status.json["pass"] as? String)

                    let other = "other-\(UUID().uuidString.prefix(6).lowercased())"
                    try await fixture.room.configure(event: other, RoomConfiguration(mode: .queue))
                    var presented = ticket
                    presented[.queuePass] = pass
                    let wrongEvent = try await client.execute(uri: "/api/events/\(other)/buy", method: .post, headers: presented)
                    #expect(wrongEvent.status == .forbidden)
                    #expect(wrongEvent.problem?.detail?.contains("another audience") == true)

                    var failing = presented
                    failing[HTTPField.Name("X-Event-Id")!] = event
                    let failed = try await client.execute(uri: "/api/fail", method: .post, headers: failing)
                    #expect(failed.status == .internalServerError)

                    let used = try await client.execute(uri: "/api/events/\(event)/buy", method: .post, headers: presented)
                    #expect(used.status == .created, "a failed upstream call did not spend the pass")
                    let again = try await client.execute(uri: "/api/events/\(event)/buy", method: .post, headers: [.cookie: "br_pass_\(event)=\(pass); br_visitor=\(ticket[HTTPField.Name("Visitor-Ticket")!]!)"])
                    #expect(again.status == .forbidden)
                    #expect(again.problem?.detail?.contains("already been used") == true)

                    try await fixture.room.setMode(event: other, .open)
                    try await Task.sleep(for: .milliseconds(1_100))
                    let open = try await client.execute(uri: "/api/events/\(other)/buy", method: .post)
                    #expect(open.status == .created, "an open room needs no pass")
                    try await fixture.room.delete(event: other)
                }
            }
        }
    }
}

@Suite("The local deny cache")
struct DenyCacheTests {
    @Test("a subject over its limit is denied from the cache until its retry time, without asking Redis")
    func cachedDenials() async throws {
        let redis = RedisClient(configuration: try TestRedis.configuration())
        let limiter = RateLimiter(redis: redis, timeout: .seconds(2))
        let route = ProxyRoute(name: "cache-\(UUID().uuidString.prefix(8))", prefix: "/x", upstreams: ["http://unused"], rateLimits: [
            RateLimitRule(name: "tight", key: "ip", limit: 1, period: 2),
            RateLimitRule(name: "loose", key: "route", limit: 1_000, period: 2),
        ])
        #expect(await limiter.check(route: route, subjects: ["ip:a", "all"]).verdict == .allowed)
        let denied = await limiter.check(route: route, subjects: ["ip:a", "all"])
        #expect(denied.verdict == .denied(retryAfter: 2))
        #expect(!denied.cached)
        await TestRedis.deleteKeySpace(of: redis)
        // Redis is gone for this client (and its buckets with it): only the cache can answer now.
        let cached = await limiter.check(route: route, subjects: ["ip:a", "all"])
        #expect(cached.cached)
        guard case .denied(let retryAfter) = cached.verdict else {
            Issue.record("the cache let a denied subject through: \(cached.verdict)")
            return
        }
        #expect((1...2).contains(retryAfter), "what is left of the 2 s, rounded up")
        // Another subject is not denied by the cache (the shared "loose" key was never over its limit).
        let other = await limiter.check(route: route, subjects: ["ip:b", "all"])
        #expect(!other.cached)
        try await Task.sleep(for: .milliseconds(2_100))
        #expect(!(await limiter.check(route: route, subjects: ["ip:a", "all"]).cached), "the cached denial lapses at the retry time")
    }
}
