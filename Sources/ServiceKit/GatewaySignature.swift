import Crypto
import Foundation
import NIOCore

/// What the gateway vouches for on one request to one service: who sends it (user id, roles),
/// and exactly which request it is (target service, method, request target, a digest of the
/// body, request id). A signature over all of it cannot be moved to another endpoint, another
/// service, another body or another user.
public struct SignedRequest: Sendable, Hashable {
    /// The service the request is meant for (`booking`, `payments`): the route's `service`.
    public var service: String
    public var method: String
    /// The request target as the service receives it: path and query.
    public var target: String
    /// Hex SHA-256 of the request body (``SignedRequest/emptyBodyDigest`` without one).
    public var bodyDigest: String
    public var userID: String?
    /// The roles, sorted, as sent in `X-Gateway-User-Roles`.
    public var roles: [String]
    public var requestID: String

    public init(service: String, method: String, target: String, bodyDigest: String, userID: String?, roles: [String], requestID: String) {
        self.service = service
        self.method = method
        self.target = target
        self.bodyDigest = bodyDigest
        self.userID = userID
        self.roles = roles
        self.requestID = requestID
    }

    /// The digest of an empty body.
    public static let emptyBodyDigest = SHA256.hash(data: [UInt8]()).hexString

    /// Hex SHA-256 of `body`.
    public static func digest(of body: [UInt8]) -> String {
        SHA256.hash(data: body).hexString
    }

    /// Hex SHA-256 of a body that arrived in `parts`.
    @inlinable
    public static func digest(of parts: some Sequence<ByteBuffer>) -> String {
        var hasher = SHA256()
        for part in parts { part.withUnsafeReadableBytes { hasher.update(bufferPointer: $0) } }
        return hasher.finalize().hexString
    }

    /// The signed message at `timestamp`: a scheme label, then every field as
    /// `<UTF-8 length>:<bytes>` (timestamp, service, method, target, body digest, user id, roles
    /// joined by commas, request id), so no two different requests share a message.
    func message(timestamp: Int) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(GatewaySignature.label.utf8.count + 176 + target.utf8.count + requestID.utf8.count)
        bytes.append(contentsOf: GatewaySignature.label.utf8)
        bytes.appendDecimal(Int64(DecimalDigits.count(of: Int64(timestamp))))
        bytes.append(UInt8(ascii: ":"))
        bytes.appendDecimal(Int64(timestamp))
        bytes.appendField(service)
        bytes.appendField(method)
        bytes.appendField(target)
        bytes.appendField(bodyDigest)
        bytes.appendField(userID ?? "")
        bytes.appendDecimal(Int64(roles.reduce(max(roles.count - 1, 0)) { $0 + $1.utf8.count }))
        bytes.append(UInt8(ascii: ":"))
        for (index, role) in roles.enumerated() {
            if index > 0 { bytes.append(UInt8(ascii: ",")) }
            bytes.append(contentsOf: role.utf8)
        }
        bytes.appendField(requestID)
        return bytes
    }
}

extension Array<UInt8> {
    /// Appends `field` as `<UTF-8 length>:<bytes>`.
    fileprivate mutating func appendField(_ field: String) {
        appendDecimal(Int64(field.utf8.count))
        append(UInt8(ascii: ":"))
        append(contentsOf: field.utf8)
    }
}

/// `X-Gateway-Signature: t=<unix>,v2=<hex HMAC-SHA256>` over a ``SignedRequest``, so a service
/// reached around the gateway can tell forged identity fields from real ones, and a signature
/// seen once cannot be replayed on another endpoint or later than ``tolerance``.
public enum GatewaySignature {
    /// How far a signature's timestamp may be from now: short, as a replay window.
    public static let tolerance: TimeInterval = 60
    /// The signature's name in the header.
    public static let scheme = "v2"
    static let label = "booking-rush-gateway-v2\n"

    /// The secret used when `INTERNAL_SECRET` is not set: for local development only.
    public static let developmentSecret = Array("booking-rush-development-internal-secret".utf8)

    /// The header value signing `request`.
    public static func sign(_ request: SignedRequest, key: SymmetricKey, now: Date = Date()) -> String {
        TimestampedSignature.sign(key: key, scheme: scheme, now: now) { Data(request.message(timestamp: $0)) }
    }

    /// Whether `header` signs exactly `request`, within the time tolerance (constant-time compare).
    public static func verify(_ header: String, _ request: SignedRequest, key: SymmetricKey, now: Date = Date()) -> Bool {
        TimestampedSignature.verify(header, key: key, scheme: scheme, tolerance: tolerance, now: now) { Data(request.message(timestamp: $0)) }
    }
}

/// Signs and checks requests for one key with the key schedule done once (the gateway signs
/// every proxied request, a service checks every one it gets); the header is the one
/// ``GatewaySignature/sign(_:key:now:)`` makes and ``GatewaySignature/verify(_:_:key:now:)`` checks.
public struct GatewaySigner: Sendable {
    private let prepared: SHA256HMAC

    public init(key: SymmetricKey) {
        self.prepared = SHA256HMAC(key: key)
    }

    /// The header value for `request` at `timestamp` (Unix seconds).
    public func sign(_ request: SignedRequest, timestamp: Int = Int(Date().timeIntervalSince1970)) -> String {
        let mac = request.message(timestamp: timestamp).withUnsafeBytes { prepared.code(of: $0) }
        var header: [UInt8] = []
        header.reserveCapacity(96)
        header.append(contentsOf: "t=".utf8)
        header.appendDecimal(Int64(timestamp))
        header.append(UInt8(ascii: ","))
        header.append(contentsOf: GatewaySignature.scheme.utf8)
        header.append(UInt8(ascii: "="))
        mac.withUnsafeBytes { header.appendHex(of: $0) }
        return String(decoding: header, as: UTF8.self)
    }

    /// Whether `header` signs exactly `request`, its `t` within ``GatewaySignature/tolerance``
    /// of `now` (several `v2=` entries may stand in it; any one that matches counts; the MACs
    /// are compared in constant time).
    public func verify(_ header: String, _ request: SignedRequest, now: Date = Date()) -> Bool {
        guard let entries = TimestampedSignature.entries(
            of: header, scheme: GatewaySignature.scheme, tolerance: GatewaySignature.tolerance, now: now
        ) else { return false }
        let expected = request.message(timestamp: entries.timestamp).withUnsafeBytes { prepared.code(of: $0) }
        return entries.codes.contains { expected.isCode($0) }
    }
}
