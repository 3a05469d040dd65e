import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import Queue
import Redis
import Testing

@testable import Gateway

/// The gateway's own routes under floods, through the same policy chain as proxied routes.
@Suite("Flood limits on joins, registrations and logins")
struct FloodLimitTests {
    static let forwardedFor = HTTPField.Name("X-Forwarded-For")!

    static func unique(_ name: String) -> String { "\(name)-\(UUID().uuidString.prefix(8).lowercased())" }

    static func json(_ object: [String: Any]) -> ByteBuffer {
        ByteBuffer(bytes: try! JSONSerialization.data(withJSONObject: object))
    }

    @Test("300 joins from one address: 429 with Retry-After beyond the limit, the room holds only those let in; another address still joins")
    func joinFlood() async throws {
        let routes = RouteTable(routes: [
            ProxyRoute(
                name: Self.unique("join"), prefix: "/api/v1/queue/*/join", methods: ["POST"], upstreams: [], authentication: .none,
                rateLimits: [RateLimitRule(name: "joins-per-address", key: "ip", limit: 20, period: 60)], local: true
            ),
        ], trustedProxies: ["127.0.0.1/32"])
        try await GatewayFixture.with(routes: routes) { fixture in
            try await fixture.application.test(.live) { client in
                let flooder: HTTPFields = [Self.forwardedFor: "198.51.100.7"]
                var created = 0
                var limited = 0
                var missingRetryAfter = 0
                for _ in 0..<300 {
                    let response = try await client.execute(uri: "/api/v1/queue/\(fixture.event)/join", method: .post, headers: flooder)
                    if response.status == .created { created += 1 }
                    if response.status == .tooManyRequests {
                        limited += 1
                        if response.headers[.retryAfter].flatMap(Int.init) == nil { missingRetryAfter += 1 }
                    }
                }
                #expect((20...22).contains(created), "the burst, and at most what refilled meanwhile: \(created)")
                #expect(created + limited == 300)
                #expect(missingRetryAfter == 0)
                // A join may be admitted at once when the room's rate allows: count those waiting and those admitted.
                let stats = try await fixture.room.stats(event: fixture.event)
                #expect(stats.waiting + stats.activePasses == created, "\(created) let in: \(stats)")
                let neighbour = try await client.execute(uri: "/api/v1/queue/\(fixture.event)/join", method: .post, headers: [Self.forwardedFor: "203.0.113.9"])
                #expect(neighbour.status == .created, "the limit is per address")
                let status = try await client.execute(uri: "/api/v1/queue/\(fixture.event)/status", method: .get, headers: [
                    HTTPField.Name("Visitor-Ticket")!: try #require(neighbour.json["ticket"] as? String), Self.forwardedFor: "198.51.100.7",
                ])
                #expect(status.status == .ok, "status polls are another route")
            }
        }
    }

    @Test("RATE_LIMIT_IPV6_PREFIX counts a wider or narrower IPv6 network as one client", arguments: [
        (48, "ip6:2001:db8:a::/48"), (56, "ip6:2001:db8:a:bc00::/56"), (60, "ip6:2001:db8:a:bcd0::/60"), (32, "ip6:2001:db8::/32"),
        (128, "ip6:2001:db8:a:bcde:1:2:3:4/128"),
    ])
    func ipv6PrefixLength(bits: Int, subject: String) throws {
        #expect(AddressSubject(ipv6PrefixLength: bits).subject(of: "2001:db8:a:bcde:1:2:3:4") == subject)
        #expect(AddressSubject(ipv6PrefixLength: bits).subject(of: "203.0.113.9") == "ip:203.0.113.9", "IPv4 as it is")
        let configured = try GatewayConfiguration.fromEnvironment(host: "127.0.0.1", port: 0, environment: ["RATE_LIMIT_IPV6_PREFIX": "/\(bits)"])
        #expect(configured.ipv6SubjectPrefix == bits)
    }

    @Test("a prefix length outside 32-128 stops the start", arguments: ["16", "129", "64x", "-1"])
    func ipv6PrefixRefused(text: String) {
        #expect(throws: GatewayConfigurationError.self) { try GatewayConfiguration.fromEnvironment(host: "127.0.0.1", port: 0, environment: ["RATE_LIMIT_IPV6_PREFIX": text]) }
    }

