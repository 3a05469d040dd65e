import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import ServiceKit
import ServiceTestSupport
import Testing

@testable import Gateway

@Suite("A proxied path asked with a method no route takes: 405 with Allow, OPTIONS 204, from the edge")
struct EdgeMethodTests {
    static func routes(_ upstream: String) -> RouteTable {
        RouteTable(routes: [
            ProxyRoute(name: "read-only", prefix: "/api/echo/ro", methods: ["GET"], upstreams: [upstream]),
            ProxyRoute(name: "writes", prefix: "/api/echo/ro/w", methods: ["POST"], upstreams: [upstream]),
            ProxyRoute(name: "any", prefix: "/api/echo/any", upstreams: [upstream]),
        ])
    }

    @Test("RoutePattern tells a path it takes apart from the methods it takes")
    func pattern() {
        let pattern = RoutePattern(prefix: "/api/v1/queue/*/join", methods: ["post"])
        #expect(pattern.matches(path: "/api/v1/queue/e1/join") && !pattern.matches(path: "/api/v1/queue/e1/status"))
        #expect(pattern.takes(method: "POST") && !pattern.takes(method: "GET"))
        #expect(!pattern.matches(method: "GET", path: "/api/v1/queue/e1/join"))
        let reads = RoutePattern(prefix: "/api/echo", methods: ["GET"])
        #expect(reads.takes(method: "HEAD") && reads.matches(path: "/api/echo/x") && !reads.matches(path: "/api/echoes"))
        #expect(RoutePattern(prefix: "/api").takes(method: "BREW"))
        #expect(!RoutePattern(prefix: "/api").takes(method: "TRACE"), "TRACE only where a route names it")
        #expect(RoutePattern(prefix: "/api", methods: ["TRACE"]).takes(method: "TRACE"))
    }

    @Test("wrong methods never reach the upstream; the methods of every route taking the path are allowed")
    func answers() async throws {
        try await UpstreamServer.with { upstream in
            try await GatewayFixture.with(routes: Self.routes(upstream.url)) { fixture in
                try await fixture.application.test(.live) { client in
                    let post = try await client.execute(uri: "/api/echo/ro/x?q=1", method: .post, body: ByteBuffer(string: "{}"))
                    #expect(post.status == .methodNotAllowed)
                    #expect(post.headers[.allow] == "GET, HEAD, OPTIONS")
                    #expect(post.headers[.contentType] == "application/problem+json")
                    let problem = try JSONDecoder().decode(ProblemDetails.self, from: post.body)
                    #expect(problem.type == ProblemDetails.typeBase + "method-not-allowed" && problem.instance == "/api/echo/ro/x")

                    let delete = try await client.execute(uri: "/api/echo/ro/w/x", method: .delete)
                    #expect(delete.status == .methodNotAllowed && delete.headers[.allow] == "GET, HEAD, POST, OPTIONS", "both routes take the path")
                    let options = try await client.execute(uri: "/api/echo/ro/x", method: .options)
                    #expect(options.status == .noContent && options.headers[.allow] == "GET, HEAD, OPTIONS")
                    #expect(options.body.readableBytes == 0)
                    #expect(upstream.callCount == 0)

                    #expect(try await client.execute(uri: "/api/echo/ro/x", method: .get).status == .ok)
                    #expect(try await client.execute(uri: "/api/echo/ro/w/x", method: .post).status == .ok)
                    #expect(upstream.callCount == 2)
                    let forwarded = try await client.execute(uri: "/api/echo/any/x", method: .delete)
                    #expect(forwarded.status == .notFound && forwarded.headers[.allow] == nil, "a route naming no methods forwards them all")
                    #expect(forwarded.headers[.contentType] != "application/problem+json", "the upstream's bare 404, not the gateway's")
                    let trace = try await client.execute(uri: "/api/echo/any/x", method: .trace, headers: [.cookie: "session=secret"])
                    #expect(trace.status == .methodNotAllowed && trace.headers[.allow] == "GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS", "TRACE is not forwarded unless named")
                    #expect(upstream.callCount == 2, "the upstream would echo TRACE")
                    let elsewhere = try await client.execute(uri: "/api/elsewhere", method: .post)
                    #expect(elsewhere.status == .notFound && elsewhere.headers[.allow] == nil, "no route takes the path: the router's 404")
                }
            }
        }
    }

    @Test("the connection goes on after a 405 whose body it dropped")
    func connectionGoesOn() async throws {
        try await UpstreamServer.with { upstream in
            try await GatewayFixture.with(routes: Self.routes(upstream.url)) { fixture in
                try await fixture.application.test(.live) { client in
                    let port = try #require(client.port)
                    let requests = "PUT /api/echo/ro/x HTTP/1.1\r\nHost: gw\r\nContent-Length: 5\r\n\r\nhello"
                        + "GET /api/echo/ro/after HTTP/1.1\r\nHost: gw\r\n\r\n"
                    let text = try await RawConnection.exchange(port: port, requests, limit: .seconds(10)) { received, _ in
                        received.components(separatedBy: "HTTP/1.1 ").count == 3 && received.hasSuffix("}")
                    }
                    #expect(text.hasPrefix("HTTP/1.1 405 Method Not Allowed\r\n"), "\(text)")
                    #expect(text.contains("HTTP/1.1 200 OK\r\n") && text.replacingOccurrences(of: "\\/", with: "/").contains("/api/echo/ro/after"), "\(text)")
                    #expect(!text.contains("hello"), "the dropped body never reached the upstream: \(text)")
                    #expect(upstream.callCount == 1)
                }
            }
        }
    }

    @Test("OPTIONS * names every method the gateway serves and the connection goes on; * with another method is a 400")
    func serverWide() async throws {
        try await GatewayFixture.with { fixture in
            try await fixture.application.test(.live) { client in
                let port = try #require(client.port)
                let asked = try await RawConnection.exchange(
                    port: port, "OPTIONS * HTTP/1.1\r\nHost: gw\r\n\r\nGET /health HTTP/1.1\r\nHost: gw\r\n\r\n", limit: .seconds(10)
                ) { received, _ in received.hasSuffix("}") }
                #expect(asked.hasPrefix("HTTP/1.1 204 No Content\r\n"), "\(asked)")
                #expect(asked.lowercased().contains("allow: get, head, post, put, patch, delete, options\r\n"), "\(asked)")
                #expect(asked.contains("HTTP/1.1 200 OK\r\n"), "the connection goes on: \(asked)")
                let refused = try await RawConnection.exchange(port: port, "GET * HTTP/1.1\r\nHost: gw\r\n\r\n", limit: .seconds(10)) { received, _ in
                    received.hasSuffix("}")
                }
                #expect(refused.hasPrefix("HTTP/1.1 400 Bad Request\r\n") && refused.contains("malformed-request"), "\(refused)")
            }
        }
    }
}
