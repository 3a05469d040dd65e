import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import Redis
import Testing

@testable import Gateway

@Suite("Policies whose verdicts wait on Redis start together and answer in chain order")
struct PolicyOverlapTests {
    static let client = HTTPField.Name("X-Client")!

    @Test("a rate-limit refusal answers before the idempotency key's verdict, and the key it overtook is given back at once")
    func refusalGivesBackLaterClaim() async throws {
        try await UpstreamServer.with { upstream in
            let route = "overlap-\(UUID().uuidString.prefix(8).lowercased())"
            let routes = RouteTable(routes: [
                ProxyRoute(
                    name: route, prefix: "/api/events", upstreams: [upstream.url],
                    rateLimits: [RateLimitRule(name: "client", key: "header:X-Client", limit: 1, period: 600)], idempotency: .required
                ),
            ])
            try await GatewayFixture.with(routes: routes) { fixture in
                let store = IdempotencyStore(redis: fixture.redis, retention: .seconds(60))
                @Sendable func redisKey(_ key: String) -> String { store.redisKey(key: key, principal: "ip:127.0.0.1", method: "POST", route: route) }
                try await fixture.application.test(.live) { client in
                    let (allowed, overtaken) = (UUID().uuidString, UUID().uuidString)
                    let first = try await client.execute(uri: "/api/events/e1/buy", method: .post, headers: [Self.client: "c1", .idempotencyKey: allowed])
                    #expect(first.status == .created)
                    #expect(try await fixture.redis.exists(redisKey(allowed)), "the allowed request's key is stored where the test looks")

                    let limited = try await client.execute(uri: "/api/events/e1/buy", method: .post, headers: [Self.client: "c1", .idempotencyKey: overtaken])
                    #expect(limited.status == .tooManyRequests)
                    var held = try await fixture.redis.exists(redisKey(overtaken))
                    for _ in 0..<50 where held {
                        try await Task.sleep(for: .milliseconds(20))
                        held = try await fixture.redis.exists(redisKey(overtaken))
                    }
                    #expect(!held, "a claim made beside a refused rate limit is released, not held until its lease ends")

                    #expect(try await client.execute(uri: "/api/events/e1/buy", method: .post, headers: [Self.client: "c2", .idempotencyKey: UUID().uuidString]).status == .created)
                    let malformed = String(repeating: "k", count: 300)
                    let refused = try await client.execute(uri: "/api/events/e1/buy", method: .post, headers: [Self.client: "c2", .idempotencyKey: malformed])
                    #expect(refused.status == .tooManyRequests, "the earlier policy's refusal answers, though the later one refused first")
                    #expect(refused.problem?.type == "https://booking-rush.dev/problems/rate-limited")
                    #expect(upstream.callCount == 2)
                }
            }
        }
    }
}
