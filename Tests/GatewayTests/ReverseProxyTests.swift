import Crypto
import Queue
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import NIOHTTP1
import ServiceKit
import Testing

@testable import Gateway

@Suite("Reverse proxy and access tokens, against real upstream servers")
struct ReverseProxyTests {
    static func routes(_ upstream: String, _ extra: [ProxyRoute] = [], trusted: [String] = []) -> RouteTable {
        RouteTable(routes: [
            ProxyRoute(name: "echo", prefix: "/api/echo", upstreams: [upstream], maxBodyBytes: 1_000),
            ProxyRoute(name: "slow", prefix: "/api/slow", upstreams: [upstream], timeoutMilliseconds: 300),
            ProxyRoute(name: "down", prefix: "/api/down", upstreams: ["http://127.0.0.1:1"]),
            ProxyRoute(name: "members", prefix: "/api/echo/members", upstreams: [upstream], service: "echo-service", authentication: .required),
            ProxyRoute(name: "organizers", prefix: "/api/echo/organizers", upstreams: [upstream], authentication: .required, roles: ["organizer", "admin"]),
        ] + extra, trustedProxies: trusted)
    }

    static func echo(_ response: TestResponse) throws -> UpstreamServer.Echo {
        try JSONDecoder().decode(UpstreamServer.Echo.self, from: response.body)
    }

    @Test("requests reach the upstream with forwarding fields; hop-by-hop and forged identity fields do not, however spelt")
    func forwarding() async throws {
        try await UpstreamServer.with { upstream in
            try await GatewayFixture.with(routes: Self.routes(upstream.url)) { fixture in
                try await fixture.application.test(.live) { client in
                    let response = try await client.execute(
                        uri: "/api/echo/items?page=2", method: .get,
                        headers: [
                            .proxyAuthorization: "Basic c2VjcmV0", HTTPField.Name("Keep-Alive")!: "timeout=5", .xGatewayUserID: "admin",
                            .xForwardedFor: "6.6.6.6", HTTPField.Name("X-Custom")!: "kept",
                            HTTPField.Name("X_Gateway_User_Id")!: "admin", HTTPField.Name("x_forwarded_for")!: "6.6.6.6",
                            HTTPField.Name("X_Request_ID")!: "forged", HTTPField.Name("Transfer_Encoding")!: "gzip", HTTPField.Name("X_Custom")!: "kept too",
                        ]
                    )
                    #expect(response.status == .ok)
                    let echo = try Self.echo(response)
                    #expect(echo.path == "/api/echo/items?page=2")
                    #expect(echo.headers["proxy-authorization"] == nil)
                    #expect(echo.headers["keep-alive"] == nil)
                    #expect(echo.headers["x-custom"] == "kept")
                    #expect(echo.headers["x-gateway-user-id"] == nil, "a client cannot claim an identity")
                    for underscored in ["x_gateway_user_id", "x_forwarded_for", "x_request_id", "transfer_encoding"] {
                        #expect(echo.headers[underscored] == nil, "\(underscored): read as the gateway's own field by CGI-style upstreams")
                    }
                    #expect(echo.headers["x_custom"] == "kept too", "other fields with `_` are forwarded")
                    #expect(echo.headers["x-forwarded-for"] == "127.0.0.1", "an untrusted peer's X-Forwarded-For is ignored")
                    #expect(echo.headers["x-gateway-client-ip"] == "127.0.0.1")
                    #expect(echo.headers["x-forwarded-proto"] == "http")
                    let requestID = try #require(response.headers[.xRequestID])
                    #expect(echo.headers["x-request-id"] == requestID)
                    let signature = try #require(echo.headers["x-gateway-signature"])
                    let key = SymmetricKey(data: fixture.configuration.internalSecret)
                    let anonymous = SignedRequest(
                        service: "echo", method: "GET", target: echo.path, bodyDigest: SignedRequest.emptyBodyDigest, userID: nil, roles: [], requestID: requestID
                    )
                    #expect(GatewaySignature.verify(signature, anonymous, key: key), "the route's name is its service by default")

                    let given = try await client.execute(uri: "/api/echo/x", method: .get, headers: [.xRequestID: "req-123"])
                    #expect(given.headers[.xRequestID] == "req-123")
                    #expect(try Self.echo(given).headers["x-request-id"] == "req-123")

                    let posted = try await client.execute(uri: "/api/echo/post", method: .post, headers: [.contentType: "text/plain"], body: ByteBuffer(string: "hello body"))
                    let postEcho = try Self.echo(posted)
                    #expect(postEcho.body == "hello body")
                    var signedPost = SignedRequest(
                        service: "echo", method: "POST", target: "/api/echo/post", bodyDigest: SignedRequest.digest(of: Array("hello body".utf8)),
                        userID: nil, roles: [], requestID: try #require(posted.headers[.xRequestID])
                    )
                    let postSignature = try #require(postEcho.headers["x-gateway-signature"])
                    #expect(GatewaySignature.verify(postSignature, signedPost, key: key), "the signature covers the body")
                    signedPost.bodyDigest = SignedRequest.digest(of: Array("other body".utf8))
                    #expect(!GatewaySignature.verify(postSignature, signedPost, key: key))
                }
            }
        }
    }

