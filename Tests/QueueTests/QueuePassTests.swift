import Crypto
import Foundation
import JWTKit
import Queue
import Redis
import Testing
import Tokens

@Suite("Queue passes: ES256 JWTs with rotating keys shared through Redis")
struct QueuePassTests {
    static func ring() async throws -> SigningKeyRing {
        let ring = SigningKeyRing(redis: try QueueTestSupport.redis(), namespace: "test:pass-keys:\(UUID().uuidString)")
        try await ring.bootstrap()
        return ring
    }

    static func claims(event: String = "evt-1", issuedAt: Date = Date(), ttl: TimeInterval = 300) -> QueuePassClaims {
        QueuePassClaims(issuer: "booking-rush", event: event, visitor: "t:abc", admission: 7, issuedAt: issuedAt, expiresAt: issuedAt.addingTimeInterval(ttl))
    }

    static func cleanup(_ ring: SigningKeyRing) async {
        _ = try? await ring.redis.send("DEL", ring.keysKey, ring.activeKey)
        await ring.redis.shutdown()
    }

    static func base64URL(_ data: some DataProtocol) -> String {
        Data(data).base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    static func decodeBase64URL(_ text: String) -> Data? {
        var base64 = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        base64 += String(repeating: "=", count: (4 - base64.count % 4) % 4)
        return Data(base64Encoded: base64)
    }

    static func json(_ object: [String: Any]) -> String {
        base64URL(try! JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]))
    }

    @Test("a genuine pass verifies, for its own event only")
    func genuine() async throws {
        let ring = try await Self.ring()
        let token = try await ring.sign(Self.claims())
        let claims = try await ring.verify(token, event: "evt-1")
        #expect(claims.sub.value == "t:abc")
        #expect(claims.jti.value == "evt-1.7")
        #expect(claims.event == "evt-1")
        await #expect(throws: TokenError.wrongAudience) { try await ring.verify(token, event: "evt-2") }
        await Self.cleanup(ring)
    }

    @Test("expired and not-yet-valid passes are refused")
    func timeBounds() async throws {
        let ring = try await Self.ring()
        let expired = try await ring.sign(Self.claims(issuedAt: Date().addingTimeInterval(-600), ttl: 300))
        await #expect(throws: TokenError.expired) { try await ring.verify(expired, event: "evt-1") }
        let future = try await ring.sign(Self.claims(issuedAt: Date().addingTimeInterval(600)))
        await #expect(throws: TokenError.notYetValid) { try await ring.verify(future, event: "evt-1") }
        await Self.cleanup(ring)
    }

    @Test("a pass verified once is still refused after its expiry (the verified cache never outlives a token)")
    func cachedPassExpires() async throws {
        let ring = try await Self.ring()
        let token = try await ring.sign(Self.claims(ttl: 2))
        #expect(try await ring.verify(token, event: "evt-1").jti.value == "evt-1.7")
        #expect(try await ring.verify(token, event: "evt-1").jti.value == "evt-1.7")
        await #expect(throws: TokenError.wrongAudience) { try await ring.verify(token, event: "evt-2") }
        try await Task.sleep(for: .milliseconds(2_100))
        await #expect(throws: TokenError.expired) { try await ring.verify(token, event: "evt-1") }
        await Self.cleanup(ring)
    }

    @Test("tampered claims or signatures are refused")
    func tampered() async throws {
        let ring = try await Self.ring()
        let token = try await ring.sign(Self.claims())
        var parts = token.split(separator: ".").map(String.init)
        let payload = try JSONSerialization.jsonObject(with: try #require(Self.decodeBase64URL(parts[1]))) as! [String: Any]
        var forged = payload
        forged["sub"] = "t:someone-else"
        parts[1] = Self.json(forged)
        await #expect(throws: TokenError.invalidSignature) { try await ring.verify(parts.joined(separator: "."), event: "evt-1") }
        // A character in the middle of the signature carries six real bits (the last one may carry padding only).
        var characters = Array(token)
        let middle = characters.count - 20
        characters[middle] = characters[middle] == "A" ? "Q" : "A"
        await #expect(throws: TokenError.self) { try await ring.verify(String(characters), event: "evt-1") }
        await #expect(throws: TokenError.malformed) { try await ring.verify("not-a-jwt", event: "evt-1") }
        await Self.cleanup(ring)
    }

    @Test("a token header: read from the first of exactly three parts, the same answer when it comes again, malformed otherwise")
    func tokenHeader() throws {
        func part(_ json: String) -> String { Data(json.utf8).base64URLEncodedString() }
        let kid = "kid-\(UUID().uuidString)"
        let header = part(#"{"alg":"ES256","typ":"qp+jwt","kid":"\#(kid)"}"#)
        let expected = TokenHeader(alg: "ES256", typ: "qp+jwt", kid: kid)
        #expect(try TokenHeader.decode("\(header).e30.c2ln") == expected)
        #expect(try TokenHeader.decode("\(header).other-payload.other-signature") == expected)
        #expect(try TokenHeader.decode("\(part(#"{"alg":"none"}"#))..") == TokenHeader(alg: "none", typ: nil, kid: nil))
        for token in ["", "\(header)", "\(header).e30", "\(header).e30.c2ln.extra", "\(header).e30.c2ln.", ".e30.c2ln", "!!!.e30.c2ln", "\(part("[1]")).e30.c2ln", "\(part("not json")).e30.c2ln"] {
            #expect(throws: TokenError.malformed, "\(token)") { try TokenHeader.decode(token) }
        }
    }

    @Test("an unknown kid is refused, even though the collection has a default key")
    func unknownKid() async throws {
        let ring = try await Self.ring()
        let stranger = JWTKeyCollection()
        await stranger.add(ecdsa: ES256PrivateKey(), kid: "qp-stranger")
        let header: JWTHeader = ["typ": .string(QueuePassClaims.type), "alg": .string("ES256"), "kid": .string("qp-stranger")]
        let token = try await stranger.sign(Self.claims(), kid: "qp-stranger", header: header)
        await #expect(throws: TokenError.unknownKey) { try await ring.verify(token, event: "evt-1") }
        // A real kid on a stranger's signature still fails.
        let activeKid = try #require(ring.activeKid)
        let spoofed = JWTKeyCollection()
        await spoofed.add(ecdsa: ES256PrivateKey(), kid: JWKIdentifier(string: activeKid))
        let spoofHeader: JWTHeader = ["typ": .string(QueuePassClaims.type), "alg": .string("ES256"), "kid": .string(activeKid)]
        let spoofToken = try await spoofed.sign(Self.claims(), kid: JWKIdentifier(string: activeKid), header: spoofHeader)
        await #expect(throws: TokenError.invalidSignature) { try await ring.verify(spoofToken, event: "evt-1") }
        await Self.cleanup(ring)
    }

    @Test("alg none and HS256 signed with the public key are refused")
    func algorithmConfusion() async throws {
        let ring = try await Self.ring()
        let kid = try #require(ring.activeKid)
        let now = Int(Date().timeIntervalSince1970)
        let payload = Self.json([
            "iss": "booking-rush", "aud": ["evt-1"], "sub": "t:abc", "jti": "evt-1.1", "iat": now, "nbf": now - 5,
            "exp": now + 300, "token_use": "queue_pass",
        ])
        let none = Self.json(["alg": "none", "typ": QueuePassClaims.type, "kid": kid]) + "." + payload + "."
        await #expect(throws: TokenError.algorithmNotAllowed("none")) { try await ring.verify(none, event: "evt-1") }

        let jwk = try #require(ring.jwks.keys.first { $0.kid == kid })
        let publicKeyText = "{\"crv\":\"P-256\",\"kty\":\"EC\",\"x\":\"\(jwk.x)\",\"y\":\"\(jwk.y)\"}"
        let signingInput = Self.json(["alg": "HS256", "typ": QueuePassClaims.type, "kid": kid]) + "." + payload
        let mac = HMAC<SHA256>.authenticationCode(for: Data(signingInput.utf8), using: SymmetricKey(data: Data(publicKeyText.utf8)))
        let confused = signingInput + "." + Self.base64URL(Data(mac))
        await #expect(throws: TokenError.algorithmNotAllowed("HS256")) { try await ring.verify(confused, event: "evt-1") }
        await Self.cleanup(ring)
    }

    @Test("an access token is not a pass, even signed by a ring key")
    func accessTokenIsNotAPass() async throws {
        struct AccessClaims: JWTPayload {
            var sub: SubjectClaim
            var aud: AudienceClaim
            var iss: IssuerClaim
            var exp: ExpirationClaim
            var token_use: String
            func verify(using algorithm: some JWTAlgorithm) async throws {}
        }
        let ring = try await Self.ring()
        let kid = try #require(ring.activeKid)
        let collection = JWTKeyCollection()
        let pem = try #require(try await ring.redis.send("HGET", ring.keysKey, kid).string)
        let stored = try JSONSerialization.jsonObject(with: Data(pem.utf8)) as! [String: Any]
        await collection.add(ecdsa: try ES256PrivateKey(pem: stored["pem"] as! String), kid: JWKIdentifier(string: kid))
        let claims = AccessClaims(sub: "u:1", aud: "evt-1", iss: "booking-rush", exp: .init(value: Date().addingTimeInterval(300)), token_use: "access")
        let asAccess: JWTHeader = ["typ": .string("at+jwt"), "alg": .string("ES256"), "kid": .string(kid)]
        let access = try await collection.sign(claims, kid: JWKIdentifier(string: kid), header: asAccess)
        await #expect(throws: TokenError.wrongType) { try await ring.verify(access, event: "evt-1") }
        let disguised: JWTHeader = ["typ": .string(QueuePassClaims.type), "alg": .string("ES256"), "kid": .string(kid)]
        let disguisedToken = try await collection.sign(claims, kid: JWKIdentifier(string: kid), header: disguised)
        await #expect(throws: TokenError.self) { try await ring.verify(disguisedToken, event: "evt-1") }
        await Self.cleanup(ring)
    }

    @Test("rotation: new passes use the new key, old passes still verify, every gateway follows")
    func rotation() async throws {
        let ring = try await Self.ring()
        let other = SigningKeyRing(redis: ring.redis, namespace: ring.keysKey)
        try await other.bootstrap()
        #expect(other.activeKid == ring.activeKid)
        let before = try await ring.sign(Self.claims())
        let oldKid = try #require(ring.activeKid)
        let newKid = try await ring.rotate()
        #expect(newKid != oldKid)
        let after = try await ring.sign(Self.claims())
        #expect(try await ring.verify(before, event: "evt-1").jti.value == "evt-1.7")
        // The other gateway has not refreshed yet, but a pass with the new kid makes it look.
        try await Task.sleep(for: .milliseconds(1_100))
        #expect(try await other.verify(after, event: "evt-1").sub.value == "t:abc")
        #expect(Set(ring.jwks.keys.map(\.kid)) == [oldKid, newKid])
        #expect(ring.jwks.keys.allSatisfy { $0.alg == "ES256" && $0.kty == "EC" && $0.crv == "P-256" })
        for _ in 0..<SigningKeyRing.retainedKeys { try await ring.rotate() }
        #expect(ring.jwks.keys.count == SigningKeyRing.retainedKeys)
        await #expect(throws: TokenError.unknownKey) { try await ring.verify(before, event: "evt-1") }
        await Self.cleanup(ring)
    }

    @Test("visitor tickets: genuine ones name a visitor, forged ones nothing")
    func tickets() {
        let tickets = VisitorTickets(secret: Array(repeating: 7, count: 32))
        let (ticket, visitor) = tickets.issue()
        #expect(visitor.hasPrefix("t:"))
        #expect(tickets.visitor(from: ticket) == visitor)
        let other = VisitorTickets(secret: Array(repeating: 8, count: 32))
        #expect(other.visitor(from: ticket) == nil)
        var parts = ticket.split(separator: ".").map(String.init)
        parts[1] = String(parts[1].reversed())
        #expect(tickets.visitor(from: parts.joined(separator: ".")) == nil)
        #expect(tickets.visitor(from: "") == nil)
        #expect(tickets.visitor(from: "v1..") == nil)
        #expect(tickets.issue().visitor != visitor)
    }
}