    @Test("rate limits count an IPv6 client by its /64: fresh addresses from one network share its limit, another network has its own")
    func ipv6Networks() async throws {
        let addresses = AddressSubject()
        #expect(addresses.subject(of: "203.0.113.9") == "ip:203.0.113.9")
        #expect(addresses.subject(of: "2001:db8:a:b:1:2:3:4") == "ip6:2001:db8:a:b::/64")
        #expect(addresses.subject(of: "2001:0db8:000a:000b::ffff") == "ip6:2001:db8:a:b::/64", "however it is written")
        #expect(addresses.subject(of: "::ffff:198.51.100.7") == "ip:198.51.100.7", "an IPv4-mapped address is its IPv4 address")
        #expect(addresses.subject(of: "unknown") == "ip:unknown")
        let routes = RouteTable(routes: [
            ProxyRoute(
                name: Self.unique("join"), prefix: "/api/v1/queue/*/join", methods: ["POST"], upstreams: [], authentication: .none,
                rateLimits: [RateLimitRule(name: "joins-per-address", key: "ip", limit: 10, period: 60)], local: true
            ),
        ], trustedProxies: ["127.0.0.1/32"])
        try await GatewayFixture.with(routes: routes) { fixture in
            try await fixture.application.test(.live) { client in
                var created = 0
                for host in 1...40 {
                    let address = "2001:db8:77:1:\(String(host, radix: 16)):\(String(host * 7, radix: 16))::1"
                    let response = try await client.execute(
                        uri: "/api/v1/queue/\(fixture.event)/join", method: .post, headers: [Self.forwardedFor: address]
                    )
                    if response.status == .created { created += 1 }
                }
                #expect((10...11).contains(created), "40 addresses of one /64 are one client: \(created) joined")
                let otherNetwork = try await client.execute(
                    uri: "/api/v1/queue/\(fixture.event)/join", method: .post, headers: [Self.forwardedFor: "2001:db8:77:2::1"]
                )
                #expect(otherNetwork.status == .created, "the next /64 is another client")
            }
        }
    }

    @Test("an instance-scoped poll limit: 429 with Retry-After past the burst, per address, and no bucket in Redis")
    func instanceScopedPollLimit() async throws {
        let route = Self.unique("status")
        let rule = RateLimitRule(name: "polls-per-address", key: "ip", limit: 2, period: 1, burst: 10, scope: .instance)
        let routes = RouteTable(routes: [
            ProxyRoute(name: route, prefix: "/api/v1/queue/*/status", methods: ["GET"], upstreams: [], authentication: .none, rateLimits: [rule], local: true),
        ], trustedProxies: ["127.0.0.1/32"])
        try await GatewayFixture.with(RoomConfiguration(mode: .paused), routes: routes) { fixture in
            try await fixture.application.test(.live) { client in
                let joined = try await client.execute(uri: "/api/v1/queue/\(fixture.event)/join", method: .post)
                let headers: HTTPFields = [
                    HTTPField.Name("Visitor-Ticket")!: try #require(joined.json["ticket"] as? String),
                    HTTPField.Name("Queue-Place")!: try #require(joined.json["place"] as? String),
                    Self.forwardedFor: "198.51.100.8",
                ]
                var answered = 0
                var limited: [TestResponse] = []
                for _ in 0..<30 {
                    let response = try await client.execute(uri: "/api/v1/queue/\(fixture.event)/status", method: .get, headers: headers)
                    if response.status == .ok { answered += 1 }
                    if response.status == .tooManyRequests { limited.append(response) }
                }
                #expect((10...12).contains(answered), "the burst, and what refilled meanwhile: \(answered)")
                #expect(answered + limited.count == 30)
                #expect(limited.allSatisfy { $0.headers[.retryAfter].flatMap(Int.init) != nil && $0.problem != nil })
                #expect(limited.first?.headers[HTTPField.Name("RateLimit-Policy")!]?.contains("polls-per-address") == true)
                var other = headers
                other[Self.forwardedFor] = "203.0.113.10"
                #expect(try await client.execute(uri: "/api/v1/queue/\(fixture.event)/status", method: .get, headers: other).status == .ok)
                let buckets = try await fixture.redis.send("KEYS", fixture.redis.keySpace.tagged("rl:" + route) + ":*").array ?? []
                #expect(buckets.isEmpty, "the buckets live in the gateway's memory")
            }
        }
    }

    @Test("a burst is at most 1,000,000,000; at that bound an instance-scoped daily limit counts without overflowing")
    func largestBurst() throws {
        let daily = RateLimitRule(name: "daily", key: "ip", limit: 1, period: 86_400, burst: RateLimitRule.largestBurst, scope: .instance)
        #expect(throws: Never.self) { try daily.validate(route: "r") }
        var over = daily
        over.burst = RateLimitRule.largestBurst + 1
        #expect(throws: GatewayConfigurationError.self, "2^62 overflowed the bucket's 128-bit duration on the first request") { try over.validate(route: "r") }
        let buckets = InstanceRateLimits()
        for _ in 0..<3 {
            let (retryAfter, states) = buckets.check(rules: [daily], keys: ["198.51.100.8"])
            #expect(retryAfter == nil)
            #expect(states.first.map { $0.remaining > 0 } == true)
        }
    }