    @Test("fields named by Connection are hop-by-hop too")
    func nominatedHopByHop() {
        let fields = HTTPHeaders([
            ("Connection", "close, X-Secret-Hop"), ("X-Secret-Hop", "1"), ("TE", "trailers"),
            ("Transfer-Encoding", "chunked"), ("X-Custom", "kept"),
        ])
        let stripped = ProxyHeaders.strippingHopByHop(fields)
        #expect(stripped.map(\.name) == ["X-Custom"])

        let spaced = HTTPHeaders([
            ("Connection", "Keep-Alive,\tx-secret-hop ,, X-OTHER"), ("x-Secret-HOP", "1"), ("X-Other", "2"),
            ("X-Secret-Hopper", "kept"), ("Keep-Alive", "timeout=5"),
        ])
        #expect(ProxyHeaders.nominatedHopByHop(spaced) == ["x-secret-hop", "x-other"])
        #expect(ProxyHeaders.strippingHopByHop(spaced).map(\.name) == ["X-Secret-Hopper"])

        let plain = HTTPHeaders([("Content-Type", "text/plain"), ("Set-Cookie", "a=1"), ("Set-Cookie", "b=2"), ("Content-Length", "5")])
        #expect(ProxyHeaders.strippingHopByHop(plain).map { "\($0.name): \($0.value)" } == plain.map { "\($0.name): \($0.value)" })
        let keepAlive = HTTPHeaders([("Set-Cookie", "a=1"), ("connection", "keep-alive"), ("Set-Cookie", "b=2"), ("CONNECTION", "x")])
        #expect(ProxyHeaders.strippingHopByHop(keepAlive).map { "\($0.name): \($0.value)" } == ["Set-Cookie: a=1", "Set-Cookie: b=2"])
    }

    @Test("behind a trusted proxy, the client address comes from X-Forwarded-For")
    func trustedProxy() async throws {
        try await UpstreamServer.with { upstream in
            try await GatewayFixture.with(routes: Self.routes(upstream.url, trusted: ["127.0.0.0/8"])) { fixture in
                try await fixture.application.test(.live) { client in
                    let response = try await client.execute(uri: "/api/echo/x", method: .get, headers: [.xForwardedFor: "203.0.113.9, 127.0.0.5"])
                    let echo = try Self.echo(response)
                    #expect(echo.headers["x-gateway-client-ip"] == "203.0.113.9")
                    #expect(echo.headers["x-forwarded-for"] == "203.0.113.9, 127.0.0.5, 203.0.113.9")
                }
            }
        }
    }

    @Test("upstream down is 502, slow is 504, an oversized body is 413 without reaching the upstream")
    func failures() async throws {
        try await UpstreamServer.with { upstream in
            try await GatewayFixture.with(routes: Self.routes(upstream.url)) { fixture in
                try await fixture.application.test(.live) { client in
                    let down = try await client.execute(uri: "/api/down/x", method: .get)
                    #expect(down.status == .badGateway)
                    #expect(down.problem?.type == "https://booking-rush.dev/problems/upstream-unreachable")
                    #expect(down.headers[.xRequestID] != nil)

                    let started = ContinuousClock.now
                    let slow = try await client.execute(uri: "/api/slow", method: .get)
                    let waited = ContinuousClock.now - started
                    #expect(slow.status == .gatewayTimeout)
                    #expect(waited >= .milliseconds(300) && waited < .seconds(3), "504 once the route's 300 ms passed, not before: \(waited)")
                    #expect(slow.problem?.statusCode == 504)

                    let before = upstream.callCount
                    let big = try await client.execute(uri: "/api/echo/upload", method: .post, body: ByteBuffer(repeating: 0x61, count: 5_000))
                    #expect(big.status == .contentTooLarge)
                    #expect(big.problem?.type == "https://booking-rush.dev/problems/body-too-large")
                    #expect(upstream.callCount == before, "the upstream never saw it")
                }
            }
        }
    }

