import Foundation
import JWTKit

/// The claims of a queue pass: an ES256 JWT proving its holder was admitted to an event.
///
/// The header's `typ` is `queue-pass+jwt` and the `token_use` claim is `queue_pass`, so a pass
/// can never be taken for an access token, nor an access token for a pass.
public struct QueuePassClaims: JWTPayload, Sendable, Equatable {
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
}

/// Why a queue pass was refused.
public enum QueuePassError: Error, Sendable, Hashable {
    /// Not three base64url parts with a JSON header.
    case malformed
    /// The header's `alg` is not ES256 (`none`, HS256 and RS256 included).
    case algorithmNotAllowed(String)
    /// The header's `typ` is not `queue-pass+jwt` (an access token, say).
    case wrongType
    /// The `kid` names no key of the ring.
    case unknownKey
    /// The signature does not verify, or the claims do not decode.
    case invalidSignature
    case expired
    case notYetValid
    /// The pass is for another event, another issuer, or not a pass at all.
    case wrongAudience
    case wrongIssuer
    /// The pass was already used (single-use routes).
    case alreadyUsed
}

/// The fields of a JWT header that are checked before any signature work.
struct PassHeader: Decodable {
    var alg: String?
    var typ: String?
    var kid: String?

    /// Decodes the header without verifying anything.
    static func decode(_ token: String) throws(QueuePassError) -> PassHeader {
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, let data = Data(base64URLEncoded: parts[0]),
              let header = try? JSONDecoder().decode(PassHeader.self, from: data)
        else { throw .malformed }
        return header
    }
}

extension Data {
    init?(base64URLEncoded text: Substring) {
        var base64 = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        base64 += String(repeating: "=", count: (4 - base64.count % 4) % 4)
        self.init(base64Encoded: base64)
    }

    /// URL-safe base64 without padding.
    func base64URLEncodedString() -> String {
        base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }
}
