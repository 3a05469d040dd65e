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
    /// Whether the request found its subject's lease spent and waited for the refill under way.
    var waitedForLease: Bool = false
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
final class RateLimiter: Sendable, RateLimitBatchSender {
    static let script = RedisScript(EmbeddedLua.rateLimit)
    static let maximumCachedDenials = 100_000

    let redis: RedisClient
    let timeout: TimeAmount
    private let deniedUntil = Mutex<[String: ContinuousClock.Instant]>([:])
    private let instance = InstanceRateLimits()
    private let charges = PerEventLoop { RateLimitCharges(eventLoop: $0) }
    let leases: RateLimitLeases
    /// How `ip` rules name a client by its address.
    let addresses: AddressSubject

    init(
        redis: RedisClient, timeout: TimeAmount = .milliseconds(100), leaseLifetime: Duration = RateLimitLeases.defaultLifetime,
        addresses: AddressSubject = AddressSubject()
    ) {
        self.redis = redis
        self.timeout = timeout
        self.leases = RateLimitLeases(lifetime: leaseLifetime)
        self.addresses = addresses
    }

    /// The Redis key of `rule`'s bucket for `subject` on `route` in `space`; hash-tagged per route.
    static func key(route: String, rule: RateLimitRule, subject: String, in space: RedisKeySpace) -> String {
        key(prefix: keyPrefix(route: route, rule: rule, in: space), subject: subject)
    }

    /// What every key of `rule` on `route` starts with: a route's policy makes it once.
    static func keyPrefix(route: String, rule: RateLimitRule, in space: RedisKeySpace) -> String {
        space.tagged("rl:" + route) + ":" + rule.name + ":"
    }

    /// The key of `subject` under a ``keyPrefix(route:rule:in:)``: the subject itself when it is
    /// short and plain, otherwise a digest of it.
    static func key(prefix: String, subject: String) -> String {
        let safe = subject.utf8.count <= 64 && subject.utf8.allSatisfy { $0 > 0x20 && $0 < 0x7F && $0 != UInt8(ascii: "}") }
            ? subject
            : "h:" + SHA256.hash(data: Array(subject.utf8)).prefix(12).hexString
        var key = prefix
        key.reserveCapacity(prefix.utf8.count + safe.utf8.count)
        key += safe
        return key
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
        evaluate(rules: rules, keys: zip(rules, subjects).map { Self.key(route: route, rule: $0, subject: $1, in: redis.keySpace) }, on: eventLoop)
    }

    /// ``evaluate(route:rules:subjects:on:)`` with the rules' keys made already (``key(prefix:subject:)``).
    func evaluate(rules: [RateLimitRule], keys: [String], on eventLoop: any EventLoop) -> RateLimitCheck {
        if rules.contains(where: { $0.scope == .instance }) {
            return checkInstanceFirst(rules: rules, keys: keys, on: eventLoop)
        }
        if let retryAfter = cachedDenial(keys) {
            return .decided(RateLimitDecision(verdict: .denied(retryAfter: retryAfter), states: rules.map { _ in (0, retryAfter) }, cached: true))
        }
        return checkFleet(rules: rules, keys: keys, on: eventLoop, mayWait: true)
    }

    /// The fleet rules' check. Rules that do not lease are charged at the end of the tick, with
    /// the tick's other requests of the same subjects (``RateLimitCharges``). Leasing rules take
    /// a token held here when there is one, otherwise one script call refills the lease (when no
    /// other refill is under way).
    private func checkFleet(rules: [RateLimitRule], keys: [String], on eventLoop: any EventLoop, mayWait: Bool) -> RateLimitCheck {
        guard rules.allSatisfy({ $0.effectiveLease > 1 }) else {
            guard eventLoop.inEventLoop else {
                return .pending(eventLoop.flatSubmit { self.checkFleet(rules: rules, keys: keys, on: eventLoop, mayWait: mayWait).future(on: eventLoop) })
            }
            return .pending(charges.value(for: eventLoop).charge(rules: rules, keys: keys, sender: self))
        }
        let subject = Self.subject(of: keys)
        let refill: EventLoopPromise<Void>?
        switch leases.take(subject, on: eventLoop, mayWait: mayWait) {
        case .granted(let states):
            return .decided(RateLimitDecision(verdict: .allowed, states: states, leased: true))
        case .wait(let refilled):
            return .pending(refilled.hop(to: eventLoop).flatMap {
                self.checkFleet(rules: rules, keys: keys, on: eventLoop, mayWait: false).future(on: eventLoop)
            }.map { decision in
                var waited = decision
                waited.waitedForLease = true
                return waited
            })
        case .ask(let promise):
            refill = promise
        }
        let arguments = Self.scriptArguments(rules, leasing: refill != nil)
        let decided = eventLoop.makePromise(of: RateLimitDecision.self)
        redis.run(Self.script, keys: keys, arguments: arguments, on: eventLoop, timeout: timeout) { result in
            let reply = try? ScriptReply(result.get(), rules: rules.count)
            // The refill ends here whatever came back (nothing leased when Redis denied, failed or garbled).
            let held = refill.map { refill in
                self.leases.refilled(subject, tokens: reply?.leased ?? 0, states: reply?.inRedis ?? [], promise: refill)
            } ?? 0
            let decision = switch (result, reply) {
            case (.failure, _): self.unanswered(rules)
            case (.success, nil): Self.garbled(rules)
            case (.success, let reply?): self.decision(reply, rules: rules, keys: keys, held: held, leaseSubject: subject)
            }
            decided.succeed(decision)
        }
        return .pending(decided.futureResult)
    }

