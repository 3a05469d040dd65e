import Foundation
@testable import Gateway
import HummingbirdTesting
import NIOCore
import NIOHTTP1
import ServiceTestSupport
import Testing

@Suite("Request heads the edge refuses or rewrites before routing: Host, transfer coding, absolute-form targets")
struct RequestHeadCheckTests {
    static func head(_ uri: String, _ fields: [(String, String)], version: HTTPVersion = .http1_1) -> HTTPRequestHead {
        HTTPRequestHead(version: version, method: .GET, uri: uri, headers: HTTPHeaders(fields))
    }

    @Test("one Host is required of HTTP/1.1, none allowed twice; chunked is the only transfer coding, and HTTP/1.0 has none")
    func refusals() {
        #expect(throws: RequestHeadError.hostInvalid) { try Self.head("/a", []).checkedForEdge() }
        #expect(throws: RequestHeadError.hostInvalid) { try Self.head("/a", [("Host", "a"), ("host", "b")]).checkedForEdge() }
        #expect(throws: RequestHeadError.hostInvalid) { try Self.head("/a", [("Host", "a"), ("Host", "a")], version: .http1_0).checkedForEdge() }
        #expect((try? Self.head("/a", [], version: .http1_0).checkedForEdge())?.uri == "/a", "HTTP/1.0 may leave Host out")
        #expect(throws: RequestHeadError.transferCodingUnsupported) {
            try Self.head("/a", [("Host", "a"), ("Transfer-Encoding", "gzip, chunked")]).checkedForEdge()
        }
        #expect(throws: RequestHeadError.transferCodingUnsupported) {
            try Self.head("/a", [("Host", "a"), ("Transfer-Encoding", "gzip"), ("Transfer-Encoding", "chunked")]).checkedForEdge()
        }
        #expect((try? Self.head("/a", [("Host", "a"), ("Transfer-Encoding", "Chunked")]).checkedForEdge()) != nil)
        #expect(throws: RequestHeadError.transferCodingInHTTP10) {
            try Self.head("/a", [("Host", "a"), ("Transfer-Encoding", "chunked")], version: .http1_0).checkedForEdge()
        }
    }

    @Test("a Host that is not a host and optional port is refused, as is such an authority in an absolute-form target", arguments: [
        "a b", "gw.example#x", "user@gw.example", "gw.example:80x", "gw.example:123456", "a:b:c", "[::1", "[]", "[::1]x", "[::1%25eth0]", "gw\\x", "\"gw\"",
    ])
    func invalidHost(host: String) {
        #expect(throws: RequestHeadError.hostInvalid) { try Self.head("/a", [("Host", host)]).checkedForEdge() }
        #expect(throws: RequestHeadError.hostInvalid) { try Self.head("http://\(host)/a", [("Host", "gw")]).checkedForEdge() }
    }

    @Test("names, addresses, IP literals, an empty host and ports pass as they are", arguments: [
        "gw.example", "GW.Example:8443", "127.0.0.1:80", "[::1]", "[::1]:8080", "[v1.fe]", "xn--bcher-kva.example", "h:", "", "a-b_c~d%41",
    ])
    func validHost(host: String) throws {
        #expect(try Self.head("/a", [("Host", host)]).checkedForEdge().headers["host"] == [host])
    }

    @Test("an absolute-form target becomes its path and query, its authority the Host", arguments: [
        ("http://gw.example/api/x?q=1", "gw.example", "/api/x?q=1"),
        ("HTTPS://gw.example:8443/api", "gw.example:8443", "/api"),
        ("http://gw.example", "gw.example", "/"),
        ("http://gw.example?q=1", "gw.example", "/?q=1"),
    ])
    func absoluteForm(uri: String, host: String, target: String) throws {
        let checked = try Self.head(uri, [("Host", "other")]).checkedForEdge()
        #expect(checked.uri == target)
        #expect(checked.headers["host"] == [host])
        #expect(try Self.head("/api/x", [("Host", "h")]).checkedForEdge().uri == "/api/x", "origin form as it is")
    }

    @Test("over a live connection: two Host fields, or chunks in HTTP/1.0, get 400 and the connection closes, nothing pipelined behind served; an absolute-form target is proxied by its path")
    func live() async throws {
        try await UpstreamServer.with { upstream in
            try await GatewayFixture.with(routes: RouteTable(routes: [ProxyRoute(name: "echo", prefix: "/api/echo", upstreams: [upstream.url])])) { fixture in
                try await fixture.application.test(.live) { client in
                    let port = try #require(client.port)
                    let refused = try await RawConnection.exchange(port: port, "GET /api/echo/x HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", limit: .seconds(5)) { _, _ in false }
                    #expect(refused.hasPrefix("HTTP/1.1 400 Bad Request\r\n"), "\(refused)")
                    #expect(refused.contains("/problems/host-invalid"), "\(refused)")
                    let pipelined = "GET /api/echo/x HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\nGET /api/echo/y HTTP/1.1\r\nHost: gw\r\n\r\n"
                    let refusedFirst = try await RawConnection.exchange(port: port, pipelined, limit: .seconds(5)) { _, _ in false }
                    #expect(refusedFirst.hasPrefix("HTTP/1.1 400 Bad Request\r\n") && !refusedFirst.contains("HTTP/1.1 200"), "the refusal alone: \(refusedFirst)")
                    try await Task.sleep(for: .milliseconds(200))
                    #expect(upstream.callCount == 0, "nothing behind a refused request is served on the closed connection")

                    let chunkedHTTP10 = "POST /api/echo/x HTTP/1.0\r\nConnection: keep-alive\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\nGET /api/echo/y HTTP/1.0\r\n\r\n"
                    let refusedHTTP10 = try await RawConnection.exchange(port: port, chunkedHTTP10, limit: .seconds(5)) { _, _ in false }
                    #expect(refusedHTTP10.hasPrefix("HTTP/1.0 400 Bad Request\r\n") && refusedHTTP10.contains("HTTP/1.0 request carries no Transfer-Encoding"), "\(refusedHTTP10)")
                    #expect(!refusedHTTP10.contains(" 200 "), "nothing behind it is served: \(refusedHTTP10)")
                    try await Task.sleep(for: .milliseconds(200))
                    #expect(upstream.callCount == 0, "an HTTP/1.0 request with chunks is never forwarded")

                    let absolute = "GET http://gw.example/api/echo/x?q=1 HTTP/1.1\r\nHost: ignored\r\nConnection: close\r\n\r\n"
                    let text = try await RawConnection.exchange(port: port, absolute, limit: .seconds(5)) { _, _ in false }
                    let json = try #require(text.range(of: "\r\n\r\n").map { String(text[$0.upperBound...]) })
                    let echo = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any], "\(text)")
                    #expect(echo["path"] as? String == "/api/echo/x?q=1")
                    #expect((echo["headers"] as? [String: String])?["x-forwarded-host"] == "gw.example")
                }
            }
        }
    }

    @Test("a proxied request whose chunked body stops parsing half-way gets 400 malformed-request, the connection closes, and no upstream is called")
    func malformedBody() async throws {
        try await UpstreamServer.with { upstream in
            try await GatewayFixture.with(routes: RouteTable(routes: [ProxyRoute(name: "echo", prefix: "/api/echo", upstreams: [upstream.url])])) { fixture in
                try await fixture.application.test(.live) { client in
                    let port = try #require(client.port)
                    for body in ["zz\r\n", "5\r\nhello\r\n3x\r\n"] {
                        let request = "POST /api/echo/x HTTP/1.1\r\nHost: gw\r\nTransfer-Encoding: chunked\r\n\r\n" + body
                        let text = try await RawConnection.exchange(port: port, request, limit: .seconds(5)) { _, _ in false }
                        #expect(text.hasPrefix("HTTP/1.1 400 Bad Request\r\n"), "\(body.debugDescription): \(text)")
                        #expect(text.contains("/problems/malformed-request") && text.lowercased().contains("connection: close"), "\(text)")
                    }
                    #expect(upstream.callCount == 0)
                }
            }
        }
    }
}
