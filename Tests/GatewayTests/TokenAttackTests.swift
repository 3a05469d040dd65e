import Crypto
import Foundation
@testable import Gateway
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Queue
import Testing
import Tokens

/// Forged and misused tokens against the live gateway: each must be refused with a problem,
/// and none may reach the upstream.
@Suite("Token attacks through the gateway")
struct TokenAttackTests {
    static func base64URL(_ data: some DataProtocol) -> String {
        Data(data).base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
    }

    static func json(_ object: [String: Any]) -> String {
        base64URL(try! JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]))
    }

    /// Claims of a genuine-looking access token for `user`, valid for a minute.
    static func claims(user: String = "mallory", roles: [String] = ["admin"], issuer: String = "booking-rush", audience: String = AccessTokens.audience) -> [String: Any] {
        let now = Int(Date().timeIntervalSince1970)
        return ["iss": issuer, "aud": audience, "sub": user, "roles": roles, "iat": now, "exp": now + 60, "token_use": "access"]
    }

    @Test("alg none, HS256 keyed with the public key, wrong issuer or audience, expired, foreign keys, garbage: all 401")
    func forgedAccessTokens() async throws {
        try await UpstreamServer.with { upstream in
            try await GatewayFixture.with(routes: ReverseProxyTests.routes(upstream.url)) { fixture in
                let ring = fixture.components.accessTokens.ring
                let kid = try #require(ring.activeKid)
                let header = Self.json(["alg": "none", "typ": AccessTokenClaims.type, "kid": kid])
                let algNone = "\(header).\(Self.json(Self.claims()))."

                let publicJWK = try JSONEncoder().encode(ring.jwks)
                let hsHeader = Self.json(["alg": "HS256", "typ": AccessTokenClaims.type, "kid": kid])
                let hsPayload = Self.json(Self.claims())
                let hsSignature = HMAC<SHA256>.authenticationCode(for: Data("\(hsHeader).\(hsPayload)".utf8), using: SymmetricKey(data: publicJWK))
                let confused = "\(hsHeader).\(hsPayload).\(Self.base64URL(Data(hsSignature)))"

                let wrongIssuer = try await ring.sign(
                    AccessTokenClaims(issuer: "evil", audience: AccessTokens.audience, userID: "mallory", roles: ["admin"], email: nil, issuedAt: Date(), lifetime: 60),
                    type: AccessTokenClaims.type
                )
                let wrongAudience = try await ring.sign(
                    AccessTokenClaims(issuer: "booking-rush", audience: "another-app", userID: "mallory", roles: ["admin"], email: nil, issuedAt: Date(), lifetime: 60),
                    type: AccessTokenClaims.type
                )
                let expired = try await ring.sign(
                    AccessTokenClaims(issuer: "booking-rush", audience: AccessTokens.audience, userID: "mallory", roles: ["admin"], email: nil, issuedAt: Date().addingTimeInterval(-3_600), lifetime: 60),
                    type: AccessTokenClaims.type
                )
                let foreignRing = SigningKeyRing(redis: fixture.redis, issuer: "booking-rush", namespace: "test:foreign:\(UUID().uuidString)")
                try await foreignRing.bootstrap()
                let foreign = try await foreignRing.sign(
                    AccessTokenClaims(issuer: "booking-rush", audience: AccessTokens.audience, userID: "mallory", roles: ["admin"], email: nil, issuedAt: Date(), lifetime: 60),
                    type: AccessTokenClaims.type
                )
                let genuine = try await fixture.accessToken(user: "alice", roles: ["customer"])
                let parts = genuine.split(separator: ".").map(String.init)
                let escalated = "\(parts[0]).\(Self.json(Self.claims(user: "alice", roles: ["admin"]))).\(parts[2])"

                let attacks: [(String, String)] = [
                    ("alg none", algNone), ("HS256 keyed with the public key", confused), ("wrong issuer", wrongIssuer),
                    ("wrong audience", wrongAudience), ("expired", expired), ("signed by a key outside the ring", foreign),
                    ("claims edited after signing", escalated), ("garbage", "a.b.c"), ("empty", ""), ("huge", String(repeating: "A", count: 7_000)),
                ]
                try await fixture.application.test(.live) { client in
                    let before = upstream.callCount
                    for (name, token) in attacks {
                        for path in ["/api/echo/members/x", "/api/echo/organizers/x", "/admin/v1/rooms"] {
                            let response = try await client.execute(uri: path, method: .get, headers: [.authorization: "Bearer \(token)"])
                            #expect(response.status == .unauthorized, "\(name) on \(path)")
                            #expect(response.headers[.contentType] == "application/problem+json", "\(name) on \(path)")
                        }
                    }
                    #expect(upstream.callCount == before, "no forged token reached the upstream")
                    let real = try await client.execute(uri: "/api/echo/members/x", method: .get, headers: [.authorization: "Bearer \(genuine)"])
                    #expect(real.status == .ok, "the genuine token still works")
                    _ = try? await fixture.redis.send("DEL", foreignRing.keysKey, foreignRing.activeKey)
                }
            }
        }
    }

    @Test("an access token is no queue pass; a pass is no access token; a pass for another event or from another ring is refused")
    func confusedTokens() async throws {
        try await UpstreamServer.with { upstream in
            try await GatewayFixture.with(
                RoomConfiguration(mode: .queue, releaseRate: 1_000),
                routes: RouteTable(routes: [
                    ProxyRoute(name: "buy", prefix: "/api/events", upstreams: [upstream.url], authentication: .optional, queuePass: QueuePassPolicy(eventFrom: "path:2")),
                    ProxyRoute(name: "members", prefix: "/api/echo/members", upstreams: [upstream.url], authentication: .required),
                ])
            ) { fixture in
                let event = fixture.event
                let access = try await fixture.accessToken(user: "alice", roles: ["customer", "admin"])
                let pass = try await fixture.keys.sign(QueuePassClaims(
                    issuer: "booking-rush", event: event, visitor: "u:alice", admission: 1, issuedAt: Date(), expiresAt: Date().addingTimeInterval(60)
                ))
                let otherEvent = try await fixture.keys.sign(QueuePassClaims(
                    issuer: "booking-rush", event: event + "-other", visitor: "u:alice", admission: 2, issuedAt: Date(), expiresAt: Date().addingTimeInterval(60)
                ))
                let accessRingPass = try await fixture.components.accessTokens.ring.sign(
                    QueuePassClaims(issuer: "booking-rush", event: event, visitor: "u:alice", admission: 3, issuedAt: Date(), expiresAt: Date().addingTimeInterval(60)),
                    type: QueuePassClaims.type
                )
                try await fixture.application.test(.live) { client in
                    let before = upstream.callCount
                    for (name, candidate) in [("access token", access), ("pass for another event", otherEvent), ("pass signed by the access-token ring", accessRingPass)] {
                        let response = try await client.execute(uri: "/api/events/\(event)/buy", method: .post, headers: [.queuePass: candidate])
                        #expect(response.status == .forbidden, "\(name)")
                        #expect(response.problem?.type.hasPrefix("https://booking-rush.dev/problems/queue-pass") == true, "\(name)")
                    }
                    #expect(upstream.callCount == before)
                    let passAsAccess = try await client.execute(uri: "/api/echo/members/x", method: .get, headers: [.authorization: "Bearer \(pass)"])
                    #expect(passAsAccess.status == .unauthorized)
                    let passAsAdmin = try await client.execute(uri: "/admin/v1/rooms", method: .get, headers: [.authorization: "Bearer \(pass)"])
                    #expect(passAsAdmin.status == .unauthorized)
                    let minted = try await client.execute(uri: "/api/events/\(event)/buy", method: .post, headers: [.queuePass: pass, .authorization: "Bearer \(access)"])
                    #expect(minted.status == .forbidden, "a well-signed pass for an admission the room never made is refused")
                    #expect(minted.problem?.type == "https://booking-rush.dev/problems/queue-pass-revoked")

                    let joined = try await client.execute(uri: "/api/v1/queue/\(event)/join", method: .post, headers: [.authorization: "Bearer \(access)"])
                    #expect(joined.status == .created)
                    try await fixture.release(atLeast: 1)
                    let status = try await client.execute(uri: "/api/v1/queue/\(event)/status", method: .get, headers: [.authorization: "Bearer \(access)"])
                    let admitted = try #require(status.json["pass"] as? String)
                    let genuine = try await client.execute(uri: "/api/events/\(event)/buy", method: .post, headers: [.queuePass: admitted, .authorization: "Bearer \(access)"])
                    #expect(genuine.status == .created, "the genuine pass works for its visitor")
                }
            }
        }
    }
}