    @Test("40 registrations from one address: 429s, while a login from another address answers in under a second")
    func registrationFlood() async throws {
        try await withAccounts { accounts in
            let routes = RouteTable(routes: [
                ProxyRoute(
                    name: Self.unique("register"), prefix: "/api/v1/auth/register", methods: ["POST"], upstreams: [], authentication: .none,
                    rateLimits: [RateLimitRule(name: "registrations-per-address", key: "ip", limit: 5, period: 60, fail: .closed)], local: true
                ),
            ], trustedProxies: ["127.0.0.1/32"])
            let email = "\(Self.unique("known"))@example.com"
            _ = try await accounts.register(email: email, password: "known user password")
            try await GatewayFixture.with(routes: routes, accounts: accounts) { fixture in
                try await fixture.application.test(.live) { client in
                    let statuses = try await withThrowingTaskGroup(of: HTTPResponse.Status.self) { group in
                        for index in 0..<40 {
                            group.addTask {
                                let body = Self.json(["email": "flood-\(index)-\(UUID().uuidString.prefix(6))@example.com", "password": "flood password 123"])
                                return try await client.execute(uri: "/api/v1/auth/register", method: .post, headers: [Self.forwardedFor: "198.51.100.7"], body: body).status
                            }
                        }
                        let started = ContinuousClock.now
                        let login = try await client.execute(
                            uri: "/api/v1/auth/login", method: .post, headers: [Self.forwardedFor: "203.0.113.9"],
                            body: Self.json(["email": email, "password": "known user password"])
                        )
                        let elapsed = ContinuousClock.now - started
                        #expect(login.status == .ok)
                        #expect(elapsed < .seconds(1), "login took \(elapsed) during the flood")
                        var statuses: [HTTPResponse.Status] = []
                        for try await status in group { statuses.append(status) }
                        return statuses
                    }
                    let created = statuses.filter { $0 == .created }.count
                    #expect((1...6).contains(created), "\(created) registrations got through")
                    #expect(statuses.filter { $0 == .tooManyRequests }.count + statuses.filter { $0 == .serviceUnavailable }.count == 40 - created)
                    #expect(statuses.filter { $0 == .tooManyRequests }.count >= 34)
                }
            }
        }
    }

    @Test("the registration gate runs a bounded number at once, queues a few, refuses the rest")
    func registrationGate() async throws {
        let gate = RegistrationGate(concurrent: 1, waiting: 1)
        let (release, releaser) = AsyncStream<Void>.makeStream()
        async let first: Int = gate.run {
            for await _ in release { break }
            return 1
        }
        async let second: Int = gate.run { 2 }
        let deadline = ContinuousClock.now + .seconds(5)
        while gate.occupancy != (running: 1, waiting: 1), ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(5))
        }
        #expect(gate.occupancy == (running: 1, waiting: 1))
        await #expect(throws: RegistrationBusy.self) { try await gate.run { 3 } }
        releaser.yield()
        #expect(try await first == 1)
        #expect(try await second == 2)
        #expect(gate.occupancy == (running: 0, waiting: 0))
    }

    @Test("whitespace-padded and upper-case emails share one login limit")
    func paddedEmails() async throws {
        try await withAccounts { accounts in
            try await GatewayFixture.with(accounts: accounts) { fixture in
                try await fixture.application.test(.router) { client in
                    let email = "\(Self.unique("padded"))@example.com"
                    var statuses: [HTTPResponse.Status] = []
                    for variant in [" \(email)", "\(email) ", email.uppercased(), "\t\(email)", " \(email) ", email] {
                        let body = Self.json(["email": variant, "password": "guess guess guess"])
                        statuses.append(try await client.execute(uri: "/api/v1/auth/login", method: .post, body: body).status)
                    }
                    #expect(statuses.prefix(5).allSatisfy { $0 == .unauthorized }, "\(statuses)")
                    #expect(statuses.last == .tooManyRequests, "the sixth attempt on one account, however spelt")
                }
            }
        }
    }

    @Test("without Redis, logins answer 503 with Retry-After")
    func loginWithoutRedis() async throws {
        try await withAccounts { accounts in
            let deadRedis = RedisClient(configuration: RedisConfiguration(port: 1, connectTimeout: .milliseconds(100)))
            try await GatewayFixture.with(accounts: accounts) { fixture in
                let components = GatewayComponents(
                    configuration: fixture.configuration, redis: deadRedis, room: fixture.room, passKeys: fixture.keys,
                    accessTokens: fixture.components.accessTokens, httpClient: fixture.components.httpClient, accounts: accounts
                )
                try await Application(router: buildGatewayRouter(components), server: gatewayServer(components)).test(.router) { client in
                    let body = Self.json(["email": "\(Self.unique("nobody"))@example.com", "password": "whatever password"])
                    let response = try await client.execute(uri: "/api/v1/auth/login", method: .post, body: body)
                    #expect(response.status == .serviceUnavailable)
                    #expect(response.headers[.retryAfter] == "1")
                    #expect(response.problem?.type == "https://booking-rush.dev/problems/rate-limiter-unavailable")
                }
            }
            await deadRedis.shutdown()
        }
    }
}
