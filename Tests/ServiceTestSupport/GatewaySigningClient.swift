import Crypto
import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import ServiceKit

/// A test client that stands where the gateway stands: a request carrying identity fields
/// (``TestIdentity/fields(_:roles:)``) without a signature is signed for the request it is,
/// as the gateway signs proxied requests (service, method, target, body digest); a request
/// that already carries a signature, or no identity, goes out as given.
public struct GatewaySigningClient: TestClientProtocol {
    let base: any TestClientProtocol
    let key: SymmetricKey
    let service: String

    public init(_ base: any TestClientProtocol, secret: [UInt8], service: String) {
        self.base = base
        self.key = SymmetricKey(data: secret)
        self.service = service
    }

    public var port: Int? { base.port }

    public func executeRequest(uri: String, method: HTTPRequest.Method, headers: HTTPFields, body: ByteBuffer?) async throws -> TestResponse {
        try await base.executeRequest(uri: uri, method: method, headers: signed(headers, method: method, uri: uri, body: body), body: body)
    }

    /// `headers` with the identity fields the gateway would send for this request, signed (none
    /// without an identity): the roles go out sorted, as the gateway sends them.
    public func signed(_ headers: HTTPFields, method: HTTPRequest.Method, uri: String, body: ByteBuffer?) -> HTTPFields {
        guard let user = headers[TestIdentity.user], headers[TestIdentity.signature] == nil else { return headers }
        let roles = (headers[TestIdentity.roles] ?? "").split(separator: ",").map(String.init)
        let fields = GatewayIdentity(userID: user, roles: Set(roles)).signedFields(
            key: key, service: service, method: method.rawValue, target: uri,
            bodyDigest: body.map { SignedRequest.digest(of: [$0]) } ?? SignedRequest.emptyBodyDigest,
            requestID: headers[TestIdentity.requestID] ?? UUID().uuidString
        )
        var headers = headers
        for field in fields { headers[HTTPField.Name(field.name)!] = field.value }
        return headers
    }
}

/// Identity fields as the gateway sends them, before their signature.
public enum TestIdentity {
    public static let user = HTTPField.Name("X-Gateway-User-Id")!
    public static let roles = HTTPField.Name("X-Gateway-User-Roles")!
    public static let requestID = HTTPField.Name("X-Request-Id")!
    public static let signature = HTTPField.Name("X-Gateway-Signature")!

    /// `user` with `roles` (sorted, as the gateway sends them) and a JSON content type.
    public static func fields(_ user: String, roles: some Sequence<String>) -> HTTPFields {
        [.contentType: "application/json", Self.user: user, Self.roles: roles.sorted().joined(separator: ",")]
    }
}
