import Crypto
import EmbeddedResources
import HTTPTypes
import NIOCore
import NIOPosix
import Queue
import Redis
import ServiceKit
import Synchronization

/// The outcome of checking one request against its route's rules.
struct RateLimitDecision: Sendable {
    enum Verdict: Sendable, Equatable {
        case allowed
        /// Over a limit; retry after this many seconds.
        case denied(retryAfter: Int)
        /// Redis did not answer and a rule fails closed.
        case unavailable
    }

    var verdict: Verdict
    /// Per rule: requests left and seconds until the bucket is full again (nil when unknown).
    var states: [(remaining: Int, reset: Int)?]
    /// Whether the decision came from the local deny cache.
    var cached: Bool = false
    /// Whether Redis failed and the rules let the request through.
    var failedOpen: Bool = false
    /// Whether the request was admitted with tokens leased earlier, without a Redis call.
    var leased: Bool = false
}

/// A rate-limit decision made at once, or one that waits for Redis.
enum RateLimitCheck {
    case decided(RateLimitDecision)
    case pending(EventLoopFuture<RateLimitDecision>)

    /// The decision as a future on `eventLoop`.
    func future(on eventLoop: any EventLoop) -> EventLoopFuture<RateLimitDecision> {
        switch self {
        case .decided(let decision): eventLoop.makeSucceededFuture(decision)
        case .pending(let decision): decision
        }
    }
}

/// Distributed GCRA rate limiting: every gateway shares the limits through one Lua script in
/// Redis. Subjects already over a limit are denied from a local cache until their retry time,
/// sparing Redis during a stampede. Rules scoped to the instance are checked in memory first; a
/// route with only those never calls Redis. Rules with a `lease` take several tokens per call
/// and spend them here (``RateLimitLeases``).
final class RateLimiter: Sendable {
    static let script = RedisScript(EmbeddedLua.rateLimit)
    static let maximumCachedDenials = 100_000

    let redis: RedisClient
    let timeout: TimeAmount
    private let deniedUntil = Mutex<[String: ContinuousClock.Instant]>([:])
    private let instance = InstanceRateLimits()
    let leases: RateLimitLeases

    init(redis: RedisClient, timeout: TimeAmount = .milliseconds(100), leaseLifetime: Duration = RateLimitLeases.defaultLifetime) {
        self.redis = redis
        self.timeout = timeout
        self.leases = RateLimitLeases(lifetime: leaseLifetime)
    }

    /// The Redis key of `rule`'s bucket for `subject` on `route` in `space`; hash-tagged per route.
    static func key(route: String, rule: RateLimitRule, subject: String, in space: RedisKeySpace) -> String {
        let safe = subject.utf8.count <= 64 && subject.utf8.allSatisfy { $0 > 0x20 && $0 < 0x7F && $0 != UInt8(ascii: "}") }
            ? subject
            : "h:" + SHA256.hash(data: Array(subject.utf8)).prefix(12).hexString
        return space.tagged("rl:" + route) + ":" + rule.name + ":" + safe
    }

    /// Checks and charges every rule of a request at once (a denied request charges nothing),
    /// with the Redis reply on `eventLoop`. Never fails: Redis trouble is a decision per the rules' fail modes.
    func check(route: String, rules: [RateLimitRule], subjects: [String], on eventLoop: any EventLoop) -> EventLoopFuture<RateLimitDecision> {
        evaluate(route: route, rules: rules, subjects: subjects, on: eventLoop).future(on: eventLoop)
    }

    /// ``check(route:rules:subjects:on:)``, decided at once where no Redis reply is needed (a
    /// cached denial, a leased token, rules scoped to the instance), so the hot path allocates
    /// no future for those.
    func evaluate(route: String, rules: [RateLimitRule], subjects: [String], on eventLoop: any EventLoop) -> RateLimitCheck {
        let keys = zip(rules, subjects).map { Self.key(route: route, rule: $0, subject: $1, in: redis.keySpace) }
        if rules.contains(where: { $0.scope == .instance }) {
            return checkInstanceFirst(route: route, rules: rules, keys: keys, subjects: subjects, on: eventLoop)
        }
        if let retryAfter = cachedDenial(keys) {
            return .decided(RateLimitDecision(verdict: .denied(retryAfter: retryAfter), states: rules.map { _ in (0, retryAfter) }, cached: true))
        }
        return checkFleet(rules: rules, keys: keys, on: eventLoop, mayWait: true)
    }

