import Foundation
import HTTPTypes
import Hummingbird
import JWTKit
import Queue
import ServiceKit
import Tokens

/// The claims of an access token issued by the gateway (RFC 9068 profile: `typ: at+jwt`).
public struct AccessTokenClaims: ExpiringPayload, Sendable, Equatable {
    public static let type = "at+jwt"
    public static let use = "access"

    public var iss: IssuerClaim
    public var aud: AudienceClaim
    /// The account id.
    public var sub: SubjectClaim { didSet { identity = Self.identity(sub, roles, email) } }
    public var jti: IDClaim
    public var iat: IssuedAtClaim
    public var exp: ExpirationClaim
    public var roles: [String] { didSet { identity = Self.identity(sub, roles, email) } }
    public var email: String? { didSet { identity = Self.identity(sub, roles, email) } }
    public var tokenUse: String
    /// The identity the claims name, made when they are: a verified token's claims are cached
    /// and serve every request that carries it, which then builds no role set of its own.
    public private(set) var identity: Identity

    enum CodingKeys: String, CodingKey {
        case iss, aud, sub, jti, iat, exp, roles, email, tokenUse = "token_use"
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.iss = try container.decode(IssuerClaim.self, forKey: .iss)
        self.aud = try container.decode(AudienceClaim.self, forKey: .aud)
        self.sub = try container.decode(SubjectClaim.self, forKey: .sub)
        self.jti = try container.decode(IDClaim.self, forKey: .jti)
        self.iat = try container.decode(IssuedAtClaim.self, forKey: .iat)
        self.exp = try container.decode(ExpirationClaim.self, forKey: .exp)
        self.roles = try container.decode([String].self, forKey: .roles)
        self.email = try container.decodeIfPresent(String.self, forKey: .email)
        self.tokenUse = try container.decode(String.self, forKey: .tokenUse)
        self.identity = Self.identity(sub, roles, email)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(iss, forKey: .iss)
        try container.encode(aud, forKey: .aud)
        try container.encode(sub, forKey: .sub)
        try container.encode(jti, forKey: .jti)
        try container.encode(iat, forKey: .iat)
        try container.encode(exp, forKey: .exp)
        try container.encode(roles, forKey: .roles)
        try container.encodeIfPresent(email, forKey: .email)
        try container.encode(tokenUse, forKey: .tokenUse)
    }

    private static func identity(_ subject: SubjectClaim, _ roles: [String], _ email: String?) -> Identity {
        Identity(userID: subject.value, roles: Set(roles), email: email)
    }

    public init(issuer: String, audience: String, userID: String, roles: [String], email: String?, issuedAt: Date, lifetime: TimeInterval) {
        self.iss = IssuerClaim(value: issuer)
        self.aud = AudienceClaim(value: [audience])
        self.sub = SubjectClaim(value: userID)
        self.jti = IDClaim(value: UUID().uuidString)
        self.iat = IssuedAtClaim(value: issuedAt)
        self.exp = ExpirationClaim(value: issuedAt.addingTimeInterval(lifetime))
        self.roles = roles
        self.email = email
        self.tokenUse = Self.use
        self.identity = Self.identity(sub, roles, email)
    }

    public func verify(using algorithm: some JWTAlgorithm) async throws {
        try exp.verifyNotExpired()
    }

    public var expiresAt: Date { exp.value }
}

/// Issues and verifies the gateway's access tokens (ES256, keys shared through Redis), and
/// verifies an external identity provider's tokens when one is configured.
public struct AccessTokens: Sendable {
    public static let audience = "booking-rush"
    public static let lifetime: TimeInterval = 15 * 60

    public let ring: SigningKeyRing
    let external: ExternalTokenVerifier?

    init(ring: SigningKeyRing, external: ExternalTokenVerifier? = nil) {
        self.ring = ring
        self.external = external
    }

    /// A signed access token for an account.
    public func issue(userID: String, roles: [String], email: String?) async throws -> String {
        let claims = AccessTokenClaims(
            issuer: ring.issuer, audience: Self.audience, userID: userID, roles: roles, email: email,
            issuedAt: Date(), lifetime: Self.lifetime
        )
        return try await ring.sign(claims, type: AccessTokenClaims.type)
    }

    /// The identity in a token: type, key, signature, expiry, issuer, audience and use all checked.
    /// Tokens whose `kid` is not the gateway's go to the external provider, when there is one.
    public func verify(_ token: String) async throws(TokenError) -> Identity {
        if let external, let kid = try TokenHeader.decode(token).kid, !ring.knows(kid: kid) {
            return try await external.verify(token)
        }
        return try identity(from: try await ring.verify(token, as: AccessTokenClaims.self, type: AccessTokenClaims.type))
    }

    /// The identity in a token of the gateway's own ring verified before, without signature work;
    /// nil when it must go through ``verify(_:)``.
    func cachedIdentity(_ token: String) throws(TokenError) -> Identity? {
        guard let claims = ring.cachedVerification(token, as: AccessTokenClaims.self) else { return nil }
        return try identity(from: claims)
    }

    private func identity(from claims: AccessTokenClaims) throws(TokenError) -> Identity {
        guard claims.tokenUse == AccessTokenClaims.use else { throw .wrongType }
        guard claims.iss.value == ring.issuer else { throw .wrongIssuer }
        guard claims.aud.value.contains(Self.audience) else { throw .wrongAudience }
        return claims.identity
    }

    /// The bearer token of an `Authorization` value; nil without one, 401 for another scheme.
    static func bearer(_ authorization: String?) throws(AccessTokenRejection) -> String? {
        guard let authorization else { return nil }
        let bytes = authorization.utf8
        if authorization.hasPrefixIgnoringASCIICase("bearer "), let first = bytes.dropFirst(7).first, first != UInt8(ascii: " ") {
            return String(authorization.dropFirst(7))
        }
        let parts = authorization.split(separator: " ", maxSplits: 1)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else { throw AccessTokenRejection(reason: .malformed) }
        return String(parts[1])
    }

    /// The identity of a request: nil without `Authorization`, 401 for a bad or non-Bearer token.
    public func identity(of request: Request) async throws -> Identity? {
        guard let token = try Self.bearer(request.headers.value(of: .authorization)) else { return nil }
        do {
            return try await verify(token)
        } catch {
            throw AccessTokenRejection(reason: error)
        }
    }
}
