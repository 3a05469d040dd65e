import NIOCore
import NIOPosix
import ServiceTestSupport
import Testing

@testable import Gateway

@Suite("Interim answers from an upstream: 1xx before the answer, and a switch of protocols nobody asked for")
struct UpstreamInterimTests {
    /// What the gateway answers, on one connection, to `GET /up/x` routed to `upstream`, then `GET /health`.
    static func answers(
        upstream answer: String, version: String = "HTTP/1.1", timeoutMilliseconds: Int = 2_000
    ) async throws -> (text: String, took: Duration) {
        var result: (String, Duration) = ("", .zero)
        try await ScriptedUpstream.with(answering: answer) { url in
            let routes = RouteTable(routes: [ProxyRoute(name: "up", prefix: "/up", upstreams: [url], timeoutMilliseconds: timeoutMilliseconds)])
            try await GatewayFixture.with(routes: routes) { fixture in
                result = try await fixture.application.test(.live) { client in
                    let port = try #require(client.port)
                    let started = ContinuousClock.now
                    let text = try await RawConnection.exchange(
                        port: port, "GET /up/x \(version)\r\nHost: gw\r\nConnection: keep-alive\r\n\r\nGET /health HTTP/1.1\r\nHost: gw\r\n\r\n",
                        limit: .seconds(10)
                    ) { received, _ in received.hasSuffix(EdgeHealth.body) }
                    return (text, ContinuousClock.now - started)
                }
            }
        }
        return result
    }

    @Test("a 101 to a request that asked for no upgrade is a 502 at once; the connection goes on")
    func switchingProtocols() async throws {
        let (text, took) = try await Self.answers(upstream: "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: upgrade\r\n\r\n")
        #expect(text.hasPrefix("HTTP/1.1 502 Bad Gateway\r\n"), "\(text)")
        #expect(text.contains("upstream-failed"), "\(text)")
        #expect(text.hasSuffix(EdgeHealth.body), "the next request is served: \(text)")
        #expect(took < .seconds(1), "not left to the route's timeout: \(took)")
    }

    @Test("an answer in a transfer coding other than chunked is a 502, not passed on still coded and unlabelled; the connection goes on", arguments: [
        "Transfer-Encoding: gzip, chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n",
        "Transfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n",
        "Transfer-Encoding: gzip\r\nContent-Length: 2\r\n\r\nok",
    ])
    func transferCoding(fields: String) async throws {
        let (text, took) = try await Self.answers(upstream: "HTTP/1.1 200 OK\r\n" + fields)
        #expect(text.hasPrefix("HTTP/1.1 502 Bad Gateway\r\n") && text.contains("upstream-failed"), "\(text)")
        #expect(text.hasSuffix(EdgeHealth.body), "the next request is served: \(text)")
        #expect(took < .seconds(1), "not left to the route's timeout: \(took)")
    }

    @Test("an answer whose status is outside 100-599 is a 502, not passed on; the connection goes on", arguments: ["099", "000", "600", "999"])
    func invalidStatus(code: String) async throws {
        let (text, took) = try await Self.answers(upstream: "HTTP/1.1 \(code) Odd\r\nContent-Length: 2\r\n\r\nok")
        #expect(text.hasPrefix("HTTP/1.1 502 Bad Gateway\r\n") && text.contains("upstream-failed"), "\(text)")
        #expect(text.hasSuffix(EdgeHealth.body), "the next request is served: \(text)")
        #expect(took < .seconds(1), "not left to the route's timeout: \(took)")
    }

    static let earlyHints = "HTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\nConnection: keep-alive\r\n\r\n"
        + "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"

    @Test("an interim answer goes on to an HTTP/1.1 client at once, its hop-by-hop fields dropped; then the final answer")
    func informational() async throws {
        let (text, _) = try await Self.answers(upstream: Self.earlyHints)
        #expect(text.hasPrefix("HTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\n\r\nHTTP/1.1 200 OK\r\n"), "\(text)")
        #expect(text.contains("\r\n\r\nokHTTP/1.1 200 OK\r\n"), "the body, then the next answer: \(text)")
    }

    @Test("an HTTP/1.0 client, which knows no interim answers, gets the final one alone")
    func informationalForHTTP10() async throws {
        let (text, _) = try await Self.answers(upstream: Self.earlyHints, version: "HTTP/1.0")
        #expect(text.hasPrefix("HTTP/1.0 200 OK\r\n"), "\(text)")
        #expect(!text.contains("103"), "\(text)")
        #expect(text.hasSuffix(EdgeHealth.body), "\(text)")
    }

    @Test("a 100 Continue (the edge sent no Expect) is not passed on; then silence is still a 504 at the route's timeout")
    func interimThenSilence() async throws {
        let (text, took) = try await Self.answers(upstream: "HTTP/1.1 100 Continue\r\n\r\n", timeoutMilliseconds: 300)
        #expect(text.hasPrefix("HTTP/1.1 504 Gateway Timeout\r\n"), "\(text)")
        #expect(text.hasSuffix(EdgeHealth.body), "\(text)")
        #expect(took < .seconds(3), "\(took)")
    }
}