    /// The fleet rules' check: from a lease held here when there is one, otherwise one script
    /// call (which refills the lease when the rules lease and no other refill is under way).
    private func checkFleet(rules: [RateLimitRule], keys: [String], on eventLoop: any EventLoop, mayWait: Bool) -> RateLimitCheck {
        let leasing = rules.allSatisfy { $0.effectiveLease > 1 }
        let subject = !leasing ? "" : keys.count == 1 ? keys[0] : keys.joined(separator: " ")
        var refill: EventLoopPromise<Void>?
        if leasing {
            switch leases.take(subject, on: eventLoop, mayWait: mayWait) {
            case .granted(let states):
                return .decided(RateLimitDecision(verdict: .allowed, states: states, leased: true))
            case .wait(let refilled):
                return .pending(refilled.hop(to: eventLoop).flatMap {
                    self.checkFleet(rules: rules, keys: keys, on: eventLoop, mayWait: false).future(on: eventLoop)
                })
            case .ask(let promise):
                refill = promise
            }
        }
        var arguments: [any RedisArgument] = []
        arguments.reserveCapacity(3 * rules.count)
        for rule in rules {
            arguments.append(rule.emissionMicroseconds)
            arguments.append(rule.effectiveBurst)
            arguments.append(refill == nil ? 0 : rule.effectiveLease - 1)
        }
        let refilling = refill
        return .pending(redis.run(Self.script, keys: keys, arguments: arguments, on: eventLoop, timeout: timeout)
            .map { reply in self.decision(reply, rules: rules, keys: keys) }
            .recover { _ in
                let closed = rules.contains { $0.fail == .closed }
                let decision = RateLimitDecision(verdict: closed ? .unavailable : .allowed, states: rules.map { _ in nil }, failedOpen: !closed)
                return (decision, 0, decision.states)
            }
            .map { decision, leased, inRedis in
                if let refilling { self.leases.refilled(subject, tokens: leased, states: inRedis, promise: refilling) }
                return decision
            })
    }

    /// The instance-scoped rules in memory, then (when they admit the request) the fleet-wide
    /// ones in Redis; the states come back in the rules' order.
    private func checkInstanceFirst(
        route: String, rules: [RateLimitRule], keys: [String], subjects: [String], on eventLoop: any EventLoop
    ) -> RateLimitCheck {
        let local = rules.indices.filter { rules[$0].scope == .instance }
        let fleet = rules.indices.filter { rules[$0].scope == .fleet }
        let checked = instance.check(rules: local.map { rules[$0] }, keys: local.map { keys[$0] })
        var states: [(remaining: Int, reset: Int)?] = rules.map { _ in nil }
        for (position, index) in local.enumerated() { states[index] = checked.states[position] }
        if let retryAfter = checked.retryAfter {
            return .decided(RateLimitDecision(verdict: .denied(retryAfter: retryAfter), states: states))
        }
        guard !fleet.isEmpty else { return .decided(RateLimitDecision(verdict: .allowed, states: states)) }
        let instanceStates = states
        let combine: @Sendable (RateLimitDecision) -> RateLimitDecision = { decision in
            var combined = decision
            combined.states = instanceStates
            for (position, index) in fleet.enumerated() { combined.states[index] = decision.states[position] }
            return combined
        }
        switch evaluate(route: route, rules: fleet.map { rules[$0] }, subjects: fleet.map { subjects[$0] }, on: eventLoop) {
        case .decided(let decision): return .decided(combine(decision))
        case .pending(let decided): return .pending(decided.map(combine))
        }
    }

    /// ``check(route:rules:subjects:on:)`` for async callers.
    func check(route: ProxyRoute, subjects: [String]) async -> RateLimitDecision {
        let decision = check(route: route.name, rules: route.rateLimits, subjects: subjects, on: MultiThreadedEventLoopGroup.singleton.any())
        return (try? await decision.get()) ?? RateLimitDecision(verdict: .unavailable, states: route.rateLimits.map { _ in nil })
    }

