import NIOCore
import NIOPosix
import Redis
import ServiceTestSupport
import Testing

@testable import Gateway

@Suite("Leased rate-limit tokens: fewer script calls, never more requests than the limit")
struct RateLimitLeaseTests {
    static func rule(limit: Int, lease: Int, period: Double = 3_600) -> RateLimitRule {
        RateLimitRule(name: "leased", key: "ip", limit: limit, period: period, lease: lease)
    }

    /// A limiter whose leases live `lifetime`, on a Redis client in a key space of its own.
    static func withLimiter(lifetime: Duration = .seconds(30), _ body: (RedisClient, RateLimiter) async throws -> Void) async throws {
        try await TestRedis.withClient { redis in
            try await body(redis, RateLimiter(redis: redis, timeout: .seconds(2), leaseLifetime: lifetime))
        }
    }

    /// Checks `count` requests of `subject` one after another on `limiter`.
    static func decisions(_ limiter: RateLimiter, _ rule: RateLimitRule, subject: String = "ip:10.0.0.1", count: Int) async throws -> [RateLimitDecision] {
        let loop = MultiThreadedEventLoopGroup.singleton.next()
        var decisions: [RateLimitDecision] = []
        for _ in 0..<count {
            decisions.append(try await limiter.check(route: "lease-tests", rules: [rule], subjects: [subject], on: loop).get())
        }
        return decisions
    }

    @Test("a lease of 10 costs one script call per 10 requests; the bucket is charged for what was leased, the answer counts what is held")
    func fewerCalls() async throws {
        try await Self.withLimiter { redis, limiter in
            let rule = Self.rule(limit: 1_000, lease: 10)
            let decisions = try await Self.decisions(limiter, rule, count: 25)
            #expect(decisions.allSatisfy { $0.verdict == .allowed && !$0.failedOpen })
            // Each refill is asked for once 2 tokens (a quarter of the lease's 9) are left, and
            // the new lease is handed out after them.
            #expect(decisions.indices.filter { !decisions[$0].leased } == [0, 8, 18], "requests 1, 9 and 19 went to Redis")
            #expect(decisions.map { $0.states[0]?.remaining } == (1...25).map { 1_000 - $0 })
            let key = RateLimiter.key(route: "lease-tests", rule: rule, subject: "ip:10.0.0.1", in: redis.keySpace)
            #expect(limiter.leases.tokens(of: key) == 5)
            // Redis itself counts all 30 tokens taken: a second gateway sees 970 left.
            let other = RateLimiter(redis: redis, timeout: .seconds(2))
            let seen = try await Self.decisions(other, Self.rule(limit: 1_000, lease: 1), count: 1)
            #expect(seen.first?.states[0]?.remaining == 969)
        }
    }

    @Test("30 requests at once on one gateway: one script call refills the lease, the others wait for it instead of each leasing")
    func oneRefillAtATime() async throws {
        try await Self.withLimiter { redis, limiter in
            let rule = Self.rule(limit: 1_000, lease: 50)
            let group = MultiThreadedEventLoopGroup.singleton
            let decisions = try await withThrowingTaskGroup(of: RateLimitDecision.self) { tasks in
                for _ in 0..<30 {
                    tasks.addTask {
                        try await limiter.check(route: "lease-tests", rules: [rule], subjects: ["ip:10.0.0.9"], on: group.next()).get()
                    }
                }
                return try await tasks.reduce(into: []) { $0.append($1) }
            }
            #expect(decisions.allSatisfy { $0.verdict == .allowed && !$0.failedOpen })
            #expect(decisions.filter { !$0.leased }.count == 1)
            let other = RateLimiter(redis: redis, timeout: .seconds(2))
            let seen = try await Self.decisions(other, Self.rule(limit: 1_000, lease: 1), subject: "ip:10.0.0.9", count: 1)
            #expect(seen.first?.states[0]?.remaining == 949, "Redis was charged 50, once")
        }
    }

