import Synchronization

/// GCRA buckets in this gateway's memory, for rules scoped to the instance: the same arithmetic
/// as `rate_limit.lua`, without the Redis call.
final class InstanceRateLimits: Sendable {
    static let maximumBuckets = 200_000

    /// Each bucket's theoretical arrival time.
    private let buckets = Mutex<[String: ContinuousClock.Instant]>([:])

    /// Checks every rule's bucket and, when all admit the request, charges them. Per rule: requests
    /// left and seconds until full; `retryAfter` (seconds) when denied.
    func check(rules: [RateLimitRule], keys: [String]) -> (retryAfter: Int?, states: [(remaining: Int, reset: Int)]) {
        let now = ContinuousClock.now
        return buckets.withLock { buckets in
            if buckets.count >= Self.maximumBuckets { buckets = buckets.filter { $0.value > now } }
            var retryAfter: Duration?
            var arrivals: [ContinuousClock.Instant] = []
            for (rule, key) in zip(rules, keys) {
                let emission = Duration.microseconds(rule.emissionMicroseconds)
                let arrival = max(buckets[key] ?? now, now) + emission
                let allowedAt = arrival - emission * rule.effectiveBurst
                if allowedAt > now { retryAfter = max(retryAfter ?? .zero, allowedAt - now) }
                arrivals.append(arrival)
            }
            let charged = retryAfter == nil
            if charged {
                for (key, arrival) in zip(keys, arrivals) { buckets[key] = arrival }
            }
            let states = zip(rules, keys).map { rule, key in
                let arrival = buckets[key] ?? now
                let emission = Duration.microseconds(rule.emissionMicroseconds)
                let backlog = max(.zero, arrival - now)
                let remaining = max(0, rule.effectiveBurst - Int((backlog / emission).rounded(.up)))
                return (remaining, Int((backlog / .seconds(1)).rounded(.up)))
            }
            return (retryAfter.map { max(1, Int(($0 / .seconds(1)).rounded(.up))) }, states)
        }
    }
}