    /// One script call for the requests of a tick with the same keys: the first ones Redis admits
    /// are let through (each told what the later ones left), the others denied alike.
    func send(_ batch: RateLimitCharges.Batch, on eventLoop: any EventLoop) {
        let rules = batch.rules
        let keys = batch.keys
        let decisions = batch.decisions
        let arguments = Self.scriptArguments(rules, leasing: false, count: decisions.count)
        redis.run(Self.script, keys: keys, arguments: arguments, on: eventLoop, timeout: timeout) { result in
            guard case .success(let value) = result else {
                let unanswered = self.unanswered(rules)
                for decision in decisions { decision.succeed(unanswered) }
                return
            }
            guard let reply = ScriptReply(value, rules: rules.count) else {
                let garbled = Self.garbled(rules)
                for decision in decisions { decision.succeed(garbled) }
                return
            }
            let admitted = min(reply.admitted, decisions.count)
            for (index, decision) in decisions[..<admitted].enumerated() {
                let later = admitted - 1 - index
                let states = later == 0 ? reply.inRedis : reply.inRedis.map { state in state.map { (remaining: $0.remaining + later, reset: $0.reset) } }
                decision.succeed(RateLimitDecision(verdict: .allowed, states: states))
            }
            guard admitted < decisions.count else { return }
            let denial = self.denial(reply, rules: rules, keys: keys)
            for decision in decisions[admitted...] { decision.succeed(denial) }
        }
    }

    /// One identity for a request's bucket keys together: its lease, its batch in a tick.
    static func subject(of keys: [String]) -> String {
        keys.count == 1 ? keys[0] : keys.joined(separator: " ")
    }

    /// `rate_limit.lua`'s arguments for `rules`: each one's interval, burst and the tokens it may
    /// lease beyond the request (none unless `leasing`), then `count` when several requests are checked.
    private static func scriptArguments(_ rules: [RateLimitRule], leasing: Bool, count: Int = 1) -> [any RedisArgument] {
        var arguments: [any RedisArgument] = []
        arguments.reserveCapacity(3 * rules.count + 1)
        for rule in rules {
            arguments.append(rule.emissionMicroseconds)
            arguments.append(rule.effectiveBurst)
            arguments.append(leasing ? rule.effectiveLease - 1 : 0)
        }
        if count > 1 { arguments.append(count) }
        return arguments
    }

    /// The decision when Redis answered something that is not the script's reply: let through.
    private static func garbled(_ rules: [RateLimitRule]) -> RateLimitDecision {
        RateLimitDecision(verdict: .allowed, states: rules.map { _ in nil }, failedOpen: true)
    }

    /// The decision when Redis did not answer: refused when a rule fails closed, let through otherwise.
    private func unanswered(_ rules: [RateLimitRule]) -> RateLimitDecision {
        let closed = rules.contains { $0.fail == .closed }
        return RateLimitDecision(verdict: closed ? .unavailable : .allowed, states: rules.map { _ in nil }, failedOpen: !closed)
    }

    /// The instance-scoped rules in memory, then (when they admit the request) the fleet-wide
    /// ones in Redis; the states come back in the rules' order.
    private func checkInstanceFirst(rules: [RateLimitRule], keys: [String], on eventLoop: any EventLoop) -> RateLimitCheck {
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
        switch evaluate(rules: fleet.map { rules[$0] }, keys: fleet.map { keys[$0] }, on: eventLoop) {
        case .decided(let decision): return .decided(combine(decision))
        case .pending(let decided): return .pending(decided.map(combine))
        }
    }

