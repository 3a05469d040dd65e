import Foundation
import Hummingbird
import HummingbirdTesting
import ServiceKit
import Testing

@testable import Gateway

/// Bootstrapped once per test process.
let metricsBootstrapped: Void = ServiceMetrics.bootstrap()

@Suite("Prometheus metrics of the gateway")
struct MetricsTests {
    @Test("/metrics shows proxied requests, rate-limit decisions, Redis latency and request timings")
    func exposition() async throws {
        _ = metricsBootstrapped
        let upstream = try await UpstreamServer.start()
        let name = "metrics-\(UUID().uuidString.prefix(8).lowercased())"
        let routes = RouteTable(routes: [
            ProxyRoute(name: name + "-leased", prefix: "/api/echo/leased", upstreams: [upstream.url], rateLimits: [
                RateLimitRule(name: "many", key: "ip", limit: 100, period: 60, lease: 5),
            ]),
            ProxyRoute(name: name, prefix: "/api/echo", upstreams: [upstream.url], rateLimits: [RateLimitRule(name: "one", key: "ip", limit: 1, period: 60)]),
        ])
        try await GatewayFixture.with(routes: routes) { fixture in
            try await fixture.application.test(.live) { client in
                #expect(try await client.execute(uri: "/api/echo/x", method: .get).status == .ok)
                #expect(try await client.execute(uri: "/api/echo/x", method: .get).status == .tooManyRequests)
                for _ in 0..<3 { #expect(try await client.execute(uri: "/api/echo/leased/x", method: .get).status == .ok) }
                let metrics = try await client.execute(uri: "/metrics", method: .get)
                #expect(metrics.status == .ok)
                #expect(metrics.headers[.contentType]?.hasPrefix("text/plain") == true)
                let text = String(buffer: metrics.body)
                #expect(text.contains(#"gateway_proxy_requests_total{route="\#(name)",status="200"} 1"#))
                #expect(text.contains(#"gateway_rate_limit_decisions_total{route="\#(name)",decision="allowed"} 1"#))
                #expect(text.contains(#"gateway_rate_limit_decisions_total{route="\#(name)",decision="denied"} 1"#))
                #expect(text.contains(#"gateway_rate_limit_decisions_total{route="\#(name)-leased",decision="allowed"} 1"#), "the refill")
                #expect(text.contains(#"gateway_rate_limit_decisions_total{route="\#(name)-leased",decision="allowed_leased"} 2"#))
                #expect(text.contains(#"gateway_proxy_duration_seconds_bucket{route="\#(name)""#))
                #expect(text.contains("redis_command_duration_seconds_bucket{command=\"EVALSHA\""))
            }
        }
        await upstream.stop()
    }
}
