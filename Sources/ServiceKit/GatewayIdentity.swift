import Crypto
import Foundation
import HTTPTypes
import Hummingbird

/// The user a request comes from, as the gateway vouches for it in `X-Gateway-User-Id`,
/// `X-Gateway-User-Roles` and `X-Gateway-Signature`.
public struct GatewayIdentity: Sendable, Hashable {
    public var userID: String
    public var roles: Set<String>

    static let userField = HTTPField.Name("X-Gateway-User-Id")!
    static let rolesField = HTTPField.Name("X-Gateway-User-Roles")!
    static let signatureField = HTTPField.Name("X-Gateway-Signature")!
    static let requestIDField = HTTPField.Name("X-Request-Id")!

    /// The verified identity of `request`; 401 when it is missing or its signature does not match
    /// (a request that went around the gateway, or forged fields).
    public static func require(_ request: Request, key: SymmetricKey) throws -> GatewayIdentity {
        guard let userID = request.headers[userField], !userID.isEmpty,
              let signature = request.headers[signatureField],
              let requestID = request.headers[requestIDField]
        else {
            throw ProblemDetails.project(.unauthorized, "identity-required", "Identity required", detail: "This service is reached through the gateway, with an access token.")
        }
        let roles = (request.headers[rolesField] ?? "").split(separator: ",").map(String.init)
        guard GatewaySignature.verify(signature, userID: userID, roles: roles, requestID: requestID, key: key) else {
            throw ProblemDetails.project(.unauthorized, "identity-invalid", "Identity invalid", detail: "The gateway's signature on the identity does not verify.")
        }
        return GatewayIdentity(userID: userID, roles: Set(roles))
    }

    public init(userID: String, roles: Set<String>) {
        self.userID = userID
        self.roles = roles
    }

    /// The fields that vouch for this identity to another service, signed with `key` under a
    /// new request id: what a service sends when it calls another on a user's behalf.
    public func signedFields(key: SymmetricKey) -> [(name: String, value: String)] {
        let requestID = UUID().uuidString
        let roles = self.roles.sorted()
        return [
            (Self.userField.rawName, userID), (Self.rolesField.rawName, roles.joined(separator: ",")), (Self.requestIDField.rawName, requestID),
            (Self.signatureField.rawName, GatewaySignature.sign(userID: userID, roles: roles, requestID: requestID, key: key)),
        ]
    }

    /// Whether the user holds one of `roles`.
    public func has(anyOf roles: Set<String>) -> Bool { !self.roles.isDisjoint(with: roles) }
}
