import HTTPTypes
import Metrics

/// The gateway's own metrics, beside Hummingbird's per-route request counters and timers.
enum GatewayMetrics {
    static func proxied(route: String, status: HTTPResponse.Status, duration: Duration) {
        Metrics.Counter(label: "gateway_proxy_requests_total", dimensions: [("route", route), ("status", "\(status.code)")]).increment()
        Metrics.Timer(label: "gateway_proxy_duration_seconds", dimensions: [("route", route)]).record(duration: duration)
    }

    static func proxyError(route: String, _ error: ProxyError) {
        let kind = switch error {
        case .upstreamUnreachable: "unreachable"
        case .upstreamTimeout: "timeout"
        case .upstreamFailed: "failed"
        case .bodyTooLarge: "body_too_large"
        }
        Metrics.Counter(label: "gateway_proxy_errors_total", dimensions: [("route", route), ("kind", kind)]).increment()
    }

    static func rateLimit(route: String, _ decision: RateLimitDecision) {
        let outcome = switch decision.verdict {
        case .allowed: decision.failedOpen ? "failed_open" : "allowed"
        case .denied: decision.cached ? "denied_cached" : "denied"
        case .unavailable: "failed_closed"
        }
        Metrics.Counter(label: "gateway_rate_limit_decisions_total", dimensions: [("route", route), ("decision", outcome)]).increment()
    }

    static func idempotency(route: String, _ outcome: String) {
        Metrics.Counter(label: "gateway_idempotency_total", dimensions: [("route", route), ("outcome", outcome)]).increment()
    }
}
