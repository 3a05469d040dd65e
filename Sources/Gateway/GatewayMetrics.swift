import HTTPTypes
import Metrics
import Synchronization

/// The gateway's own metrics, beside Hummingbird's per-route request counters and timers.
/// Handles are made once per label set and kept, so the hot path only looks them up.
enum GatewayMetrics {
    private static let counters = Mutex<[String: Metrics.Counter]>([:])

    private static func counter(_ label: String, _ dimensions: [(String, String)]) -> Metrics.Counter {
        var key = label
        for (name, value) in dimensions { key += "|\(name)=\(value)" }
        return counters.withLock { counters in
            if let counter = counters[key] { return counter }
            let counter = Metrics.Counter(label: label, dimensions: dimensions)
            counters[key] = counter
            return counter
        }
    }

    static func proxyError(route: String, _ error: ProxyError) {
        let kind = switch error {
        case .upstreamUnreachable: "unreachable"
        case .upstreamTimeout: "timeout"
        case .upstreamFailed: "failed"
        case .bodyTooLarge: "body_too_large"
        case .loopDetected: "loop"
        case .gatewayFull: "gateway_full"
        case .upstreamBusy: "upstream_busy"
        }
        counter("gateway_proxy_errors_total", [("route", route), ("kind", kind)]).increment()
    }

    /// A reload of the route table that took (`ok`) or left the table as it was (`failed`).
    static func routeTableReloaded(ok: Bool) {
        counter("gateway_route_table_reloads_total", [("outcome", ok ? "ok" : "failed")]).increment()
    }

    /// The counters of one route's rate-limit decisions (`gateway_rate_limit_decisions_total`),
    /// made once so that a decision only increments one; beside them, the requests that waited
    /// for a lease refill because their subject's tokens ran out while it was under way
    /// (`gateway_rate_limit_lease_waits_total`).
    struct RateLimitCounters: Sendable {
        private let allowed, allowedLeased, failedOpen, denied, deniedCached, failedClosed, leaseWaits: Metrics.Counter

        init(route: String) {
            let made = { (outcome: String) in counter("gateway_rate_limit_decisions_total", [("route", route), ("decision", outcome)]) }
            allowed = made("allowed")
            allowedLeased = made("allowed_leased")
            failedOpen = made("failed_open")
            denied = made("denied")
            deniedCached = made("denied_cached")
            failedClosed = made("failed_closed")
            leaseWaits = counter("gateway_rate_limit_lease_waits_total", [("route", route)])
        }

        /// Counts `decision` under its outcome.
        func count(_ decision: RateLimitDecision) {
            let counter = switch decision.verdict {
            case .allowed: decision.failedOpen ? failedOpen : decision.leased ? allowedLeased : allowed
            case .denied: decision.cached ? deniedCached : denied
            case .unavailable: failedClosed
            }
            counter.increment()
            if decision.waitedForLease { leaseWaits.increment() }
        }
    }

    static func idempotency(route: String, _ outcome: String) {
        idempotencyCounter(route: route, outcome).increment()
    }

    /// The `gateway_idempotency_total` counter of `route` and `outcome`, for a caller to keep.
    static func idempotencyCounter(route: String, _ outcome: String) -> Metrics.Counter {
        counter("gateway_idempotency_total", [("route", route), ("outcome", outcome)])
    }
}
