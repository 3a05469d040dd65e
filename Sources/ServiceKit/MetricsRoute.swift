import Hummingbird
import Metrics
import NIOCore
import Prometheus

/// Prometheus metrics for every service of the process.
public enum ServiceMetrics {
    /// The registry behind `/metrics`.
    public static let registry = PrometheusMetricsFactory.defaultRegistry

    /// Sends swift-metrics to the Prometheus registry; call once, at process start.
    public static func bootstrap() {
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.defaultDurationHistogramBuckets = [
            .microseconds(500), .milliseconds(1), .milliseconds(2), .milliseconds(5), .milliseconds(10), .milliseconds(25),
            .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1), .seconds(2.5), .seconds(5), .seconds(10),
        ]
        MetricsSystem.bootstrap(factory)
    }
}

extension Router {
    /// `GET /metrics` in the Prometheus text format.
    public func addMetricsRoute() {
        get("/metrics") { _, _ -> Response in
            Response(
                status: .ok,
                headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(bytes: ServiceMetrics.registry.emitToBuffer()))
            )
        }
    }
}
