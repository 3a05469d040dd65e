import Instrumentation
import NIOHTTP1
import ServiceKit
import ServiceContextModule
import Tracing

/// Spans of proxied requests, when a tracer is installed (OpenTelemetry on): a server span that
/// continues the client's `traceparent`, and a client span for the upstream call whose context
/// replaces the client's trace fields upstream.
struct EdgeTracing: Sendable {
    /// Nil when no tracer is installed: asked once, when the edge is built.
    static func ifInstalled() -> EdgeTracing? {
        isTracingInstalled ? EdgeTracing() : nil
    }

    func start(_ exchange: EdgeExchange) -> EdgeTrace {
        var context = ServiceContext.topLevel
        InstrumentationSystem.instrument.extract(exchange.head.headers, into: &context, using: HTTPHeadersExtractor())
        let name = "\(exchange.head.method.rawValue) \(exchange.route.prefix)"
        let server = InstrumentationSystem.tracer.startAnySpan(name, context: context, ofKind: .server)
        server.attributes["http.request.method"] = exchange.head.method.rawValue
        server.attributes["url.path"] = String(exchange.path)
        server.attributes["http.route"] = exchange.route.prefix
        let client = InstrumentationSystem.tracer.startAnySpan(exchange.head.method.rawValue, context: server.context, ofKind: .client)
        client.attributes["server.address"] = exchange.route.targets.first?.host
        return EdgeTrace(server: server, client: client)
    }
}

/// The spans of one proxied request.
struct EdgeTrace {
    let server: any Span
    let client: any Span

    /// Puts the client span's context into the upstream request's fields.
    func inject(into head: inout UpstreamRequestHead) {
        InstrumentationSystem.instrument.inject(client.context, into: &head, using: UpstreamRequestHeadInjector())
    }

    /// Ends both spans; `status` nil when the client went away.
    func end(status: Int?) {
        for span in [client, server] {
            if let status {
                span.attributes["http.response.status_code"] = status
                if status >= 500 { span.setStatus(SpanStatus(code: .error)) }
            } else {
                span.setStatus(SpanStatus(code: .error, message: "client went away"))
            }
            span.end()
        }
    }
}

struct HTTPHeadersExtractor: Extractor {
    func extract(key: String, from carrier: HTTPHeaders) -> String? {
        carrier.first(name: key)
    }
}