    @Test("access tokens: 401 without or with a bad one, 403 without the role, identity signed upstream")
    func accessTokens() async throws {
        try await UpstreamServer.with { upstream in
            try await GatewayFixture.with(routes: Self.routes(upstream.url)) { fixture in
                try await fixture.application.test(.live) { client in
                    let anonymous = try await client.execute(uri: "/api/echo/members/x", method: .get)
                    #expect(anonymous.status == .unauthorized)
                    #expect(anonymous.headers[.wwwAuthenticate] == "Bearer realm=\"booking-rush\"")

                    let garbage = try await client.execute(uri: "/api/echo/members/x", method: .get, headers: [.authorization: "Bearer not.a.token"])
                    #expect(garbage.status == .unauthorized)
                    #expect(garbage.headers[.wwwAuthenticate]?.contains("invalid_token") == true)

                    // A queue pass is not an access token.
                    let joined = try await client.execute(uri: "/api/v1/queue/\(fixture.event)/join", method: .post)
                    _ = joined
                    let pass = try await fixture.keys.sign(.init(issuer: "booking-rush", event: fixture.event, visitor: "t:x", admission: 1, issuedAt: Date(), expiresAt: Date().addingTimeInterval(60)))
                    let passAsToken = try await client.execute(uri: "/api/echo/members/x", method: .get, headers: [.authorization: "Bearer \(pass)"])
                    #expect(passAsToken.status == .unauthorized)

                    let customer = try await fixture.accessToken(user: "alice", roles: ["customer"])
                    let allowed = try await client.execute(uri: "/api/echo/members/x", method: .get, headers: [.authorization: "Bearer \(customer)"])
                    #expect(allowed.status == .ok)
                    let echo = try Self.echo(allowed)
                    #expect(echo.headers["x-gateway-user-id"] == "alice")
                    #expect(echo.headers["x-gateway-user-roles"] == "customer")
                    let manyRoles = try await fixture.accessToken(user: "bob", roles: ["organizer", "customer", "admin"])
                    for _ in 0..<2 {
                        // The second answer comes from the cached identity.
                        let answer = try await client.execute(uri: "/api/echo/members/x", method: .get, headers: [.authorization: "Bearer \(manyRoles)"])
                        #expect(try Self.echo(answer).headers["x-gateway-user-roles"] == "admin,customer,organizer", "sorted")
                    }
                    let signature = try #require(echo.headers["x-gateway-signature"])
                    let key = SymmetricKey(data: fixture.configuration.internalSecret)
                    var signed = SignedRequest(
                        service: "echo-service", method: "GET", target: "/api/echo/members/x", bodyDigest: SignedRequest.emptyBodyDigest,
                        userID: "alice", roles: ["customer"], requestID: try #require(allowed.headers[.xRequestID])
                    )
                    #expect(GatewaySignature.verify(signature, signed, key: key), "signed for the route's service")
                    signed.userID = "mallory"
                    #expect(!GatewaySignature.verify(signature, signed, key: key))

                    let forbidden = try await client.execute(uri: "/api/echo/organizers/x", method: .get, headers: [.authorization: "Bearer \(customer)"])
                    #expect(forbidden.status == .forbidden)
                    let organizer = try await fixture.accessToken(user: "olga", roles: ["organizer"])
                    let permitted = try await client.execute(uri: "/api/echo/organizers/x", method: .get, headers: [.authorization: "Bearer \(organizer)"])
                    #expect(permitted.status == .ok)

                    // A logged-in user queues as themselves.
                    let asUser = try await client.execute(uri: "/api/v1/queue/\(fixture.event)/join", method: .post, headers: [.authorization: "Bearer \(customer)"])
                    #expect(asUser.json["ticket"] == nil)
                    #expect(try await fixture.room.status(event: fixture.event, visitor: "u:alice").position != nil)
                }
            }
        }
    }

    @Test("an identity that cannot travel in a header field is 502 and never reaches the upstream")
    func identityWithControlCharacters() async throws {
        try await UpstreamServer.with { upstream in
            try await GatewayFixture.with(routes: Self.routes(upstream.url)) { fixture in
                try await fixture.application.test(.live) { client in
                    let forged = try await fixture.accessToken(user: "eve\r\nx-gateway-user-roles: admin", roles: ["customer"])
                    let refused = try await client.execute(uri: "/api/echo/members/x", method: .get, headers: [.authorization: "Bearer \(forged)"])
                    #expect(refused.status == .badGateway)
                    #expect(refused.headers[.contentType] == "application/problem+json")
                    let badRole = try await fixture.accessToken(user: "eve", roles: ["customer\u{7F}"])
                    #expect(try await client.execute(uri: "/api/echo/members/x", method: .get, headers: [.authorization: "Bearer \(badRole)"]).status == .badGateway)
                    #expect(upstream.callCount == 0)

                    let tabbed = try await fixture.accessToken(user: "eve\tsmith", roles: ["customer"])
                    let allowed = try await client.execute(uri: "/api/echo/members/x", method: .get, headers: [.authorization: "Bearer \(tabbed)"])
                    #expect(allowed.status == .ok, "HTAB is allowed in a field value")
                    #expect(try Self.echo(allowed).headers["x-gateway-user-id"] == "eve\tsmith")
                    #expect(upstream.callCount == 1, "the connection kept for the refused requests still serves")
                }
            }
        }
    }
}

extension HTTPField.Name {
    static let xGatewayUserID = HTTPField.Name("X-Gateway-User-Id")!
}

extension Queue.VisitorPlace {
    var position: Int? {
        if case .waiting(let position, _, _, _) = self { return position }
        return nil
    }
}
