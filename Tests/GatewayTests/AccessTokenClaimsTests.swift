import Foundation
@testable import Gateway
import Testing

/// The identity an access token's claims carry is made with the claims, so the cached claims
/// of a token hand it to every request; it must always be the identity the claims name.
@Suite("Access token claims and their identity")
struct AccessTokenClaimsTests {
    static func decoded(_ object: [String: Any]) throws -> AccessTokenClaims {
        try JSONDecoder().decode(AccessTokenClaims.self, from: JSONSerialization.data(withJSONObject: object))
    }

    static var wire: [String: Any] {
        [
            "iss": "booking-rush", "aud": "booking-rush-api", "sub": "user-7", "jti": "j-1", "iat": 1_700_000_000,
            "exp": 1_700_000_600, "roles": ["organizer", "customer"], "email": "u7@example.com", "token_use": "access",
        ]
    }

    @Test("decoded claims name their user, roles (sorted once) and email")
    func decodedIdentity() throws {
        let claims = try Self.decoded(Self.wire)
        #expect(claims.identity.userID == "user-7")
        #expect(claims.identity.roles == ["customer", "organizer"])
        #expect(claims.identity.sortedRoles == ["customer", "organizer"])
        #expect(claims.identity.email == "u7@example.com")

        var withoutEmail = Self.wire
        withoutEmail["email"] = nil
        withoutEmail["roles"] = [String]()
        let plain = try Self.decoded(withoutEmail)
        #expect(plain.identity.email == nil)
        #expect(plain.identity.roles.isEmpty)
    }

    @Test("encoding writes the wire claims only, and decodes back to equal claims")
    func roundTrip() throws {
        let claims = try Self.decoded(Self.wire)
        let data = try JSONEncoder().encode(claims)
        let object = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        #expect(Set(object.keys) == ["iss", "aud", "sub", "jti", "iat", "exp", "roles", "email", "token_use"])
        #expect(try JSONDecoder().decode(AccessTokenClaims.self, from: data) == claims)

        let issued = AccessTokenClaims(
            issuer: "booking-rush", audience: AccessTokens.audience, userID: "user-9", roles: ["admin"], email: nil,
            issuedAt: Date(timeIntervalSince1970: 1_700_000_000), lifetime: 60
        )
        #expect(issued.identity == Identity(userID: "user-9", roles: ["admin"]))
        #expect(try JSONDecoder().decode(AccessTokenClaims.self, from: JSONEncoder().encode(issued)).identity == issued.identity)
    }

    @Test("changing the subject, roles or email changes the identity with them")
    func changes() throws {
        var claims = try Self.decoded(Self.wire)
        claims.roles = ["admin"]
        #expect(claims.identity.roles == ["admin"])
        #expect(claims.identity.isAdmin)
        claims.sub = .init(value: "user-8")
        #expect(claims.identity.userID == "user-8")
        claims.email = nil
        #expect(claims.identity == Identity(userID: "user-8", roles: ["admin"]))
    }
}
