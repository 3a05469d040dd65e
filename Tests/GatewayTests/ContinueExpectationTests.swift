import Foundation
@testable import Gateway
import HummingbirdTesting
import NIOCore
import ServiceTestSupport
import Testing

@Suite("Expect: 100-continue at the edge: the body invited when it is going to be read, the connection closed when it is not")
struct ContinueExpectationTests {
    static let continueLine = "HTTP/1.1 100 Continue\r\n\r\n"

    /// A request head with `Expect: 100-continue` for a body of `body`'s length, and `fields`.
    static func head(_ method: String, _ path: String, body: String, fields: String = "") -> String {
        "\(method) \(path) HTTP/1.1\r\nHost: gw\r\nContent-Type: application/json\r\n\(fields)Expect: 100-continue\r\nContent-Length: \(body.utf8.count)\r\n\r\n"
    }

    /// Sends `head`, the body only once `100 Continue` came (as a client that waits for it does),
    /// and reads until the server closes or `done` says so.
    static func exchange(port: Int, head: String, body: String, until done: @escaping (String) -> Bool) async throws -> String {
        var sentBody = false
        return try await RawConnection.exchange(port: port, head, limit: .seconds(5)) { received, outbound in
            if !sentBody, received.hasPrefix(continueLine) {
                sentBody = true
                try await outbound.write(ByteBuffer(string: body))
            }
            return done(received)
        }
    }

    @Test("a proxied POST gets 100 Continue, then the upstream's answer to its body; Expect does not go upstream")
    func proxiedRequest() async throws {
        try await UpstreamServer.with { upstream in
            try await GatewayFixture.with(routes: RouteTable(routes: [ProxyRoute(name: "echo", prefix: "/api/echo", upstreams: [upstream.url])])) { fixture in
                try await fixture.application.test(.live) { client in
                    let port = try #require(client.port)
                    let body = #"{"seat":"A1"}"#
                    let text = try await Self.exchange(port: port, head: Self.head("POST", "/api/echo/x", body: body), body: body) { $0.hasSuffix("}") }
                    #expect(text.hasPrefix(Self.continueLine + "HTTP/1.1 200 OK\r\n"), "\(text)")
                    let json = try #require(text.range(of: "\r\n\r\n{").map { String(text[text.index(before: $0.upperBound)...]) })
                    let echo = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
                    #expect(echo["body"] as? String == body)
                    #expect((echo["headers"] as? [String: String])?["expect"] == nil, "the edge answered the expectation itself")
                }
            }
        }
    }

    @Test("a request refused before its body is read gets no 100 Continue: the refusal, then the connection closes")
    func refusedRequest() async throws {
        try await UpstreamServer.with { upstream in
            let route = ProxyRoute(name: "echo", prefix: "/api/echo", upstreams: [upstream.url], authentication: .required)
            try await GatewayFixture.with(routes: RouteTable(routes: [route])) { fixture in
                try await fixture.application.test(.live) { client in
                    let port = try #require(client.port)
                    let sent = ContinuousClock.now
                    let text = try await Self.exchange(port: port, head: Self.head("POST", "/api/echo/x", body: "{}"), body: "{}") { _ in false }
                    #expect(text.hasPrefix("HTTP/1.1 401 Unauthorized\r\n"), "\(text)")
                    #expect(!text.contains("100 Continue"))
                    #expect(ContinuousClock.now - sent < .seconds(3), "closed after the refusal: the body it waits for will not come")
                    #expect(upstream.callCount == 0)
                }
            }
        }
    }

    @Test("a request for the router (registration) gets 100 Continue, then the router's answer, also through a local route's policies", arguments: [
        RouteTable(),
        RouteTable(routes: [ProxyRoute(name: "register", prefix: "/api/v1/auth/register", upstreams: [], local: true)]),
    ])
    func routerRequest(routes: RouteTable) async throws {
        try await GatewayFixture.with(routes: routes) { fixture in
            try await fixture.application.test(.live) { client in
                let port = try #require(client.port)
                let body = #"{"email":"not-an-email","password":"short"}"#
                let text = try await Self.exchange(port: port, head: Self.head("POST", "/api/v1/auth/register", body: body), body: body) { $0.hasSuffix("}") }
                #expect(text.hasPrefix(Self.continueLine + "HTTP/1.1 4"), "the router read the body and refused it: \(text)")
                #expect(text.contains("application/problem+json"), "\(text)")
            }
        }
    }
}
