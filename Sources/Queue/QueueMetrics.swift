import Metrics

/// The waiting rooms' figures as metrics, recorded by each gateway's releaser after every release
/// call. Counters add up across the fleet (each admission is counted by the instance that made
/// it); gauges are the same on every instance (take the max).
enum QueueMetrics {
    static func record(event: String, _ result: ReleaseResult) {
        let dimensions = [("event", event)]
        if result.admitted > 0 {
            Metrics.Counter(label: "queue_released_total", dimensions: dimensions).increment(by: result.admitted)
        }
        if result.abandoned > 0 {
            Metrics.Counter(label: "queue_abandoned_total", dimensions: dimensions).increment(by: result.abandoned)
        }
        Metrics.Gauge(label: "queue_waiting", dimensions: dimensions).record(result.waiting)
        Metrics.Gauge(label: "queue_active_passes", dimensions: dimensions).record(result.active)
        Metrics.Gauge(label: "queue_observed_release_rate", dimensions: dimensions).record(result.observedRate)
    }
}
