import Crypto
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
            throw ProblemDetails(status: .unauthorized, detail: "This service is reached through the gateway, with an access token.")
        }
        let roles = (request.headers[rolesField] ?? "").split(separator: ",").map(String.init)
        guard GatewaySignature.verify(signature, userID: userID, roles: roles, requestID: requestID, key: key) else {
            throw ProblemDetails(status: .unauthorized, detail: "The gateway's signature on the identity does not verify.")
        }
        return GatewayIdentity(userID: userID, roles: Set(roles))
    }

    /// Whether the user holds one of `roles`.
    public func has(anyOf roles: Set<String>) -> Bool { !self.roles.isDisjoint(with: roles) }
}
