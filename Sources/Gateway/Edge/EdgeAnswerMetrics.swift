import Metrics

/// The router's request metrics for a `GET` route the edge answers itself with `200`: the
/// same labels and dimensions as Hummingbird's `MetricsMiddleware`, so dashboards see one route.
/// Made once, when the edge is built; recording takes no lock.
struct EdgeAnswerMetrics: Sendable {
    private let answered: Metrics.Counter
    private let duration: Metrics.Timer

    /// `route` is the router's pattern for the same requests.
    init(route: String) {
        let dimensions = [("http.route", route), ("http.request.method", "GET"), ("http.response.status_code", "200")]
        self.answered = Metrics.Counter(label: "hb.requests", dimensions: dimensions)
        self.duration = Metrics.Timer(label: "http.server.request.duration", dimensions: dimensions, preferredDisplayUnit: .seconds)
    }

    /// Counts one answer that took since `started`.
    func record(since started: ContinuousClock.Instant) {
        answered.increment()
        duration.record(duration: ContinuousClock.now - started)
    }
}
