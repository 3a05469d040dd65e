import HTTPTypes
import Metrics
import NIOCore
import Synchronization

/// A proxied route made ready at start: its upstream targets parsed, its policy chain built and
/// its metric handles made, so that a request only looks them up.
final class EdgeRoute: Sendable {
    let configuration: ProxyRoute
    let name: String
    let prefix: String
    let pattern: RoutePattern
    let targets: [UpstreamTarget]
    /// The service the signature names (the route's `service`).
    let service: String
    let policies: [any EdgePolicy]
    let timeout: TimeAmount
    /// Whether the gateway answers the route itself once its policies pass.
    let isLocal: Bool
    let duration: Metrics.Timer
    private let nextTarget = Atomic<Int>(0)
    private let counters = Mutex<[Int: Metrics.Counter]>([:])

    init(_ configuration: ProxyRoute, policies: [any EdgePolicy]) {
        self.configuration = configuration
        self.name = configuration.name
        self.prefix = configuration.prefix
        self.pattern = configuration.pattern
        self.targets = configuration.upstreams.compactMap { UpstreamTarget($0, maxConnections: configuration.maxConnections) }
        self.service = configuration.service
        self.policies = policies
        self.timeout = .milliseconds(Int64(configuration.timeoutMilliseconds))
        self.isLocal = configuration.local
        self.duration = Metrics.Timer(label: "gateway_proxy_duration_seconds", dimensions: [("route", configuration.name)])
    }

    /// The targets in the order to try them for one request: round-robin from a rotating start
    /// (a lone upstream is its own order, and the route's array serves uncopied).
    func targetOrder() -> [UpstreamTarget] {
        guard targets.count > 1 else { return targets }
        let start = nextTarget.wrappingAdd(1, ordering: .relaxed).oldValue
        let count = targets.count
        return (0..<count).map { self.targets[(start &+ $0) % count] }
    }

    /// Counts one proxied answer and its duration.
    func record(status: Int, duration elapsed: Duration) {
        let counter = counters.withLock { counters in
            if let counter = counters[status] { return counter }
            let counter = Metrics.Counter(label: "gateway_proxy_requests_total", dimensions: [("route", name), ("status", "\(status)")])
            counters[status] = counter
            return counter
        }
        counter.increment()
        duration.record(duration: elapsed)
    }
}