    /// ``check(route:rules:subjects:on:)`` for async callers.
    func check(route: ProxyRoute, subjects: [String]) async -> RateLimitDecision {
        let decision = check(route: route.name, rules: route.rateLimits, subjects: subjects, on: MultiThreadedEventLoopGroup.singleton.any())
        return (try? await decision.get()) ?? RateLimitDecision(verdict: .unavailable, states: route.rateLimits.map { _ in nil })
    }

    /// What `rate_limit.lua` replied, read once.
    private struct ScriptReply {
        /// How many of the requests checked together Redis admitted (the first ones).
        var admitted: Int
        var allowed: Bool { admitted > 0 }
        var retryAfterMilliseconds: Int
        /// Tokens leased beyond the request, the same for every rule (the fewest any granted); 0 when denied.
        var leased: Int
        /// Per rule, what Redis has left and seconds until the bucket is full.
        var inRedis: [(remaining: Int, reset: Int)?]
        private let fields: [RedisValue]

        /// Nil for a reply that is not the script's (not an array of the expected length).
        init?(_ reply: RedisValue, rules: Int) {
            guard let fields = reply.array, fields.count == 2 + 3 * rules else { return nil }
            self.fields = fields
            admitted = max(0, fields[0].int ?? 0)
            retryAfterMilliseconds = fields[1].int ?? 1000
            leased = admitted > 0 ? (0..<rules).lazy.map { fields[4 + 3 * $0].int ?? 0 }.min() ?? 0 : 0
            inRedis = (0..<rules).map { index in (fields[2 + 3 * index].int ?? 0, ((fields[3 + 3 * index].int ?? 0) + 999) / 1000) }
        }

        /// Milliseconds until rule `index`'s bucket is full.
        func resetMilliseconds(rule index: Int) -> Int {
            fields[3 + 3 * index].int ?? 0
        }
    }

    /// A leasing request's reply as a decision, `held` being the tokens this gateway now holds
    /// for `leaseSubject` (after the refill it made, if any), counted in what the subject has left. A
    /// request that Redis denied is still admitted from the tokens held, if any are (the bucket
    /// is empty, but those are the subject's).
    private func decision(_ reply: ScriptReply, rules: [RateLimitRule], keys: [String], held: Int, leaseSubject: String) -> RateLimitDecision {
        if reply.allowed {
            // With nothing held the states are Redis's own, and share its array.
            let states: [(remaining: Int, reset: Int)?] = held == 0 ? reply.inRedis : reply.inRedis.map { state in
                state.map { (remaining: $0.remaining + held, reset: $0.reset) }
            }
            return RateLimitDecision(verdict: .allowed, states: states)
        }
        if let states = leases.takeHeld(leaseSubject) {
            return RateLimitDecision(verdict: .allowed, states: states, leased: true)
        }
        return denial(reply, rules: rules, keys: keys)
    }

    /// A request Redis denied: how long to wait, remembered for each denying key until its own retry time.
    private func denial(_ reply: ScriptReply, rules: [RateLimitRule], keys: [String]) -> RateLimitDecision {
        let retryAfter = max(1, (reply.retryAfterMilliseconds + 999) / 1000)
        // A denied rule's own wait: its bucket's drain time less the burst it would admit.
        var waits: [String: Int] = [:]
        for (index, rule) in rules.enumerated() where reply.inRedis[index]?.remaining == 0 {
            let admitted = Double(rule.emissionMicroseconds) * Double(rule.effectiveBurst - 1) / 1000
            let wait = Double(reply.resetMilliseconds(rule: index)) - admitted
            if wait > 0 { waits[keys[index]] = Int(wait.rounded(.up)) }
        }
        remember(waits)
        return RateLimitDecision(verdict: .denied(retryAfter: retryAfter), states: reply.inRedis)
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
        if let current = currentField(rules: rules, decision: decision) { fields[.rateLimit] = current }
        return fields
    }

    /// The `RateLimit` field of `decision` (`"name";r=remaining;t=reset` per rule with a known
    /// state), made in one string; nil when no rule's state is known.
    static func currentField(rules: [RateLimitRule], decision: RateLimitDecision) -> String? {
        var field = ""
        for (rule, state) in zip(rules, decision.states) {
            guard let state else { continue }
            if field.isEmpty {
                field.reserveCapacity(rules.count * (rule.name.utf8.count + 32))
            } else {
                field += ", "
            }
            field += "\""
            field += rule.name
            field += "\";r="
            field += String(state.remaining)
            field += ";t="
            field += String(state.reset)
        }
        return field.isEmpty ? nil : field
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
