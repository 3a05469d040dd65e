import ArgumentParser
import Foundation
import OTel
import ServiceLifecycle

/// The values this build takes for the `OTEL_*` variables that choose a component (lists,
/// comma-separated, for the exporters and propagators). The exporter library ends the process
/// (`OTEL_EXPORTER_OTLP_PROTOCOL=grpc`, `OTEL_PROPAGATORS=tracecontext,baggage`) or fails
/// without naming the cause (`OTEL_TRACES_EXPORTER=zipkin`) for any other.
let supportedTraceComponents: [(names: [String], values: [String])] = [
    (["OTEL_EXPORTER_OTLP_PROTOCOL", "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL"], ["http/protobuf", "http/json"]),
    (["OTEL_TRACES_EXPORTER"], ["otlp", "none"]),
    (["OTEL_PROPAGATORS"], ["tracecontext", "none"]),
]

/// OpenTelemetry traces, exported with OTLP over HTTP, when the standard variables ask for them:
/// `OTEL_EXPORTER_OTLP_ENDPOINT` (or `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`) is set and
/// `OTEL_SDK_DISABLED` is not `true`. The other `OTEL_*` variables (service name, protocol
/// `http/protobuf` or `http/json`, sampler, batch delays) apply as usual. Metrics stay on
/// Prometheus and logs on standard output. Returns the exporter's service, or nil when off.
///
/// An endpoint that is not an `http://` or `https://` URL with a host stops the start
/// (``serviceURL(_:environment:)``) rather than losing every span without a word, and so does a
/// component this build does not have (``supportedTraceComponents``).
///
/// Call before any HTTP client is made: clients pick up the tracer when they are created, and
/// then put the W3C `traceparent` on every upstream request.
func tracingService(serviceName: String, environment: [String: String] = ProcessInfo.processInfo.environment) throws -> (any Service)? {
    guard environment["OTEL_SDK_DISABLED"]?.lowercased() != "true" else { return nil }
    let endpoints = try ["OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"].compactMap { try serviceURL($0, environment: environment) }
    guard !endpoints.isEmpty else { return nil }
    for (names, values) in supportedTraceComponents {
        for name in names {
            guard let value = environment[name], !value.isEmpty else { continue }
            let named = value.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
            guard let other = named.first(where: { !values.contains($0) }) else { continue }
            throw ValidationError("\(name) may name \(values.joined(separator: " or ")) in this build, not '\(other.prefix(40))'")
        }
    }
    var configuration = OTel.Configuration.default
    configuration.serviceName = serviceName
    configuration.diagnosticLogLevel = .warning
    configuration.metrics.enabled = false
    configuration.logs.enabled = false
    configuration.traces.otlpExporter.protocol = .httpProtobuf
    return try OTel.bootstrap(configuration: configuration)
}
