import Foundation
import JWTKit

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
