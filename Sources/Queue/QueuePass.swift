import Foundation
import JWTKit
import Tokens

/// The claims of a queue pass: an ES256 JWT proving its holder was admitted to an event.
///
/// The header's `typ` is `queue-pass+jwt` and the `token_use` claim is `queue_pass`, so a pass
/// can never be taken for an access token, nor an access token for a pass.
public struct QueuePassClaims: ExpiringPayload, Sendable, Equatable {
    public static let type = "queue-pass+jwt"
    public static let use = "queue_pass"

    public var iss: IssuerClaim
    /// The event the pass admits to.
    public var aud: AudienceClaim
    /// The visitor.
    public var sub: SubjectClaim
    /// `<event>.<admission number>`: unique per admission.
    public var jti: IDClaim
    public var iat: IssuedAtClaim
    public var nbf: NotBeforeClaim
    public var exp: ExpirationClaim
    public var tokenUse: String

    enum CodingKeys: String, CodingKey {
        case iss, aud, sub, jti, iat, nbf, exp, tokenUse = "token_use"
    }

    public init(issuer: String, event: String, visitor: String, admission: Int, issuedAt: Date, expiresAt: Date) {
        self.iss = IssuerClaim(value: issuer)
        self.aud = AudienceClaim(value: [event])
        self.sub = SubjectClaim(value: visitor)
        self.jti = IDClaim(value: "\(event).\(admission)")
        self.iat = IssuedAtClaim(value: issuedAt)
        self.nbf = NotBeforeClaim(value: issuedAt.addingTimeInterval(-5))
        self.exp = ExpirationClaim(value: expiresAt)
        self.tokenUse = Self.use
    }

    public func verify(using algorithm: some JWTAlgorithm) async throws {
        try exp.verifyNotExpired()
        try nbf.verifyNotBefore()
    }

    /// The event the pass admits to.
    public var event: String { aud.value.first ?? "" }

    public var expiresAt: Date { exp.value }
}

extension SigningKeyRing {
    /// Signs a queue pass.
    public func sign(_ claims: QueuePassClaims) async throws -> String {
        try await sign(claims, type: QueuePassClaims.type)
    }

    /// Verifies a queue pass for `event`: the token checks, then its use, issuer and audience.
    public func verify(_ token: String, event: String) async throws(TokenError) -> QueuePassClaims {
        try checkPass(try await verify(token, as: QueuePassClaims.self, type: QueuePassClaims.type), event: event)
    }

    /// A queue pass for `event` verified before (see ``cachedVerification(_:as:)``), its claims checked again.
    public func cachedPass(_ token: String, event: String) throws(TokenError) -> QueuePassClaims? {
        guard let claims = cachedVerification(token, as: QueuePassClaims.self) else { return nil }
        return try checkPass(claims, event: event)
    }

    private func checkPass(_ claims: QueuePassClaims, event: String) throws(TokenError) -> QueuePassClaims {
        guard claims.tokenUse == QueuePassClaims.use else { throw .wrongType }
        guard claims.iss.value == issuer else { throw .wrongIssuer }
        guard claims.aud.value == [event] else { throw .wrongAudience }
        return claims
    }
}
