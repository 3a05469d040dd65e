import Foundation
import JWTKit

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

/// Why a token (queue pass or access token) was refused.
public enum TokenError: Error, Sendable, Hashable {
    /// Not three base64url parts with a JSON header.
    case malformed
    /// The header's `alg` is not the one pinned for the key (`none`, HS256 confusion included).
    case algorithmNotAllowed(String)
    /// The token is of another kind (an access token offered as a pass, or the reverse).
    case wrongType
    /// The `kid` names no key of the ring.
    case unknownKey
    /// The signature does not verify, or the claims do not decode.
    case invalidSignature
    case expired
    case notYetValid
    /// The token is for another audience (another event) or from another issuer.
    case wrongAudience
    case wrongIssuer
    /// The pass was already used (single-use routes).
    case alreadyUsed

    /// The refusal a jwt-kit error stands for.
    public init(_ error: JWTError) {
        switch error.errorType {
        case .claimVerificationFailure where error.failedClaim is ExpirationClaim: self = .expired
        case .claimVerificationFailure where error.failedClaim is NotBeforeClaim: self = .notYetValid
        default: self = .invalidSignature
        }
    }
}

/// The fields of a JWT header that are checked before any signature work.
public struct TokenHeader: Decodable, Sendable {
    public var alg: String?
    public var typ: String?
    public var kid: String?

    /// Decodes the header without verifying anything.
    public static func decode(_ token: String) throws(TokenError) -> TokenHeader {
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, let data = Data(base64URLEncoded: parts[0]),
              let header = try? JSONDecoder().decode(TokenHeader.self, from: data)
        else { throw .malformed }
        return header
    }
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

extension Data {
    /// Decodes URL-safe base64 with or without padding.
    public init?(base64URLEncoded text: Substring) {
        var base64 = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        base64 += String(repeating: "=", count: (4 - base64.count % 4) % 4)
        self.init(base64Encoded: base64)
    }

    /// URL-safe base64 without padding.
    public func base64URLEncodedString() -> String {
        base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }
}
