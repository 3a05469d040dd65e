import Foundation
import Hummingbird
import HummingbirdTesting
import Queue
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
        try await UpstreamServer.with { upstream in
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
        }
    }

    @Test("/metrics counts the connections held against their limit and each room's live event streams while they are open")
    func connectionsAndStreams() async throws {
        _ = metricsBootstrapped
        try await GatewayFixture.with(RoomConfiguration(mode: .paused, releaseRate: 10), maxConnections: 500) { fixture in
            try await fixture.application.test(.live) { client in
                let joined = try await client.execute(uri: "/api/v1/queue/\(fixture.event)/join", method: .post)
                let ticket = try #require(joined.json["ticket"] as? String)
                let visitor = try #require(fixture.tickets.visitor(from: ticket))
                let streams = #"gateway_queue_streams{event="\#(fixture.event)"}"#
                func value(_ name: String, in text: String) -> Double? {
                    text.split(separator: "\n").first { $0.hasPrefix(name + " ") }.flatMap { Double($0.split(separator: " ").last ?? "") }
                }
                /// The exposition once the room's stream count is `count` (or after 2 s).
                func metrics(streamCount count: Double) async throws -> String {
                    var text = ""
                    for _ in 0..<100 {
                        let response = try await fixture.components.httpClient.get(url: "http://127.0.0.1:\(client.port!)/metrics").get()
                        text = response.body.map { String(buffer: $0) } ?? ""
                        if value(streams, in: text) == count { break }
                        try await Task.sleep(for: .milliseconds(20))
                    }
                    return text
                }
                let stream = Task {
                    try await client.execute(uri: "/api/v1/queue/\(fixture.event)/events", method: .get, headers: [.cookie: "br_visitor=\(ticket)"])
                }
                let open = try await metrics(streamCount: 1)
                #expect(value(streams, in: open) == 1, "one stream open")
                #expect((value("gateway_connections_open", in: open) ?? 0) >= 1, "the stream's connection is held")
                #expect(value("gateway_connections_limit", in: open) == 500)

                #expect(try await fixture.room.leave(event: fixture.event, visitor: visitor))
                let ended = try await stream.value
                #expect(String(buffer: ended.body).contains("event: lost"))
                let closed = try await metrics(streamCount: 0)
                #expect(value(streams, in: closed) == 0, "the stream ended")
            }
        }
    }
}
