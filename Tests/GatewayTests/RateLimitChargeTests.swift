import NIOCore
import NIOEmbedded
import NIOPosix
import Redis
import ServiceTestSupport
import Testing

@testable import Gateway

@Suite("Rate-limit checks of one tick charged together: one script call per subject, exact as one call per request")
struct RateLimitChargeTests {
    static let rule = RateLimitRule(name: "route-wide", key: "route", limit: 5, period: 3_600)

    @Test("a tick's checks are gathered by keys and sent once per batch when the tick ends")
    func gatheredPerTick() throws {
        let loop = EmbeddedEventLoop()
        let charges = RateLimitCharges(eventLoop: loop)
        let sender = RecordingSender()
        for keys in [["a"], ["b", "c"], ["a"], ["a"], ["b", "c"], ["b"]] {
            _ = charges.charge(rules: keys.map { _ in Self.rule }, keys: keys, sender: sender)
        }
        var sent: [(keys: [String], requests: Int)] { sender.sent }
        #expect(sent.isEmpty, "nothing leaves while the tick goes on")
        loop.run()
        #expect(sent.map(\.keys) == [["a"], ["b", "c"], ["b"]], "one batch per set of keys, in the order they came")
        #expect(sent.map(\.requests) == [3, 2, 1])

        _ = charges.charge(rules: [Self.rule], keys: ["a"], sender: sender)
        loop.run()
        #expect(sent.count == 4 && sent[3].requests == 1, "the next tick sends a batch of its own")
    }

    @Test("8 requests in one tick against a limit of 5: the first 5 pass with 4…0 left, the last 3 are denied with a retry time")
    func admittedInOrderUpToTheLimit() async throws {
        try await TestRedis.withClient { redis in
            let limiter = RateLimiter(redis: redis, timeout: .seconds(2))
            let loop = MultiThreadedEventLoopGroup.singleton.next()
            let decisions = try await loop.flatSubmit {
                let checks = (0..<8).map { _ in
                    limiter.check(route: "charge-tests", rules: [Self.rule], subjects: ["route"], on: loop)
                }
                return EventLoopFuture.whenAllSucceed(checks, on: loop)
            }.get()
            #expect(decisions.map(\.verdict).prefix(5).allSatisfy { $0 == .allowed })
            #expect(decisions.prefix(5).map { $0.states[0]?.remaining } == [4, 3, 2, 1, 0])
            for decision in decisions.suffix(3) {
                guard case .denied(let retryAfter) = decision.verdict else {
                    Issue.record("request past the limit was \(decision.verdict)")
                    continue
                }
                #expect(retryAfter >= 700, "a token comes back every 720 s")
            }
            #expect(decisions.allSatisfy { !$0.failedOpen })
            // Redis was charged exactly 5: another gateway finds the bucket empty.
            let other = RateLimiter(redis: redis, timeout: .seconds(2))
            let seen = try await other.check(route: "charge-tests", rules: [Self.rule], subjects: ["route"], on: loop).get()
            #expect(seen.verdict != .allowed)
        }
    }

    @Test("the script admits the first requests of a count while every rule does, and charges only those")
    func scriptCount() async throws {
        try await TestRedis.withClient { redis in
            let narrow = RateLimitRule(name: "narrow", key: "ip", limit: 3, period: 60)
            let wide = RateLimitRule(name: "wide", key: "ip", limit: 10, period: 60)
            let keys = [narrow, wide].map { RateLimiter.key(route: "charge-tests", rule: $0, subject: "ip:10.0.0.7", in: redis.keySpace) }
            let arguments: (Int) -> [any RedisArgument] = { count in
                [narrow.emissionMicroseconds, narrow.effectiveBurst, 0, wide.emissionMicroseconds, wide.effectiveBurst, 0, count]
            }
            let loop = MultiThreadedEventLoopGroup.singleton.next()
            let first = try await Self.run(redis, keys: keys, arguments: arguments(5), on: loop)
            #expect(first.first == 3, "the narrow rule admits 3 of 5")
            #expect(first[1] > 0, "the 4th request's wait")
            #expect(Array(first[2...]) == [0, 60_000, 0, 7, 18_000, 0], "narrow: 0 left, full in 60 s; wide: charged 3 only")
            let second = try await Self.run(redis, keys: keys, arguments: arguments(2), on: loop)
            #expect(second.first == 0)
            #expect(second[5] == 7, "a denied count charges nothing")
        }
    }

    /// `rate_limit.lua`'s reply as integers.
    static func run(_ redis: RedisClient, keys: [String], arguments: [any RedisArgument], on loop: any EventLoop) async throws -> [Int] {
        let reply = loop.makePromise(of: RedisValue.self)
        redis.run(RateLimiter.script, keys: keys, arguments: arguments, on: loop, timeout: .seconds(2)) { reply.completeWith($0.mapError { $0 as any Error }) }
        let fields = try #require(try await reply.futureResult.get().array)
        return fields.map { $0.int ?? -1 }
    }
}

/// Records the batches a tick sends and allows every request in them.
private final class RecordingSender: RateLimitBatchSender {
    var sent: [(keys: [String], requests: Int)] = []

    func send(_ batch: RateLimitCharges.Batch, on eventLoop: any EventLoop) {
        sent.append((batch.keys, batch.decisions.count))
        for decision in batch.decisions { decision.succeed(RateLimitDecision(verdict: .allowed, states: [])) }
    }
}
