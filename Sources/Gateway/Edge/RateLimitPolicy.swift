import HTTPTypes
import NIOCore

/// Distributed rate limits (GCRA in Redis): every rule of the route checked and charged in one
/// script call; `RateLimit-Policy`/`RateLimit` fields on the answer, 429 with `Retry-After`
/// when over, 503 when Redis is down and a rule fails closed.
struct RateLimitPolicy: EdgePolicy {
    let limiter: RateLimiter
    let route: String
    let rules: [RateLimitRule]

    func admit(_ exchange: EdgeExchange) -> EdgeVerdict {
        let subjects = rules.map { subject(of: $0, exchange) }
        let decided = limiter.check(route: route, rules: rules, subjects: subjects, on: exchange.eventLoop)
        return .pending(decided.assumeIsolated().map { decision in
            GatewayMetrics.rateLimit(route: self.route, decision)
            let fields = RateLimiter.headers(rules: self.rules, decision: decision)
            switch decision.verdict {
            case .allowed:
                for field in fields { exchange.responseFields.append(field) }
                return .proceed
            case .denied(let retryAfter):
                return .reject(RateLimited(retryAfter: retryAfter, headers: fields))
            case .unavailable:
                return .reject(RateLimited(retryAfter: nil, headers: fields))
            }
        }.nonisolated())
    }

    private func subject(of rule: RateLimitRule, _ exchange: EdgeExchange) -> String {
        switch rule.subject {
        case .ip, .none: "ip:\(exchange.clientAddress)"
        case .user: exchange.identity.map { "u:\($0.userID)" } ?? "ip:\(exchange.clientAddress)"
        case .route: "all"
        case .header(let name): "h:" + (exchange.head.headers.first(name: name) ?? "-")
        }
    }
}
