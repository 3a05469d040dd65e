import HTTPTypes
import NIOCore

/// Distributed rate limits (GCRA in Redis): every rule of the route checked and charged in one
/// script call; `RateLimit-Policy`/`RateLimit` fields on the answer, 429 with `Retry-After`
/// when over, 503 when Redis is down and a rule fails closed. Decisions that need no Redis
/// reply (a leased token, a cached denial) are made without a future.
struct RateLimitPolicy: EdgePolicy {
    let limiter: RateLimiter
    let rules: [RateLimitRule]
    /// The route's `RateLimit-Policy` field, the same on every answer.
    let policyField: String
    let counters: GatewayMetrics.RateLimitCounters
    /// Each rule's key up to its subject, made once.
    let keyPrefixes: [String]

    init(limiter: RateLimiter, route: String, rules: [RateLimitRule]) {
        self.limiter = limiter
        self.rules = rules
        self.policyField = RateLimiter.policyField(rules: rules)
        self.counters = GatewayMetrics.RateLimitCounters(route: route)
        self.keyPrefixes = rules.map { RateLimiter.keyPrefix(route: route, rule: $0, in: limiter.redis.keySpace) }
    }

    var overlapsLaterPolicies: Bool { true }

    func admit(_ exchange: EdgeExchange) -> EdgeVerdict {
        let keys = zip(rules, keyPrefixes).map { rule, prefix in RateLimiter.key(prefix: prefix, subject: subject(of: rule, exchange)) }
        switch limiter.evaluate(rules: rules, keys: keys, on: exchange.eventLoop) {
        case .decided(let decision):
            return verdict(decision, exchange)
        case .pending(let decided):
            return .pending(decided.assumeIsolated().map { decision in self.verdict(decision, exchange) }.nonisolated())
        }
    }

    private func verdict(_ decision: RateLimitDecision, _ exchange: EdgeExchange) -> EdgeVerdict {
        counters.count(decision)
        switch decision.verdict {
        case .allowed:
            exchange.responseFields.append(name: HTTPField.Name.rateLimitPolicy.rawName, value: policyField)
            if let current = RateLimiter.currentField(rules: rules, decision: decision) {
                exchange.responseFields.append(name: HTTPField.Name.rateLimit.rawName, value: current)
            }
            return .proceed
        case .denied(let retryAfter):
            return .reject(RateLimited(retryAfter: retryAfter, headers: RateLimiter.headers(rules: rules, decision: decision, policy: policyField)))
        case .unavailable:
            return .reject(RateLimited(retryAfter: nil, headers: RateLimiter.headers(rules: rules, decision: decision, policy: policyField)))
        }
    }

    private func subject(of rule: RateLimitRule, _ exchange: EdgeExchange) -> String {
        switch rule.subject {
        case .ip, .none: limiter.addresses.subject(of: exchange.clientAddress)
        case .user: exchange.identity?.principal ?? limiter.addresses.subject(of: exchange.clientAddress)
        case .route: "all"
        case .header(let name): "h:" + (exchange.head.headers.first(name: name) ?? "-")
        }
    }
}
