import Foundation
import OTel
import ServiceLifecycle

/// OpenTelemetry traces, exported with OTLP over HTTP, when the standard variables ask for them:
/// `OTEL_EXPORTER_OTLP_ENDPOINT` (or `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`) is set and
/// `OTEL_SDK_DISABLED` is not `true`. The other `OTEL_*` variables (service name, protocol
/// `http/protobuf` or `http/json`, sampler, batch delays) apply as usual. Metrics stay on
/// Prometheus and logs on standard output. Returns the exporter's service, or nil when off.
///
/// Call before any HTTP client is made: clients pick up the tracer when they are created, and
/// then put the W3C `traceparent` on every upstream request.
func tracingService(serviceName: String, environment: [String: String] = ProcessInfo.processInfo.environment) throws -> (any Service)? {
    guard environment["OTEL_SDK_DISABLED"]?.lowercased() != "true",
          environment["OTEL_EXPORTER_OTLP_ENDPOINT"] != nil || environment["OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"] != nil
    else { return nil }
    var configuration = OTel.Configuration.default
    configuration.serviceName = serviceName
    configuration.diagnosticLogLevel = .warning
    configuration.metrics.enabled = false
    configuration.logs.enabled = false
    configuration.traces.otlpExporter.protocol = .httpProtobuf
    return try OTel.bootstrap(configuration: configuration)
}