    /// The script's reply as a decision, with the tokens leased for every rule (the fewest any
    /// rule granted) and what Redis has left per rule.
    private func decision(
        _ reply: RedisValue, rules: [RateLimitRule], keys: [String]
    ) -> (RateLimitDecision, leased: Int, inRedis: [(remaining: Int, reset: Int)?]) {
        guard let fields = reply.array, fields.count == 2 + 3 * rules.count else {
            let decision = RateLimitDecision(verdict: .allowed, states: rules.map { _ in nil }, failedOpen: true)
            return (decision, 0, decision.states)
        }
        let held = rules.indices.map { fields[4 + 3 * $0].int ?? 0 }.min() ?? 0
        let inRedis: [(remaining: Int, reset: Int)?] = rules.indices.map { index in
            (fields[2 + 3 * index].int ?? 0, ((fields[3 + 3 * index].int ?? 0) + 999) / 1000)
        }
        // What the subject has left counts the tokens this gateway now holds for it.
        let states: [(remaining: Int, reset: Int)?] = inRedis.map { state in
            state.map { (remaining: $0.remaining + held, reset: $0.reset) }
        }
        guard fields[0].int == 1 else {
            let retryAfter = max(1, ((fields[1].int ?? 1000) + 999) / 1000)
            // A denied rule's own wait: its bucket's drain time less the burst it would admit.
            var waits: [String: Int] = [:]
            for (index, rule) in rules.enumerated() where states[index]?.remaining == 0 {
                let resetMilliseconds = fields[3 + 3 * index].int ?? 0
                let wait = resetMilliseconds - rule.emissionMicroseconds * (rule.effectiveBurst - 1) / 1000
                if wait > 0 { waits[keys[index]] = wait }
            }
            remember(waits)
            return (RateLimitDecision(verdict: .denied(retryAfter: retryAfter), states: states), 0, inRedis)
        }
        return (RateLimitDecision(verdict: .allowed, states: states), held, inRedis)
    }

    /// The `RateLimit-Policy` field of `rules` (the same on every answer of a route).
    static func policyField(rules: [RateLimitRule]) -> String {
        rules.map { "\"\($0.name)\";q=\($0.effectiveBurst);w=\(Int($0.period.rounded(.up)))" }.joined(separator: ", ")
    }

    /// `RateLimit-Policy` and `RateLimit` fields (draft-ietf-httpapi-ratelimit-headers);
    /// `policy` is ``policyField(rules:)`` when the caller keeps it.
    static func headers(rules: [RateLimitRule], decision: RateLimitDecision, policy: String? = nil) -> HTTPFields {
        var fields = HTTPFields()
        guard !rules.isEmpty else { return fields }
        fields[.rateLimitPolicy] = policy ?? policyField(rules: rules)
        let current = zip(rules, decision.states).compactMap { rule, state in
            state.map { "\"\(rule.name)\";r=\($0.remaining);t=\($0.reset)" }
        }
        if !current.isEmpty { fields[.rateLimit] = current.joined(separator: ", ") }
        return fields
    }

    private func cachedDenial(_ keys: [String]) -> Int? {
        let now = ContinuousClock.now
        return deniedUntil.withLock { cache in
            var longest: Duration?
            for key in keys {
                guard let until = cache[key] else { continue }
                if until <= now {
                    cache[key] = nil
                } else if longest.map({ until - now > $0 }) ?? true {
                    longest = until - now
                }
            }
            return longest.map { max(1, Int(($0 / .seconds(1)).rounded(.up))) }
        }
    }

    /// Caches denied keys until their own retry time (milliseconds from now).
    private func remember(_ waits: [String: Int]) {
        let now = ContinuousClock.now
        deniedUntil.withLock { cache in
            if cache.count >= Self.maximumCachedDenials {
                cache = cache.filter { $0.value > now }
                if cache.count >= Self.maximumCachedDenials { return }
            }
            for (key, wait) in waits { cache[key] = now + .milliseconds(wait) }
        }
    }
}
