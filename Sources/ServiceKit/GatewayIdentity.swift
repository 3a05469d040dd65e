import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import NIOHTTP1

/// The user a request comes from, as the gateway vouches for it in `X-Gateway-User-Id`,
/// `X-Gateway-User-Roles` and `X-Gateway-Signature` (see ``GatewayIdentityMiddleware``).
public struct GatewayIdentity: Sendable, Hashable {
    public var userID: String
    public var roles: Set<String>

    static let userField = HTTPField.Name("X-Gateway-User-Id")!
    static let rolesField = HTTPField.Name("X-Gateway-User-Roles")!
    static let signatureField = HTTPField.Name("X-Gateway-Signature")!
    static let requestIDField = HTTPField.Name("X-Request-Id")!

    /// The identity `request` carries, its signature checked against the request as this
    /// `service` received it (method, target, `body`); nil when it carries none, 401 when the
    /// signature is missing, stale or does not match (a request that went around the gateway,
    /// forged fields, or a signature replayed on another request).
    /// `signer` holds the key with its schedule done once.
    public static func verified(_ request: Request, body: ByteBuffer, service: String, signer: GatewaySigner, now: Date = Date()) throws -> GatewayIdentity? {
        try verified(request.head, body: body, service: service, signer: signer, now: now)
    }

    /// The identity a request with `head` and `body` carries, checked as ``verified(_:body:service:signer:now:)``
    /// checks a router's request.
    public static func verified(_ head: HTTPRequest, body: ByteBuffer, service: String, signer: GatewaySigner, now: Date = Date()) throws -> GatewayIdentity? {
        let fields = head.headerFields
        return try verified(method: head.method.rawValue, target: head.path ?? "", body: body, service: service, signer: signer, now: now) {
            fields.value(of: $0)
        }
    }

    /// The identity a request with NIO's `head` and `body` carries (a ``FastRoute``'s request),
    /// checked as ``verified(_:body:service:signer:now:)`` checks a router's request.
    public static func verified(_ head: HTTPRequestHead, body: ByteBuffer, service: String, signer: GatewaySigner, now: Date = Date()) throws -> GatewayIdentity? {
        try verified(method: head.method.rawValue, target: head.uri, body: body, service: service, signer: signer, now: now) {
            head.headers.value(of: $0.rawName)
        }
    }

    private static func verified(
        method: String, target: String, body: ByteBuffer, service: String, signer: GatewaySigner, now: Date, field: (HTTPField.Name) -> String?
    ) throws -> GatewayIdentity? {
        guard let userID = field(userField), !userID.isEmpty else { return nil }
        guard let signature = field(signatureField), let requestID = field(requestIDField) else {
            throw invalid
        }
        let roles = (field(rolesField) ?? "").split(separator: ",").map(String.init)
        let signed = SignedRequest(
            service: service, method: method, target: target,
            bodyDigest: SignedRequest.digest(of: CollectionOfOne(body)), userID: userID, roles: roles, requestID: requestID
        )
        guard signer.verify(signature, signed, now: now) else { throw invalid }
        return GatewayIdentity(userID: userID, roles: Set(roles))
    }

    static let required = ProblemDetails.project(
        .unauthorized, "identity-required", "Identity required", detail: "This service is reached through the gateway, with an access token."
    )
    static let invalid = ProblemDetails.project(
        .unauthorized, "identity-invalid", "Identity invalid", detail: "The gateway's signature on this request does not verify."
    )

    public init(userID: String, roles: Set<String>) {
        self.userID = userID
        self.roles = roles
    }

    /// The fields that vouch for this identity on one request to another `service` (`method`
    /// on `target`, path and query, with `body`), signed with `key` under a new request id: what
    /// a service sends when it calls another on a user's behalf.
    public func signedFields(
        key: SymmetricKey, service: String, method: String, target: String, body: [UInt8] = []
    ) -> [(name: String, value: String)] {
        signedFields(key: key, service: service, method: method, target: target, bodyDigest: SignedRequest.digest(of: body), requestID: UUID().uuidString)
    }

    /// The fields that vouch for this identity on the request `requestID` to `service`, whose
    /// body has the digest `bodyDigest` (`SignedRequest.digest(of:)`): the
    /// user, the roles sorted, the request id and the signature.
    public func signedFields(
        key: SymmetricKey, service: String, method: String, target: String, bodyDigest: String, requestID: String
    ) -> [(name: String, value: String)] {
        let roles = self.roles.sorted()
        let signed = SignedRequest(service: service, method: method, target: target, bodyDigest: bodyDigest, userID: userID, roles: roles, requestID: requestID)
        return [
            (Self.userField.rawName, userID), (Self.rolesField.rawName, roles.joined(separator: ",")), (Self.requestIDField.rawName, requestID),
            (Self.signatureField.rawName, GatewaySignature.sign(signed, key: key)),
        ]
    }

    /// Whether the user holds one of `roles`.
    public func has(anyOf roles: Set<String>) -> Bool { !self.roles.isDisjoint(with: roles) }
}