    @Test("at a quarter of the lease the next request refills it ahead; requests meanwhile take the tokens still held instead of waiting")
    func refillsAhead() async throws {
        try await Self.withLimiter { redis, limiter in
            let rule = Self.rule(limit: 1_000, lease: 10)
            let subject = "ip:10.0.0.5"
            let key = RateLimiter.key(route: "lease-tests", rule: rule, subject: subject, in: redis.keySpace)
            let first = try await Self.decisions(limiter, rule, subject: subject, count: 8)
            #expect(first.filter { !$0.leased }.count == 1)
            #expect(limiter.leases.tokens(of: key) == 2, "9 leased, 7 handed out")

            let loop = MultiThreadedEventLoopGroup.singleton.next()
            let check = { limiter.evaluate(route: "lease-tests", rules: [rule], subjects: [subject], on: loop) }
            guard case .pending(let ahead) = check() else {
                Issue.record("the request at the low-water mark asks Redis for the next lease")
                return
            }
            var meanwhile: [RateLimitDecision] = []
            for _ in 0..<2 {
                guard case .decided(let decision) = check() else {
                    Issue.record("a request while the refill is under way takes a held token at once")
                    return
                }
                meanwhile.append(decision)
            }
            #expect(meanwhile.allSatisfy { $0.verdict == .allowed && $0.leased && !$0.waitedForLease })
            // Every held token spent: a request now waits for the refill, unless it has landed.
            let third: RateLimitDecision
            switch check() {
            case .pending(let waiting):
                third = try await waiting.get()
                #expect(third.waitedForLease, "it waited for the refill under way")
            case .decided(let decision):
                third = decision
                #expect(!third.waitedForLease)
            }
            #expect(third.verdict == .allowed && third.leased)
            let refilled = try await ahead.get()
            #expect(refilled.verdict == .allowed && !refilled.leased && !refilled.waitedForLease)
            #expect(limiter.leases.tokens(of: key) == 8, "the old lease spent, one of the new one's 9")
            let other = RateLimiter(redis: redis, timeout: .seconds(2))
            let seen = try await Self.decisions(other, Self.rule(limit: 1_000, lease: 1), subject: subject, count: 1)
            #expect(seen.first?.states[0]?.remaining == 979, "Redis was charged 10 per lease, twice")
        }
    }

    @Test("a refill Redis denies still admits the request from the tokens held, the rest are spent without asking again, never more than the limit")
    func deniedRefillSpendsWhatIsHeld() async throws {
        try await Self.withLimiter { _, limiter in
            let rule = Self.rule(limit: 30, lease: 20)
            let loop = MultiThreadedEventLoopGroup.singleton.next()
            var decisions: [RateLimitDecision] = []
            var askedRedis: [Int] = []
            for index in 0..<32 {
                switch limiter.evaluate(route: "lease-tests", rules: [rule], subjects: ["ip:10.0.0.6"], on: loop) {
                case .decided(let decision):
                    decisions.append(decision)
                case .pending(let decision):
                    decisions.append(try await decision.get())
                    askedRedis.append(index)
                }
            }
            #expect(decisions.prefix(30).allSatisfy { $0.verdict == .allowed }, "\(decisions.map(\.verdict))")
            #expect(decisions.dropFirst(30).allSatisfy { $0.verdict != .allowed })
            // 1 + 19 leased; at 4 left, 1 + 9 more (all the bucket had); at 2 left the refill is
            // denied, so that request and the next take the last two held tokens, and only then
            // is Redis asked (and denied) again.
            #expect(askedRedis == [0, 16, 28, 30])
            #expect(decisions[28].leased && decisions[29].leased)
            #expect(decisions[29].states[0]?.remaining == 0)
        }
    }

