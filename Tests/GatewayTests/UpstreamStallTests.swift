import NIOCore
import ServiceTestSupport
import Testing

@testable import Gateway

@Suite("An upstream's answer that stops moving is cut at the route's timeout; one that moves is not")
struct UpstreamStallTests {
    @Test("a body that stops short of its length: the client's connection closes at the route's timeout, not never")
    func stalledBody() async throws {
        try await ScriptedUpstream.with(answering: "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nok") { url in
            let routes = RouteTable(routes: [ProxyRoute(name: "stalls", prefix: "/up", upstreams: [url], timeoutMilliseconds: 300)])
            try await GatewayFixture.with(routes: routes) { fixture in
                try await fixture.application.test(.live) { client in
                    let port = try #require(client.port)
                    let started = ContinuousClock.now
                    let text = try await RawConnection.exchange(port: port, "GET /up/x HTTP/1.1\r\nHost: gw\r\n\r\n", limit: .seconds(10)) { _, _ in false }
                    let took = ContinuousClock.now - started
                    #expect(text.hasPrefix("HTTP/1.1 200 OK\r\n") && text.hasSuffix("\r\n\r\nok"), "the head and what came of the body: \(text)")
                    #expect(took >= .milliseconds(250) && took < .seconds(3), "closed at the route's timeout, not at the test's limit: \(took)")
                }
            }
        }
    }

    @Test("a stream whose parts come within the route's timeout runs longer than it, whole")
    func movingBody() async throws {
        try await UpstreamServer.with { upstream in
            let routes = RouteTable(routes: [ProxyRoute(name: "stream", prefix: "/api/stream", upstreams: [upstream.url], timeoutMilliseconds: 500)])
            try await GatewayFixture.with(routes: routes) { fixture in
                try await fixture.application.test(.live) { client in
                    let started = ContinuousClock.now
                    let response = try await client.execute(uri: "/api/stream", method: .get)
                    #expect(response.status == .ok)
                    #expect(String(buffer: response.body) == "data: 1\n\ndata: 2\n\ndata: 3\n\n")
                    #expect(ContinuousClock.now - started >= .milliseconds(550), "three parts 300 ms apart: longer than the 500 ms timeout")
                }
            }
        }
    }
}