    @Test("two gateways sharing a leased limit of 20 admit exactly 20, then deny both")
    func neverMoreThanTheLimit() async throws {
        try await TestRedis.withClient { redis in
            let gateways = [
                RateLimiter(redis: redis, timeout: .seconds(2), leaseLifetime: .seconds(30)),
                RateLimiter(redis: redis, timeout: .seconds(2), leaseLifetime: .seconds(30)),
            ]
            let rule = Self.rule(limit: 20, lease: 5)
            var admitted = 0
            var verdicts: [RateLimitDecision.Verdict] = []
            for turn in 0..<60 {
                let decision = try await Self.decisions(gateways[turn % 2], rule, count: 1)[0]
                verdicts.append(decision.verdict)
                if decision.verdict == .allowed { admitted += 1 }
            }
            #expect(admitted == 20)
            #expect(verdicts.prefix(20).allSatisfy { $0 == .allowed }, "\(verdicts)")
            #expect(verdicts.dropFirst(20).allSatisfy { $0 != .allowed })
        }
    }

    @Test("tokens not spent within the lifetime are lost, never handed out late")
    func expiredLeasesAreLost() async throws {
        try await Self.withLimiter(lifetime: .milliseconds(50)) { _, limiter in
            let rule = Self.rule(limit: 20, lease: 5)
            let first = try await Self.decisions(limiter, rule, count: 1)
            #expect(first.first?.leased == false)
            try await Task.sleep(for: .milliseconds(150))
            let later = try await Self.decisions(limiter, rule, count: 1)
            #expect(later.first?.leased == false, "the 4 tokens held had expired: Redis was asked again")
            #expect(later.first?.states[0]?.remaining == 14, "10 taken from Redis (4 lost), 4 held now")
        }
    }

    @Test("with two rules a lease takes the same tokens of both, as many as the tighter one spares")
    func twoRules() async throws {
        try await Self.withLimiter { redis, limiter in
            let rules = [
                RateLimitRule(name: "wide", key: "ip", limit: 1_000, period: 3_600, lease: 20),
                RateLimitRule(name: "narrow", key: "route", limit: 5, period: 3_600, lease: 20),
            ]
            let loop = MultiThreadedEventLoopGroup.singleton.next()
            var decisions: [RateLimitDecision] = []
            for _ in 0..<7 {
                decisions.append(try await limiter.check(route: "lease-tests", rules: rules, subjects: ["ip:10.0.0.2", "all"], on: loop).get())
            }
            #expect(decisions.map(\.verdict).prefix(5).allSatisfy { $0 == .allowed })
            #expect(decisions.suffix(2).allSatisfy { $0.verdict != .allowed })
            #expect(decisions.first?.states.map { $0?.remaining } == [999, 4], "4 leased of each, counted as held")
            let exact = RateLimiter(redis: redis, timeout: .seconds(2))
            let wide = try await Self.decisions(exact, RateLimitRule(name: "wide", key: "ip", limit: 1_000, period: 3_600), subject: "ip:10.0.0.2", count: 1)
            #expect(wide.first?.states[0]?.remaining == 994, "the wide rule was charged 5, not 21")
        }
    }

    @Test("a lease takes only what the bucket holds beyond the request: it never denies one")
    func leaseNeverDenies() async throws {
        try await TestRedis.withClient { redis in
            let exact = RateLimiter(redis: redis, timeout: .seconds(2))
            let limiter = RateLimiter(redis: redis, timeout: .seconds(2), leaseLifetime: .seconds(30))
            // Two of three tokens spent exactly; the leasing gateway then asks for 1 + 2 and gets 1.
            let spent = try await Self.decisions(exact, Self.rule(limit: 3, lease: 1), count: 2)
            #expect(spent.allSatisfy { $0.verdict == .allowed })
            let last = try await Self.decisions(limiter, Self.rule(limit: 3, lease: 3), count: 2)
            #expect(last.map(\.verdict) == [.allowed, .denied(retryAfter: 1200)])
            #expect(last.first?.leased == false)
            #expect(last.first?.states[0]?.remaining == 0)
        }
    }
}
